import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// CoVAE with K = 3 modalities (and two of unequal latent sizes): the block prior keeps unit diagonal blocks and stays positive definite
/// (learnt or set by pre-training), its gradient is right, the prior conditional for any observed subset
/// has the closed form of Gaussian conditioning, and imputation works from every proper subset.
final class CoVAEManyModalitiesTests: XCTestCase {
    static let yaml = """
        name: covae-three
        seed: 6
        data: {source: linear-gaussian, modalities: 3, latentDimension: 2, dimensions: [8, 9, 10], samples: 700, dataSeed: 3,
               noiseVariance: 0.1}
        model: {type: covae, latent: 2, encoderHidden: [16], decoderHidden: [16], jointHidden: [24], likelihood: gaussian}
        training: {batchSize: 50, learningRate: 0.003, validate: false, logEvery: 1000, stages: {pretrain: {epochs: 4}, train: {epochs: 3}}}
        """

    typealias Run = ModelRun<CoVAE>

    func testTheBlockPriorHasUnitDiagonalBlocksAndIsPositiveDefinite() throws {
        let arena = ParameterArena()
        let prior = BlockCorrelation("prior", sizes: [2, 2, 2], arena: arena)
        arena.materialize(seed: 1)
        // At zero: Σ = I. Random parameters: still unit diagonal blocks, positive definite.
        for scale: Float in [0, 0.7, 2.5] {
            arena.setValue(prior.factor, Matrix.randomNormal(rows: 1, cols: prior.factor.count, seed: 4, scale: scale))
            let tape = Tape()
            let sigma = DoubleMatrix(tape.value(try prior(tape: tape, arena: arena)))
            for k in 0..<3 {
                for i in 0..<2 {
                    for j in 0..<2 {
                        XCTAssertEqual(sigma[2 * k + i, 2 * k + j], i == j ? 1 : 0, accuracy: 1e-5, "scale \(scale): block \(k)")
                    }
                }
            }
            let eigen = try sigma.symmetricEigen().values
            XCTAssertGreaterThan(eigen.min()!, 0, "scale \(scale): \(eigen)")
            if scale == 0 {
                XCTAssertEqual(sigma.maxAbsDifference(.identity(6)), 0, accuracy: 1e-6)
            } else {
                XCTAssertGreaterThan(sigma.maxAbsDifference(.identity(6)), 0.05, "scale \(scale): correlated")
            }
        }
        // The assignment reproduces a target with unit diagonal blocks (its cross blocks shrunk by 1/(1 + ε)).
        var target = DoubleMatrix.identity(6)
        for (i, j, v) in [(0, 2, 0.6), (1, 4, -0.3), (3, 5, 0.5), (0, 5, 0.2)] { target[i, j] = v; target[j, i] = v }
        arena.setValue(prior.factor, Matrix(rows: 1, cols: prior.factor.count, try prior.assignment(for: target).values))
        let tape = Tape()
        let sigma = DoubleMatrix(tape.value(try prior(tape: tape, arena: arena)))
        XCTAssertEqual(sigma.maxAbsDifference(target), 0, accuracy: 2e-4)
    }

    func testTheBlockPriorsGradientIsRight() throws {
        let arena = ParameterArena()
        let prior = BlockCorrelation("prior", sizes: [2, 1, 3], arena: arena)
        GradientCheck([Matrix.randomNormal(rows: 1, cols: prior.factor.count, seed: 8, scale: 0.4)]).run("block correlation") { t, v in
            try prior.covariance(v[0], tape: t)
        }
    }

    func testPretrainingSetsThePriorToTheWhitenedMeansCovariance() throws {
        // Every recipe of the prior: frozen or learnt after deep CCA, frozen after distance correlation.
        for (recipe, pretraining) in [("canonical", "cca"), ("learnt", "cca"), ("canonical", "distanceCorrelation")] {
            let run = try Run(yaml: Self.yaml, overrides: ["model.priorCorrelations=\(recipe)", "model.pretraining=\(pretraining)"])
            var boundary: (means: [Matrix], sigma: DoubleMatrix)?
            run.trainer.observer = { event in
                guard case .stageStarted(_, 1, _, _, _, _) = event else { return }
                let tape = Tape()
                let means = (0..<3).map { k in
                    tape.value(run.model.encode(k, tape.constant(run.data.train.matrix(view: k)), tape: tape).mean)
                }
                do { boundary = (means, try run.model.priorCovarianceValue()) } catch { XCTFail("prior at the boundary: \(error)") }
            }
            XCTAssertEqual(try run.trainer.run(), .completed)
            let (means, sigma) = try XCTUnwrap(boundary, "\(recipe): stage 2 started")
            let n = Double(means[0].rows)
            func moment(_ a: Int, _ i: Int, _ b: Int, _ j: Int) -> Double {
                var ma = 0.0, mb = 0.0, s = 0.0
                for r in 0..<means[0].rows { ma += Double(means[a][r, i]); mb += Double(means[b][r, j]) }
                ma /= n; mb /= n
                for r in 0..<means[0].rows { s += (Double(means[a][r, i]) - ma) * (Double(means[b][r, j]) - mb) }
                return s / n
            }
            var strongest = 0.0
            for a in 0..<3 {
                for b in 0..<3 {
                    for i in 0..<2 {
                        for j in 0..<2 {
                            // Whitened means: unit covariance per modality; Σ_prior's cross blocks are their cross-covariances.
                            let expected = a == b ? (i == j ? 1 : 0) : sigma[2 * a + i, 2 * b + j]
                            XCTAssertEqual(moment(a, i, b, j), expected, accuracy: 2e-3, "\(recipe): Cov(μ\(a + 1)[\(i)], μ\(b + 1)[\(j)])")
                            if a != b { strongest = max(strongest, abs(expected)) }
                        }
                    }
                }
            }
            XCTAssertGreaterThan(strongest, 0.5, "\(recipe): the modalities share a latent")
            let after = try run.model.priorCovarianceValue()
            XCTAssertGreaterThan(try after.symmetricEigen().values.min()!, 0, "\(recipe): Σ_prior stays positive definite")
            if recipe == "canonical" {
                XCTAssertEqual(after, sigma, "the frozen prior did not move")
            } else {
                XCTAssertGreaterThan(after.maxAbsDifference(sigma), 1e-5, "the learnt prior trains")
            }
        }
    }

    func testTrainingLowersTheLossWithThreeModalities() throws {
        let run = try Run(yaml: Self.yaml, overrides: ["data.missingRate=0.3"])
        var summaries: [EpochSummary] = []
        run.trainer.observer = { if case let .epochFinished(s) = $0 { summaries.append(s) } }
        XCTAssertEqual(try run.trainer.run(), .completed)
        XCTAssertEqual(summaries.map(\.stage), ["pretrain", "pretrain", "pretrain", "pretrain", "train", "train", "train"])
        // Three pairs of two correlations each: −Σρ² reaches below −1.
        XCTAssertLessThan(summaries[3].trainLoss, -1)
        XCTAssertLessThan(summaries[6].trainLoss, summaries[4].trainLoss)
        XCTAssertTrue(run.all.allSatisfy(\.isFinite))
    }

    func testThePriorConditionalOfAnySubsetIsGaussianConditioning() throws {
        let run = try Run(yaml: Self.yaml)
        let m = run.model
        m.arena.setValue(m.blockPrior!.factor, Matrix.randomNormal(rows: 1, cols: m.blockPrior!.factor.count, seed: 12, scale: 0.5))
        let sigma = try m.priorCovarianceValue()
        // Independently: with Λ = Σ⁻¹, z_M | z_O has mean −Λ_MM⁻¹ Λ_MO z_O and covariance Λ_MM⁻¹.
        let precision = try sigma.inverse()
        for observed in [[0], [2], [0, 1], [1, 2], [0, 2]] {
            let (regression, factor, missing) = try CoVAEInference(model: m, seed: 1).conditional(observed: observed)
            let oi = observed.flatMap { [2 * $0, 2 * $0 + 1] }, mi = missing.flatMap { [2 * $0, 2 * $0 + 1] }
            func block(_ a: DoubleMatrix, _ r: [Int], _ c: [Int]) -> DoubleMatrix {
                DoubleMatrix(rows: r.count, cols: c.count, r.flatMap { i in c.map { a[i, $0] } })
            }
            let lmmInverse = try block(precision, mi, mi).inverse()
            let coefficient = lmmInverse.matmul(block(precision, mi, oi))
            for i in 0..<mi.count {
                for j in 0..<oi.count {
                    XCTAssertEqual(Double(regression[i, j]), -coefficient[i, j], accuracy: 1e-4, "\(observed): regression")
                }
                for j in 0..<mi.count {
                    var ffT = 0.0
                    for c in 0..<mi.count { ffT += Double(factor[i, c]) * Double(factor[j, c]) }
                    XCTAssertEqual(ffT, lmmInverse[i, j], accuracy: 1e-4, "\(observed): covariance")
                }
            }
        }
        XCTAssertThrowsError(try CoVAEInference(model: m, seed: 1).conditional(observed: [0, 1, 2]))
        XCTAssertThrowsError(try CoVAEInference(model: m, seed: 1).conditional(observed: []))
    }

    func testEvaluationImputesEachModalityFromTheOthers() throws {
        let run = try Run(yaml: Self.yaml, overrides: ["training.stages.train.epochs=40"])
        XCTAssertEqual(try run.trainer.run(), .completed)
        let report = try CoVAESubsetEvaluation(model: run.model, seed: 1, samples: 20, chunk: 40).run(
            train: run.data.train, test: run.data.test)
        XCTAssertEqual(report.testRows, run.data.test.count)
        for i in 0..<3 {
            XCTAssertEqual(report.priorCorrelations[i][i], 1)
            for j in 0..<3 where j != i {
                XCTAssertEqual(report.priorCorrelations[i][j], report.priorCorrelations[j][i], accuracy: 1e-9)
                XCTAssertGreaterThan(report.priorCorrelations[i][j], 0.3, "views \(i + 1), \(j + 1) share the latent")
            }
        }
        for h in report.leaveOneOut {
            XCTAssertGreaterThan(h.standardDeviation, 0)
            // The modalities share a latent: the others predict the held one better than its training mean.
            XCTAssertLessThan(h.predictiveNLL, h.predictiveNLLTrainingMean, "view \(h.modality)")
            XCTAssertLessThan(
                try XCTUnwrap(h.predictiveNLLRidge), h.predictiveNLLTrainingMean, "linear data: ridge beats the mean, view \(h.modality)")
        }
    }

    func testTwoModalitiesOfUnequalLatentSizesUseTheBlockPrior() throws {
        let run = try Run(
            yaml: Self.yaml,
            overrides: [
                "data.modalities=2", "data.dimensions=[8, 9]", "model.latent=[2, 3]",
                "training.stages.train.epochs=40",
            ])
        XCTAssertNil(run.model.prior)
        XCTAssertEqual(run.model.latents, [2, 3])
        XCTAssertEqual(try run.trainer.run(), .completed)
        let sigma = try run.model.priorCovarianceValue()
        XCTAssertEqual([sigma.rows, sigma.cols], [5, 5])
        for (a, b) in [(0, 0), (1, 1), (2, 2), (4, 4)] { XCTAssertEqual(sigma[a, b], 1, accuracy: 1e-5) }
        XCTAssertEqual(sigma[0, 1], 0, accuracy: 1e-5)
        XCTAssertEqual(sigma[2, 3], 0, accuracy: 1e-5)
        XCTAssertGreaterThan(try sigma.symmetricEigen().values.min()!, 0)
        // The pair statistics and imputation both ways work with d₁ ≠ d₂.
        let report = try GenerationStatistics(model: run.model, seed: 1, samples: 8, importanceSamples: 4).run(
            train: run.data.train, test: run.data.test)
        XCTAssertEqual(report.priorCorrelations.count, 2)
        XCTAssertGreaterThan(report.conditionalCorrelation[0], 0.3)
        XCTAssertTrue(report.jointNLL.isFinite && report.predictiveNLL.allSatisfy(\.isFinite))
        XCTAssertLessThan(report.predictiveNLL[0], report.predictiveNLLTrainingMean[0])
        let rows = DataSubset(dataset: run.data.test.dataset, indices: Array(run.data.test.indices.prefix(5)))
        for k in 0..<2 {
            let r = try CoVAEInference(model: run.model, seed: 2).impute(given: k, observed: rows.matrix(view: k), samples: 4)
            XCTAssertEqual([r.mean.rows, r.mean.cols], [5, run.data.dimensions[1 - k]])
        }
    }

    func testImputationWorksFromEveryProperSubset() throws {
        let run = try Run(yaml: Self.yaml, overrides: ["training.stages.pretrain.epochs=2", "training.stages.train.epochs=1"])
        XCTAssertEqual(try run.trainer.run(), .completed)
        let rows = DataSubset(dataset: run.data.test.dataset, indices: Array(run.data.test.indices.prefix(9)))
        for observed in [[0], [1], [2], [0, 1], [0, 2], [1, 2]] {
            let given = Dictionary(uniqueKeysWithValues: observed.map { ($0, rows.matrix(view: $0)) })
            let result = try CoVAEInference(model: run.model, seed: 2).impute(observed: given, samples: 5)
            XCTAssertEqual(result.map(\.modality), (0..<3).filter { !observed.contains($0) })
            for r in result {
                XCTAssertEqual(r.draws.count, 5)
                XCTAssertEqual([r.mean.rows, r.mean.cols], [9, run.data.dimensions[r.modality]])
                XCTAssertTrue(r.mean.storage.allSatisfy(\.isFinite))
                XCTAssertGreaterThan(r.deviation.storage.reduce(0, +), 0, "\(observed) → \(r.modality): draws differ")
            }
        }
    }
}

extension DoubleMatrix {
    /// A symmetric positive-definite matrix's inverse, by Cholesky.
    func inverse() throws -> DoubleMatrix {
        let l = try cholesky()
        return l.solveLower(l.solveLower(.identity(rows)), transpose: true)
    }
}
