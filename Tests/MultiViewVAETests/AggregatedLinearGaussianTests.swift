import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class AggregatedLinearGaussianTests: XCTestCase {
    func testTrainingClosesTheGapToTheMaximumLikelihood() throws {
        let config = try ExperimentConfig.parse(
            yaml: """
                seed: 1
                data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [6, 5], samples: 800,
                       validationFraction: 0.1, testFraction: 0.1, dataSeed: 3}
                model: {type: aggregated, aggregator: poe, bound: masked, latent: 2, encoderHidden: [32], featureSize: 16,
                        decoderHidden: [], likelihood: gaussian}
                training: {epochs: 30, batchSize: 50, learningRate: 0.01, validate: false}
                """)
        let data = try ExperimentData(config: config.data, seed: config.seed)
        let sim = try XCTUnwrap(data.simulation)
        let model = AggregatedVAE(config: config.model, dimensions: data.dimensions, seed: config.seed)
        let evaluation = AggregatedLinearGaussianEvaluation(model: model)
        let before = try evaluation.run(rows: data.train, trueLatents: sim.latents)
        let trainer = try Trainer(config: config, model: model, train: data.train, validation: nil, comm: LocalCommunicator())
        XCTAssertEqual(try trainer.run(), .completed)
        let after = try evaluation.run(rows: data.train, trueLatents: sim.latents)
        XCTAssertGreaterThanOrEqual(after.relativeGap, -1e-6, "the MLE bounds the model's log-likelihood")
        XCTAssertLessThan(after.relativeGap, before.relativeGap / 4, "gap \(before.relativeGap) → \(after.relativeGap)")
        XCTAssertLessThan(after.relativeGap, 0.05)
        XCTAssertGreaterThan(after.weakMCC, 0.8, "the latents are recovered up to a linear map")
        XCTAssertLessThanOrEqual(after.weakMCC, 1.0001)
    }

    func testNonlinearDecodersAreRejectedWithAClearError() throws {
        let config = try ExperimentConfig.parse(
            yaml: """
                data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [4, 3], samples: 100}
                model: {type: aggregated, latent: 2, decoderHidden: [8], likelihood: gaussian}
                """)
        let data = try ExperimentData(config: config.data, seed: 0)
        let model = AggregatedVAE(config: config.model, dimensions: data.dimensions, seed: 0)
        XCTAssertThrowsError(
            try AggregatedLinearGaussianEvaluation(model: model).run(rows: data.train, trueLatents: data.simulation!.latents)
        ) {
            XCTAssertTrue("\($0)".contains("hidden layers"), "\($0)")
        }
    }
}
