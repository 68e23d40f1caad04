import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// CoVAE's recipe on a tiny Fashion-MNIST top/bottom run: pre-training ends in exact canonical form,
/// Σ_prior is positive definite in both prior recipes, the prior conditional has its closed-form
/// moments, a row with one modality trains that modality's own ELBO, and training lowers the loss.
final class CoVAETests: XCTestCase {
    static let yaml = """
        name: covae-test
        seed: 4
        data: {source: fashion-mnist, imageViews: top-bottom, validationSize: 100, trainLimit: 400, testLimit: 50}
        model: {type: covae, latent: 3, encoderHidden: [24], decoderHidden: [24], jointHidden: [24]}
        training: {batchSize: 40, learningRate: 0.003, validate: false, logEvery: 1000, stages: {pretrain: {epochs: 3}, train: {epochs: 3}}}
        """

    typealias Run = ModelRun<CoVAE>

    func testPretrainingEndsInCanonicalFormAndThePriorStaysPositiveDefinite() throws {
        for recipe in ["canonical", "learnt"] {
            let run = try Run(yaml: Self.yaml, overrides: ["model.priorCorrelations=\(recipe)"])
            var boundary: (means: [[Float]], cross: Matrix)?
            run.trainer.observer = { event in
                guard case .stageStarted(_, 1, _, _, _, _) = event else { return }
                // The folded unimodal means over the training split: unit covariance, cross-covariance diag(ρ) = C.
                let tape = Tape(), rows = run.data.train.count
                let batch = Batch(dimensions: run.data.dimensions, capacity: rows, hasMask: false)
                Array(0..<rows).withUnsafeBufferPointer { p in
                    for k in 0..<2 { run.data.train.gather(view: k, positions: p, into: batch.views[k]) }
                }
                let means = (0..<2).map { k in
                    tape.value(
                        run.model.encode(
                            k,
                            tape.input(rows: rows, cols: run.data.dimensions[k]) {
                                $0.update(from: batch.views[k], count: rows * run.data.dimensions[k])
                            },
                            tape: tape
                        ).mean
                    ).storage
                }
                do { boundary = (means, try run.model.prior!.value(arena: run.model.arena)) } catch {
                    XCTFail("prior at the boundary: \(error)")
                }
            }
            XCTAssertEqual(try run.trainer.run(), .completed)
            let (means, c) = try XCTUnwrap(boundary, "\(recipe): stage 2 started")
            let d = run.model.latent, n = Double(run.data.train.count)
            func moment(_ a: [Float], _ i: Int, _ b: [Float], _ j: Int) -> Double {
                var ma = 0.0, mb = 0.0, s = 0.0
                for r in 0..<Int(n) { ma += Double(a[r * d + i]); mb += Double(b[r * d + j]) }
                ma /= n; mb /= n
                for r in 0..<Int(n) { s += (Double(a[r * d + i]) - ma) * (Double(b[r * d + j]) - mb) }
                return s / n
            }
            for i in 0..<d {
                for j in 0..<d {
                    XCTAssertEqual(moment(means[0], i, means[0], j), i == j ? 1 : 0, accuracy: 2e-3, "\(recipe): Cov(μ₁)[\(i),\(j)]")
                    XCTAssertEqual(moment(means[1], i, means[1], j), i == j ? 1 : 0, accuracy: 2e-3, "\(recipe): Cov(μ₂)[\(i),\(j)]")
                    XCTAssertEqual(
                        moment(means[0], i, means[1], j), Double(c[j, i]), accuracy: 2e-3, "\(recipe): Cov(μ₁, μ₂)[\(i),\(j)] = C")
                }
                XCTAssertGreaterThan(c[i, i], 0.3, "\(recipe): top and bottom halves correlate")
            }
            // Σ_prior is positive definite after both stages, frozen or learnt.
            let eigen = try run.priorCovariance().symmetricEigen().values
            XCTAssertGreaterThan(eigen.min() ?? -1, 0, "\(recipe): Σ_prior eigenvalues \(eigen)")
            let after = try run.model.prior!.value(arena: run.model.arena)
            if recipe == "canonical" {
                XCTAssertEqual(after.storage, c.storage, "the frozen prior did not move in stage 2")
            } else {
                XCTAssertNotEqual(after.storage, c.storage, "the learnt prior trains in stage 2")
            }
        }
    }

    func testTrainingLowersTheLossOfEachStage() throws {
        let run = try Run(yaml: Self.yaml)
        var summaries: [EpochSummary] = []
        run.trainer.observer = { if case let .epochFinished(s) = $0 { summaries.append(s) } }
        XCTAssertEqual(try run.trainer.run(), .completed)
        XCTAssertEqual(summaries.map(\.stage), ["pretrain", "pretrain", "pretrain", "train", "train", "train"])
        // Pre-training maximises Σρ² (at most d = 3): its loss, −Σρ², falls below −1.
        XCTAssertLessThan(summaries[2].trainLoss, summaries[0].trainLoss)
        XCTAssertLessThan(summaries[2].trainLoss, -1)
        XCTAssertGreaterThanOrEqual(summaries[2].trainLoss, -3.001)
        XCTAssertLessThan(summaries[5].trainLoss, summaries[3].trainLoss)
    }

    func testDistanceCorrelationPretrainingAlsoFindsTheHalvesCorrelated() throws {
        let run = try Run(yaml: Self.yaml, overrides: ["model.pretraining=distanceCorrelation", "training.stages.train.epochs=1"])
        var summaries: [EpochSummary] = []
        run.trainer.observer = { if case let .epochFinished(s) = $0 { summaries.append(s) } }
        XCTAssertEqual(try run.trainer.run(), .completed)
        // Its loss, −dCor² (≥ −1), falls; the canonical correlations it leaves set the prior as with deep CCA.
        XCTAssertLessThan(summaries[2].trainLoss, summaries[0].trainLoss)
        XCTAssertGreaterThanOrEqual(summaries[2].trainLoss, -1.001)
        let rho = try run.model.priorCorrelations() ?? []
        XCTAssertGreaterThan(rho.max() ?? 0, 0.5, "\(rho)")
        XCTAssertGreaterThan(try run.priorCovariance().symmetricEigen().values.min()!, 0, "Σ_prior is positive definite")
    }

    func testTrainsWithMissingModalities() throws {
        // 30 % of the views dropped: batches (the last has 10 rows) may hold few or no complete pairs.
        let run = try Run(
            yaml: Self.yaml, overrides: ["data.missingRate=0.3", "training.stages.pretrain.epochs=2", "training.stages.train.epochs=1"])
        XCTAssertEqual(try run.trainer.run(), .completed)
        XCTAssertTrue(run.all.allSatisfy(\.isFinite))
        // Evaluation uses the test rows with both views.
        let report = try GenerationStatistics(model: run.model, seed: 1, samples: 3).run(train: run.data.train, test: run.data.test)
        XCTAssertGreaterThan(report.testRows, 2)
        XCTAssertLessThan(report.testRows, run.data.test.count)
        XCTAssertTrue(report.predictiveNLL.allSatisfy(\.isFinite))
    }

    func testThePriorConditionalHasItsClosedFormMoments() throws {
        let run = try Run(yaml: Self.yaml)
        // A C with σ₁ < 1: C = U diag(tanh(s/2)) Vᵀ from random Cayley parameters.
        guard case let .bounded(u, v, singular) = run.model.prior!.parameterization else { return XCTFail("bounded prior") }
        run.model.arena.setValue(singular, Matrix(rows: 1, cols: 3, [1.6, -0.8, 0.4]))
        run.model.arena.setValue(u.skew, Matrix(rows: 1, cols: 3, [0.3, -0.2, 0.5]))
        run.model.arena.setValue(v.skew, Matrix(rows: 1, cols: 3, [-0.4, 0.1, 0.2]))
        let c = try run.model.prior!.value(arena: run.model.arena)
        let n = 40_000, d = 3
        let given: [Float] = [0.7, -1.2, 0.4]
        for k in 0..<2 {
            let tape = Tape()
            let blocks = try run.model.priorBlocks(tape: tape)
            let zk = tape.constant(Matrix(rows: n, cols: d, (0..<n).flatMap { _ in given }))
            let z = tape.value(
                try run.model.conditionalSample(
                    given: k, zk, noise: tape.constant(Matrix.randomNormal(rows: n, cols: d, seed: 5 + UInt64(k))),
                    blocks: blocks, tape: tape))
            // k = 0: z₂ | z₁ ~ N(C z₁, I − CCᵀ); k = 1: z₁ | z₂ ~ N(Cᵀ z₂, I − CᵀC).
            for i in 0..<d {
                let mean = (0..<d).reduce(0.0) { $0 + Double(k == 0 ? c[i, $1] : c[$1, i]) * Double(given[$1]) }
                var m = 0.0
                for r in 0..<n { m += Double(z[r, i]) }
                m /= Double(n)
                for j in 0..<d {
                    let cc = (0..<d).reduce(0.0) { $0 + Double(k == 0 ? c[i, $1] * c[j, $1] : c[$1, i] * c[$1, j]) }
                    let cov = (i == j ? 1 : 0) - cc
                    var s = 0.0, mj = 0.0
                    for r in 0..<n { mj += Double(z[r, j]) }
                    mj /= Double(n)
                    for r in 0..<n { s += (Double(z[r, i]) - m) * (Double(z[r, j]) - mj) }
                    s /= Double(n)
                    XCTAssertEqual(s, cov, accuracy: 0.02, "given z\(k + 1): covariance [\(i),\(j)]")
                }
                XCTAssertEqual(m, mean, accuracy: 0.02, "given z\(k + 1): mean [\(i)]")
            }
        }
        // The precision block is the inverse of Σ_prior, its log-determinant that of Σ_prior.
        let tape = Tape()
        let blocks = try run.model.priorBlocks(tape: tape)
        var s = Matrix.identity(2 * d)
        for i in 0..<d { for j in 0..<d { s[d + i, j] = c[i, j]; s[j, d + i] = c[i, j] } }
        let product = s.matmul(tape.value(blocks.precision))
        XCTAssertLessThan(product.maxAbsDifference(Matrix.identity(2 * d)), 1e-4)
        XCTAssertEqual(tape.item(blocks.logDet), try s.logDeterminant().logAbs, accuracy: 1e-4)
    }

    func testARowWithOneModalityTrainsThatModalitysOwnELBO() throws {
        let run = try Run(yaml: Self.yaml)
        let m = run.model, d = run.data.dimensions
        let batch = Batch(dimensions: d, capacity: 1, hasMask: true)
        [5].withUnsafeBufferPointer { p in for k in 0..<2 { run.data.train.gather(view: k, positions: p, into: batch.views[k]) } }
        batch.indices[0] = 5
        batch.setRows(1, epoch: 0)
        batch.mask![0] = 1; batch.mask![1] = 0  // modality 2 missing
        let tape = Tape()
        let terms = try m.loss(batch, tape: tape, beta: 1, seed: 2, stage: 1)
        // By hand: λ · [−log p₁(x₁ | z₁) + KL(q₁ ‖ N(0, I))] with z₁ = μ₁ + σ₁ε from the same noise stream.
        let t = Tape()
        let x1 = t.input(rows: 1, cols: d[0]) { $0.update(from: batch.views[0], count: d[0]) }
        let q = m.encode(0, x1, tape: t)
        let eps = t.input(rows: 1, cols: m.latent) { batch.fillNoise($0, view: 4, width: m.latent, seed: 2) }
        let z = t.reparameterize(mean: q.mean, logVar: q.logVar, noise: eps)
        let nll = m.likelihoods[0].negativeLogLikelihood(
            output: m.decoders[0](z, tape: t, arena: m.arena), target: x1, tape: t, arena: m.arena)
        let kl = t.standardNormalKL(q)
        XCTAssertEqual(tape.item(terms.reconstruction), t.item(nll), accuracy: 1e-3 * max(1, abs(t.item(nll))))
        XCTAssertEqual(tape.item(terms.kl), t.item(kl), accuracy: 1e-4)
        // No modality observed: nothing.
        batch.mask![0] = 0
        let none = Tape()
        XCTAssertEqual(none.item(try m.loss(batch, tape: none, beta: 1, seed: 2, stage: 1).total), 0)
    }

    func testConfigurationErrorsNameWhatIsWrong() throws {
        func build(_ overrides: [String]) throws {
            let config = try ExperimentConfig.parse(yaml: Self.yaml, overrides: overrides)
            let model = try ModelRegistry.makeModel(config, dimensions: [392, 392])
            _ = try TrainingStage.resolve(model.recipe, arena: model.arena, training: config.training)
        }
        XCTAssertNoThrow(try build([]))
        for (override, message) in [
            ("model.priorCorrelations=fixed", "model.priorCorrelations"),
            ("model.jitter=0", "model.jitter"), ("model.aggregator=moe", "apply to model.type aggregated only"),
            ("training.stages.joint.epochs=2", "pretrain, train"),
        ] {
            XCTAssertThrowsError(try build([override]), override) { XCTAssertTrue("\($0)".contains(message), "\(override): \($0)") }
        }
        let one = try ExperimentConfig.parse(yaml: "model: {type: covae, latent: 2}\ndata: {source: npy, views: [a.npy, b.npy]}")
        XCTAssertThrowsError(try ModelRegistry.makeModel(one, dimensions: [4])) {
            XCTAssertTrue("\($0)".contains("at least 2 views"), "\($0)")
        }
    }

    func testEvaluationReportsCorrelationsSpreadsAndPredictiveScores() throws {
        let run = try Run(yaml: Self.yaml, overrides: ["data.testLimit=300"])
        XCTAssertEqual(try run.trainer.run(), .completed)
        let report = try GenerationStatistics(model: run.model, seed: 1, samples: 8).run(train: run.data.train, test: run.data.test)
        XCTAssertEqual(report.testRows, 300)
        let prior = report.priorCorrelations.reduce(0, +) / Double(report.priorCorrelations.count)
        for k in 0..<2 {
            // Conditional generation correlates z₁ and z₂ as the prior does (up to sampling: 300 rows).
            XCTAssertEqual(report.conditionalCorrelation[k], prior, accuracy: 0.1, "given view \(k + 1)")
            XCTAssertGreaterThan(report.missingStandardDeviation[k], 0)
            XCTAssertGreaterThan(report.conditioningStandardDeviation[k], 0)
            XCTAssertTrue(report.predictiveNLL[k].isFinite && report.predictiveNLLTrainingMean[k].isFinite)
            XCTAssertTrue(try XCTUnwrap(report.predictiveNLLRidge)[k].isFinite)
        }
        XCTAssertTrue((0...1).contains(report.jointCorrelation))
        // The same numbers whatever the chunking (noise is keyed by test row).
        let again = try GenerationStatistics(model: run.model, seed: 1, samples: 8, chunk: 7).run(
            train: run.data.train, test: run.data.test)
        XCTAssertEqual(again.conditionalCorrelation[0], report.conditionalCorrelation[0], accuracy: 1e-4)
        XCTAssertEqual(again.jointCorrelation, report.jointCorrelation, accuracy: 1e-4)
        XCTAssertEqual(again.predictiveNLL[1], report.predictiveNLL[1], accuracy: 1e-3 * abs(report.predictiveNLL[1]))
        XCTAssertEqual(again.missingStandardDeviation[0], report.missingStandardDeviation[0], accuracy: 1e-5)
    }

    func testConditionalSpreadsMatchTheirClosedForms() throws {
        // Given x_k: z_k ~ N(μ_k, σ_k²) has per-dimension std σ_k; the other latent, C z₁ + (I − CCᵀ)^½ ε
        // (or Cᵀ z₂ + …), has variance Σ_j C_ij² σ_j² + (I − CCᵀ)_ii per dimension i.
        let run = try Run(yaml: Self.yaml, overrides: ["data.testLimit=40"])
        XCTAssertEqual(try run.trainer.run(), .completed)
        let m = run.model, d = m.latent, test = run.data.test
        let report = try GenerationStatistics(model: m, seed: 5, samples: 400, importanceSamples: 1).run(train: run.data.train, test: test)
        let c = try m.prior!.value(arena: m.arena)
        for k in 0..<2 {
            let tape = Tape()
            let q = m.encode(k, tape.constant(test.matrix(view: k)), tape: tape)
            let logVar = tape.value(q.logVar)
            var given = 0.0, other = 0.0
            for r in 0..<test.count {
                for i in 0..<d {
                    given += Foundation.exp(0.5 * Double(logVar[r, i]))
                    var v = 1.0
                    for j in 0..<d {
                        let cij = Double(k == 0 ? c[i, j] : c[j, i])
                        v += cij * cij * (Foundation.exp(Double(logVar[r, j])) - 1)
                    }
                    other += v.squareRoot()
                }
            }
            let cells = Double(test.count * d)
            XCTAssertEqual(
                report.conditioningLatentStandardDeviation[k], given / cells, accuracy: 0.03 * given / cells, "given view \(k + 1)")
            XCTAssertEqual(
                report.missingLatentStandardDeviation[k], other / cells, accuracy: 0.03 * other / cells, "missing, given view \(k + 1)")
        }
    }

    func testImportanceSampledJointNLLIsBoundedByTheNegativeELBO() throws {
        let run = try Run(yaml: Self.yaml, overrides: ["data.testLimit=200"])
        XCTAssertEqual(try run.trainer.run(), .completed)
        func nll(_ n: Int) throws -> Double {
            try GenerationStatistics(model: run.model, seed: 2, samples: 1, importanceSamples: n).run(
                train: run.data.train, test: run.data.test
            ).jointNLL
        }
        // The negative ELBO of Eq. 3 (β = 1, closed-form KL), averaged over the same rows.
        let m = run.model, test = run.data.test
        let tape = Tape()
        let x1 = tape.constant(test.matrix(view: 0)), x2 = tape.constant(test.matrix(view: 1))
        let q = m.encodeJoint(x1, x2, tape: tape)
        let rows = test.count, dd = 2 * m.latent
        let z = q.sample(
            noise: tape.constant(Matrix.randomNormal(rows: rows, cols: dd, seed: 8)),
            jitterNoise: tape.constant(Matrix.randomNormal(rows: rows, cols: dd, seed: 9)), tape: tape)
        let blocks = try m.priorBlocks(tape: tape)
        let recon = tape.add(
            m.likelihoods[0].negativeLogLikelihood(
                output: m.decoders[0](tape.sliceColumns(z, 0, count: m.latent), tape: tape, arena: m.arena), target: x1, tape: tape,
                arena: m.arena),
            m.likelihoods[1].negativeLogLikelihood(
                output: m.decoders[1](tape.sliceColumns(z, m.latent, count: m.latent), tape: tape, arena: m.arena), target: x2, tape: tape,
                arena: m.arena))
        let elbo =
            Double(
                tape.item(
                    tape.sum(tape.add(recon, try q.klDivergence(priorPrecision: blocks.precision, priorLogDet: blocks.logDet, tape: tape))))
            ) / Double(rows)
        let one = try nll(1), many = try nll(40)
        // N = 1 estimates the negative ELBO (Monte Carlo over one draw per row: within 2 %); more draws tighten it.
        XCTAssertEqual(one, elbo, accuracy: 0.02 * elbo, "IS with N = 1 (\(one)) vs the negative ELBO (\(elbo))")
        XCTAssertLessThan(many, one, "N = 40 (\(many)) is a tighter bound than N = 1 (\(one))")
        XCTAssertGreaterThan(many, 0.5 * one)
    }

    func testImputationSpreadFallsAsThePriorCorrelationRises() throws {
        let run = try Run(yaml: Self.yaml)
        XCTAssertEqual(try run.trainer.run(), .completed)
        guard case let .bounded(_, _, singular) = run.model.prior!.parameterization else { return XCTFail("bounded prior") }
        let rows = DataSubset(dataset: run.data.test.dataset, indices: Array(run.data.test.indices.prefix(20)))
        for k in 0..<2 {
            var spreads: [Double] = []
            for rho: Float in [0.01, 0.9, 0.999] {
                run.model.arena.setValue(singular, Matrix(rows: 1, cols: 3, [Float](repeating: 2 * atanh(rho), count: 3)))
                let r = try CoVAEInference(model: run.model, seed: 3).impute(given: k, observed: rows.matrix(view: k), samples: 30)
                XCTAssertEqual(r.draws.count, 30)
                XCTAssertEqual(r.mean.rows, 20)
                XCTAssertEqual(r.mean.cols, run.data.dimensions[1 - k])
                spreads.append(r.deviation.storage.reduce(0.0) { $0 + Double($1) } / Double(r.deviation.count))
            }
            XCTAssertGreaterThan(spreads[0], spreads[1], "given view \(k + 1): spread \(spreads) shrinks with ρ")
            XCTAssertGreaterThan(spreads[1], spreads[2], "given view \(k + 1): spread \(spreads) shrinks with ρ")
        }
    }
}

extension ModelRun where Model == CoVAE {
    /// Σ_prior = [[I, Cᵀ], [C, I]] as a matrix.
    func priorCovariance() throws -> Matrix {
        let d = model.latent
        let c = try model.prior!.value(arena: model.arena)
        var s = Matrix.identity(2 * d)
        for i in 0..<d { for j in 0..<d { s[d + i, j] = c[i, j]; s[j, d + i] = c[i, j] } }
        return s
    }
}
