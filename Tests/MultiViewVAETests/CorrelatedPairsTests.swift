import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// `data.source: correlated` (the CoVAE paper's §3.1): the latents follow Eq. 5, the data is a pure
/// function of the seed, the generator is a trained run's decoders (or a clear refusal), and the
/// generation statistics measure a shared-latent model as they measure CoVAE.
final class CorrelatedPairsTests: XCTestCase {
    func testLatentsFollowEquationFive() throws {
        let n = 20_000, d = 4, rho = 0.6
        let pairs = try CorrelatedPairs(.init(correlation: rho, latentDimension: d, sampleCount: n, seed: 5)) { $0 }
        let (z1, z2) = pairs.latents
        func moment(_ a: Matrix, _ i: Int, _ b: Matrix, _ j: Int) -> Double {
            (0..<n).reduce(0.0) { $0 + Double(a[$1, i]) * Double(b[$1, j]) } / Double(n)
        }
        for i in 0..<d {
            XCTAssertEqual((0..<n).reduce(0.0) { $0 + Double(z2[$1, i]) } / Double(n), 0, accuracy: 0.03, "E[z₂\(i)]")
            XCTAssertEqual(moment(z1, i, z1, i), 1, accuracy: 0.04, "Var z₁\(i)")
            XCTAssertEqual(moment(z2, i, z2, i), 1, accuracy: 0.04, "Var z₂\(i): the marginal stays standard normal")
            for j in 0..<d {
                XCTAssertEqual(moment(z1, i, z2, j), i == j ? rho : 0, accuracy: 0.03, "Cov(z₁\(i), z₂\(j))")
                if i != j { XCTAssertEqual(moment(z2, i, z2, j), 0, accuracy: 0.03, "Cov(z₂\(i), z₂\(j))") }
            }
        }
        XCTAssertEqual(pairs.groundTruthCorrelation, rho, accuracy: 0.02)
        // The views are the generator's output; the first rows do not depend on n; the seed decides.
        XCTAssertEqual(pairs.dataset.names, ["first", "second"])
        let few = try CorrelatedPairs(.init(correlation: rho, latentDimension: d, sampleCount: 50, seed: 5)) { $0 }
        XCTAssertEqual(few.latents.second.storage, Array(z2.storage.prefix(50 * d)))
        let other = try CorrelatedPairs(.init(correlation: rho, latentDimension: d, sampleCount: 50, seed: 6)) { $0 }
        XCTAssertNotEqual(other.latents.first.storage, few.latents.first.storage)
        // ρ = 0: independent halves; out of range refused.
        let zero = try CorrelatedPairs(.init(correlation: 0, latentDimension: d, sampleCount: n, seed: 5)) { $0 }
        XCTAssertLessThan(zero.groundTruthCorrelation, 0.03)
        XCTAssertThrowsError(try CorrelatedPairs(.init(correlation: 1, latentDimension: d, sampleCount: 50)) { $0 })
    }

    /// A tiny generator run: a PoE on Fashion-MNIST halves with a 3-dimensional latent, one epoch, saved.
    func generatorRun(type: String = "aggregated") throws -> String {
        let folder = try temporaryFolder(self) + "/generator"
        let model =
            type == "aggregated"
            ? "{type: aggregated, aggregator: poe, bound: elbo, latent: 3, encoderHidden: [16], featureSize: 16, decoderHidden: [16]}"
            : "{type: jpvae, latent: [3, 3], encoderHidden: [16], decoderHidden: [16]}"
        let config = try ExperimentConfig.parse(
            yaml: """
                seed: 2
                data: {source: fashion-mnist, imageViews: top-bottom, validationSize: 10, trainLimit: 100, testLimit: 10}
                model: \(model)
                training: {epochs: 1, batchSize: 50, logEvery: 1000}
                """)
        let data = try ExperimentData(config: config.data, seed: config.seed)
        let m = try ModelRegistry.makeModel(config, dimensions: data.dimensions)
        let trainer = try Trainer(config: config, model: m, train: data.train, validation: nil, comm: LocalCommunicator())
        XCTAssertEqual(try trainer.run(), .completed)
        try Checkpoint.save(trainer, run: folder, keep: 1)
        return folder
    }

    func correlatedYAML(generator: String, latent: Int = 3, model: String) -> String {
        """
        seed: 1
        data: {source: correlated, generator: \(generator), correlation: 0.8, latentDimension: \(latent), samples: 300}
        model: \(model)
        training: {epochs: 2, batchSize: 40, logEvery: 1000}
        evaluation: {importanceSamples: 5}
        """
    }

    func correlatedConfig(generator: String, latent: Int = 3) throws -> ExperimentConfig {
        try ExperimentConfig.parse(yaml: correlatedYAML(generator: generator, latent: latent, model: "{type: covae, latent: 3}"))
    }

    func testTheGeneratorIsATrainedRunsDecoders() throws {
        let run = try generatorRun()
        let decoder = try TrainedImageDecoder(run: run)
        XCTAssertEqual(decoder.latent, 3)
        let z = Matrix.randomNormal(rows: 7, cols: 3, seed: 1)
        let images = decoder.images(z, chunk: 3)
        XCTAssertEqual(images.cols, 784)
        XCTAssertTrue(images.storage.allSatisfy { $0 >= 0 && $0 <= 1 }, "Bernoulli means are grey levels")
        // Rows 0–13 are the top decoder's output, rows 14–27 the bottom's, at the same z.
        let tape = Tape()
        let bottom = tape.value(
            decoder.model.likelihoods[1].mean(output: decoder.model.decode(1, tape.constant(z), tape: tape), tape: tape))
        for r in 0..<7 { for j in 0..<392 { XCTAssertEqual(images[r, 392 + j], bottom[r, j], accuracy: 1e-6) } }

        // The data set: defaults of the paper (20 % test, no validation), two 784-pixel views, the ground truth.
        let config = try correlatedConfig(generator: run)
        XCTAssertEqual(config.data.testFraction, 0.2)
        XCTAssertEqual(config.data.validationFraction, 0)
        let data = try ExperimentData(config: config.data, seed: config.seed)
        XCTAssertEqual(data.dimensions, [784, 784])
        XCTAssertEqual(data.test.count, 60)
        XCTAssertEqual(data.pairs?.groundTruthCorrelation ?? 0, 0.8, accuracy: 0.1)
    }

    func testABadGeneratorIsRefusedNamingTheRun() throws {
        let missing = NSTemporaryDirectory() + "mvvae-no-such-run-\(UUID().uuidString)"
        XCTAssertThrowsError(try ExperimentData(config: try correlatedConfig(generator: missing).data, seed: 1)) {
            XCTAssertTrue("\($0)".contains(missing) && "\($0)".contains("no checkpoint"), "\($0)")
        }
        let jpvae = try generatorRun(type: "jpvae")
        XCTAssertThrowsError(try TrainedImageDecoder(run: jpvae)) { XCTAssertTrue("\($0)".contains("aggregated model"), "\($0)") }
        let run = try generatorRun()
        XCTAssertThrowsError(try ExperimentData(config: try correlatedConfig(generator: run, latent: 5).data, seed: 1)) {
            XCTAssertTrue("\($0)".contains("latentDimension is 5"), "\($0)")
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "data: {source: correlated}")) {
            XCTAssertTrue("\($0)".contains("data.generator"), "\($0)")
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: "data: {source: correlated, generator: x, correlation: 1.2}")) {
            XCTAssertTrue("\($0)".contains("data.correlation"), "\($0)")
        }
    }

    func testSharedLatentModelsAreMeasuredByTheSameStatistics() throws {
        let generator = try generatorRun()
        for aggregator in ["poe", "moe"] {
            let model =
                "{type: aggregated, aggregator: \(aggregator), bound: \(aggregator == "poe" ? "masked" : "mixture"), latent: 4, "
                + "encoderHidden: [16], featureSize: 16, decoderHidden: [16]}"
            let run = try ModelRun<AggregatedVAE>(yaml: correlatedYAML(generator: generator, model: model))
            XCTAssertEqual(try run.trainer.run(), .completed)
            let report = try GenerationStatistics(model: run.model, seed: 3, samples: 6, importanceSamples: 5).run(
                train: run.data.train, test: run.data.test)
            // One z feeds both decoders: the decoder inputs are perfectly correlated, whatever the data's ρ.
            XCTAssertEqual(report.jointCorrelation, 1, accuracy: 1e-3, aggregator)
            XCTAssertEqual(report.conditionalCorrelation[0], 1, accuracy: 1e-3, aggregator)
            XCTAssertEqual(report.conditionalCorrelation[1], 1, accuracy: 1e-3, aggregator)
            XCTAssertTrue(report.priorCorrelations.isEmpty)
            XCTAssertTrue(
                (report.missingStandardDeviation + report.conditioningStandardDeviation).allSatisfy { $0 > 0 && $0 < 0.5 }, "\(report)")
            // The joint estimate is the aggregated evaluation's importance sampler (log p(x_M), negated).
            let general = try AggregatedEvaluation(model: run.model, config: run.config.evaluation, seed: 3)
                .run(train: run.data.train, test: run.data.test, classify: false)
            XCTAssertEqual(report.jointNLL, -general.logLikelihood, accuracy: 0.05 * abs(general.logLikelihood), aggregator)
            // Chunking does not change the numbers (draws are keyed by row).
            let again = try GenerationStatistics(model: run.model, seed: 3, samples: 6, importanceSamples: 5, chunk: 7).run(
                train: run.data.train, test: run.data.test)
            XCTAssertEqual(again.missingStandardDeviation[1], report.missingStandardDeviation[1], accuracy: 1e-5)
            XCTAssertEqual(again.predictiveNLL[0], report.predictiveNLL[0], accuracy: 1e-4 * abs(report.predictiveNLL[0]))
            XCTAssertEqual(again.jointNLL, report.jointNLL, accuracy: 1e-4 * abs(report.jointNLL))
        }
    }
}
