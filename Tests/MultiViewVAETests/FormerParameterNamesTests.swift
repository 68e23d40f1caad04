import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVModels
@testable import MVTraining

/// Every family names its views alike (`view1`, `view2`, …) in checkpoints, and checkpoints written
/// before (by the code of commit 7e2987d, kept under Tests/fixtures/checkpoints-before-view-names/)
/// still load: parameters and Adam's moments, read under their former names.
final class FormerParameterNamesTests: XCTestCase {
    static var fixtures: String {
        ((#filePath as NSString).deletingLastPathComponent as NSString).appendingPathComponent("../fixtures/checkpoints-before-view-names")
    }

    /// Each fixture, with parameters whose former names are written out here by hand.
    static let cases: [(folder: String, pairs: [(now: String, before: String)])] = [
        (
            "poe",
            [
                ("view1.encoder.layer0.weight", "modality0.encoder.layer0.weight"),
                ("view3.likelihood.logScale", "modality2.likelihood.logScale"),
                ("view2.private.weight", "modality1.private.weight"), ("aggregator.view3.expert.bias", "aggregator.expert2.bias"),
            ]
        ),
        (
            "attention",
            [
                ("aggregator.view1.embedding.layer1.weight", "aggregator.embedding0.layer1.weight"),
                ("aggregator.block0.key", "aggregator.block0.key"), ("view2.decoder.layer0.bias", "modality1.decoder.layer0.bias"),
            ]
        ),
        (
            "sumpooling",
            [
                ("aggregator.view2.element.layer0.weight", "aggregator.element1.layer0.weight"),
                ("aggregator.head.layer1.bias", "aggregator.head.layer1.bias"),
            ]
        ),
        (
            "covae",
            [
                ("view1.encoder.layer0.weight", "modality1.encoder.layer0.weight"),
                ("view3.decoder.layer1.bias", "modality3.decoder.layer1.bias"),
                ("prior.factor", "prior.factor"), ("joint.encoder.layer0.weight", "joint.encoder.layer0.weight"),
            ]
        ),
        (
            "jnf",
            [
                ("joint.view2.features.layer0.weight", "joint.modality2.features.layer0.weight"),
                ("projectors.view3.layer1.bias", "projectors.modality3.layer1.bias"),
                ("unimodal.view1.encoder.layer0.weight", "unimodal.modality1.encoder.layer0.weight"),
            ]
        ),
    ]

    func testCheckpointsFromBeforeLoadWithTheirParametersAndMoments() throws {
        for c in Self.cases {
            let path = (Self.fixtures as NSString).appendingPathComponent(c.folder)
            let loaded = try Checkpoint.load(path)
            XCTAssertNil(loaded.state.views, "\(c.folder): written before the views were recorded")
            let config = try ExperimentConfig.parse(yaml: loaded.state.config)
            let data = try ExperimentData(config: config.data, seed: config.seed)
            let model = try ModelRegistry.makeModel(config, dimensions: data.dimensions)
            XCTAssertFalse(model.arena.views.contains { $0.name.contains("modality") }, "\(c.folder): no parameter is named by modality")
            let trainer = try Trainer(config: config, model: model, train: data.train, validation: nil, comm: LocalCommunicator())
            try Checkpoint.restore(loaded, into: trainer)
            XCTAssertEqual(trainer.state.step, loaded.state.training.step)
            let file = loaded.tensors
            for (now, before) in c.pairs {
                let v = try XCTUnwrap(model.arena.views.first { $0.name == now }, "\(c.folder): no parameter \(now)")
                if now != before { XCTAssertNil(file.shape(now), "\(c.folder): the file predates the name \(now)") }
                for (prefix, base) in [("", model.arena.values), ("adam.m.", trainer.optimizer.m), ("adam.v.", trainer.optimizer.v)] {
                    let stored = try file.tensor(prefix + before, expectedShape: [v.rows, v.cols]).values
                    XCTAssertEqual(
                        Array(UnsafeBufferPointer(start: base + v.offset, count: v.count)), stored, "\(c.folder): \(prefix)\(now)")
                }
            }
        }
    }

    func testTheFormerNamesOfEachFamily() {
        XCTAssertEqual(FormerParameterNames.aggregated("view1.encoder.layer0.weight"), "modality0.encoder.layer0.weight")
        XCTAssertEqual(FormerParameterNames.aggregated("view12.private.bias"), "modality11.private.bias")
        XCTAssertEqual(FormerParameterNames.aggregated("aggregator.view2.expert.weight"), "aggregator.expert1.weight")
        XCTAssertEqual(FormerParameterNames.aggregated("aggregator.view1.element.layer0.bias"), "aggregator.element0.layer0.bias")
        XCTAssertNil(FormerParameterNames.aggregated("aggregator.block0.key"))
        XCTAssertNil(FormerParameterNames.aggregated("view0.encoder"), "views count from 1")
        XCTAssertEqual(FormerParameterNames.oneBased("joint.view3.decoder.layer0.bias"), "joint.modality3.decoder.layer0.bias")
        XCTAssertEqual(FormerParameterNames.oneBased("view1.encoder.layer0.weight"), "modality1.encoder.layer0.weight")
        XCTAssertNil(FormerParameterNames.oneBased("joint.encoder.layer0.weight"))
        XCTAssertNil(FormerParameterNames.oneBased("preview1.weight"))
        // A name the file has is read as it is; a former name only where the file lacks the new one.
        let file: Set = ["modality0.w", "adam.m.modality0.w", "view2.w"]
        let has = { (n: String) in file.contains(n) }
        XCTAssertEqual(Checkpoint.storedName("view1.w", has: has, formerName: FormerParameterNames.aggregated), "modality0.w")
        XCTAssertEqual(Checkpoint.storedName("adam.m.view1.w", has: has, formerName: FormerParameterNames.aggregated), "adam.m.modality0.w")
        XCTAssertEqual(Checkpoint.storedName("view2.w", has: has, formerName: FormerParameterNames.aggregated), "view2.w")
        XCTAssertEqual(
            Checkpoint.storedName("view3.w", has: has, formerName: FormerParameterNames.aggregated), "view3.w", "absent: reported by name")
    }
}
