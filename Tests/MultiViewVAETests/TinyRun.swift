import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// A small JPVAE experiment on the first rows of Fashion-MNIST, fast enough for a debug build.
struct TinyRun {
    let config: ExperimentConfig
    let data: ExperimentData
    let model: JPVAE
    let trainer: Trainer

    static let yaml = """
        name: tiny
        seed: 3
        data: {source: fashion-mnist, imageViews: top-bottom, validationSize: 200, trainLimit: 600, testLimit: 300}
        model: {type: jpvae, latent: [6, 6], encoderHidden: [48], decoderHidden: [48]}
        training: {epochs: 3, batchSize: 40, learningRate: 0.003, logEvery: 1000}
        evaluation: {classifierEpochs: 2, classifierHidden: [32]}
        """

    init(_ overrides: [String] = [], comm: Communicator = LocalCommunicator()) throws {
        config = try ExperimentConfig.parse(yaml: Self.yaml, overrides: overrides)
        data = try ExperimentData(config: config.data, seed: config.seed)
        model = JPVAE(config: config.model, dimensions: data.dimensions, seed: config.seed)
        trainer = try Trainer(config: config, model: model, train: data.train, validation: data.validation, comm: comm)
    }

    var parameters: [Float] { Array(UnsafeBufferPointer(start: model.arena.values, count: model.arena.count)) }
}

/// A run of any registered model from YAML: its config, data, model (as `Model`) and a one-process trainer.
struct ModelRun<Model: MultiViewModel> {
    let config: ExperimentConfig
    let data: ExperimentData
    let model: Model
    let trainer: Trainer

    init(yaml: String, overrides: [String] = []) throws {
        config = try ExperimentConfig.parse(yaml: yaml, overrides: overrides)
        data = try ExperimentData(config: config.data, seed: config.seed)
        model = try XCTUnwrap(try ModelRegistry.makeModel(config, dimensions: data.dimensions) as? Model)
        trainer = try Trainer(config: config, model: model, train: data.train, validation: nil, comm: LocalCommunicator())
    }

    /// The arena's values in `range`, all of them, and Adam's moments (m then v).
    func values(_ range: Range<Int>) -> [Float] {
        Array(UnsafeBufferPointer(start: model.arena.values + range.lowerBound, count: range.count))
    }
    var all: [Float] { values(0..<model.arena.count) }
    var moments: [Float] {
        Array(UnsafeBufferPointer(start: trainer.optimizer.m, count: model.arena.count))
            + Array(UnsafeBufferPointer(start: trainer.optimizer.v, count: model.arena.count))
    }
}

/// A fresh temporary folder removed at the end of the test.
func temporaryFolder(_ test: XCTestCase) throws -> String {
    let dir = NSTemporaryDirectory() + "mvvae-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
    return dir
}
