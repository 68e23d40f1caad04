import Foundation
import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The whole evaluation of an aggregated model on a tiny Fashion-MNIST quadrant run with 30 % of the
/// quadrants missing: scores per modality, dropped-quadrant imputation, latent classification, and the
/// cross-generation PNG.
final class AggregatedFashionEvaluationTests: XCTestCase {
    func testTinyQuadrantRunIsEvaluatedAndItsGridIsWritten() throws {
        let config = try ExperimentConfig.parse(
            yaml: """
                seed: 4
                data: {source: fashion-mnist, imageViews: quadrants, binarize: 0.5, missingRate: 0.3, validationSize: 200,
                       trainLimit: 800, testLimit: 120}
                model: {type: aggregated, aggregator: poe, bound: masked, latent: 6, encoderHidden: [48], featureSize: 32,
                        decoderHidden: [48]}
                training: {epochs: 2, batchSize: 50, learningRate: 0.003, validate: false, logEvery: 1000}
                evaluation: {importanceSamples: 8, classifierEpochs: 40, classifierLearningRate: 0.05}
                """)
        let data = try ExperimentData(config: config.data, seed: config.seed)
        let model = AggregatedVAE(config: config.model, dimensions: data.dimensions, seed: config.seed)
        let trainer = try Trainer(config: config, model: model, train: data.train, validation: nil, comm: LocalCommunicator())
        XCTAssertEqual(try trainer.run(), .completed)

        let report = try AggregatedEvaluation(model: model, config: config.evaluation, seed: config.seed)
            .run(train: data.train, test: data.test, unmaskedTest: data.unmaskedTest)
        XCTAssertEqual(report.testRows, 120)
        XCTAssertEqual(report.modalities, ["topLeft", "topRight", "bottomLeft", "bottomRight"])
        XCTAssertTrue(report.logLikelihood.isFinite && report.logLikelihood < 0)
        let missing = try XCTUnwrap(report.missingImputation)
        for s in 0..<4 {
            let observing = data.test.indices.filter { data.test.dataset.isObserved(row: $0, view: s) }
            XCTAssertEqual(report.fullReconstruction[s].rows, observing.count)
            XCTAssertEqual(missing[s].rows, 120 - observing.count, "every dropped quadrant is scored against its hidden pixels")
            XCTAssertGreaterThan(report.conditional[s].rows, 0)
            XCTAssertLessThanOrEqual(report.conditional[s].rows, observing.count)
            let cross = try XCTUnwrap(report.conditional[s].crossReconstruction.mse), full = try XCTUnwrap(report.fullReconstruction[s].mse)
            XCTAssertLessThan(full, cross, "a quadrant is reconstructed better when it is given than when it is generated")
            XCTAssertLessThan(try XCTUnwrap(report.conditional[s].logLikelihood), 0)
        }
        // The linear yardstick on complete rows: one per quadrant, on the rows where no quadrant was dropped.
        let ridge = try XCTUnwrap(report.ridgeCrossReconstruction)
        let complete = data.test.indices.filter { r in (0..<4).allSatisfy { data.test.dataset.isObserved(row: r, view: $0) } }.count
        XCTAssertEqual(ridge.map(\.rows), [Int](repeating: complete, count: 4))
        for b in ridge { XCTAssertTrue(try XCTUnwrap(b.mse) > 0 && XCTUnwrap(b.nll).isFinite, "\(b)") }
        // evaluation.ridge: false leaves the yardstick out and every other number as it was.
        var noRidge = config.evaluation
        noRidge.ridge = false
        let without = try AggregatedEvaluation(model: model, config: noRidge, seed: config.seed)
            .run(train: data.train, test: data.test, unmaskedTest: data.unmaskedTest, classify: false)
        XCTAssertNil(without.ridgeCrossReconstruction)
        XCTAssertEqual(without.logLikelihood, report.logLikelihood)
        XCTAssertEqual(without.conditional.map(\.logLikelihood), report.conditional.map(\.logLikelihood))
        let fit = try XCTUnwrap(report.classifierFit)
        XCTAssertLessThanOrEqual(fit.bestEpoch, fit.epochs)
        XCTAssertGreaterThan(fit.validationRows, 0)
        let accuracy = try XCTUnwrap(report.classificationAccuracy), baseline = try XCTUnwrap(report.classificationBaseline)
        XCTAssertGreaterThan(accuracy, 30, "10 classes: chance is 10 %, the majority class \(baseline) %")
        XCTAssertGreaterThan(accuracy, baseline + 15)
        XCTAssertNoThrow(try JSONEncoder().encode(report))

        let folder = try temporaryFolder(self)
        let layout = try XCTUnwrap(data.imageCut)
        let path = folder + "/grid.png"
        let summary = try CrossGenerationGrid(
            model: model, layout: .init(height: layout.height, width: layout.width, pixels: layout.pixels)
        )
        .write(test: data.test, truth: data.unmaskedTest, images: 4, to: path)
        XCTAssertEqual(summary.missing, 4)
        XCTAssertEqual(summary.heldOut, 4)
        let png = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // 8 triples, 12 cells per grid row: 2 rows of 56-pixel cells with 2-pixel gaps.
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        XCTAssertEqual(width, 12 * 56 + 13 * 2)
        XCTAssertEqual(height, 2 * 56 + 3 * 2)
    }
}
