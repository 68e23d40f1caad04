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

/// JNF on tiny Fashion-MNIST runs: each stage lowers its loss and leaves the earlier stages' parameters
/// alone, Hamiltonian Monte Carlo recovers a known Gaussian product, and imputation and embeddings work
/// for every observed subset.
final class JNFTests: XCTestCase {
    static let yaml = """
        name: jnf-test
        seed: 5
        data: {source: fashion-mnist, imageViews: quadrants, validationSize: 100, trainLimit: 400, testLimit: 50}
        model: {type: jnf, latent: 3, encoderHidden: [24], decoderHidden: [24], jointHidden: [24], flowHidden: [16, 16],
                hmcSteps: 20, leapfrogSteps: 5, hmcStepSize: 0.1}
        training: {batchSize: 40, learningRate: 0.003, validate: false, logEvery: 1000, stages: {joint: {epochs: 3}, unimodal: {epochs: 3}}}
        """

    typealias Run = ModelRun<JNF>

    func testEachStageLowersItsLossAndLeavesTheFrozenPartsAlone() throws {
        for variant in ["plain", "shared"] {
            let overrides =
                variant == "plain"
                ? [] : ["model.variant=shared", "training.stages={joint: {epochs: 3}, projectors: {epochs: 3}, unimodal: {epochs: 3}}"]
            let run = try Run(yaml: Self.yaml, overrides: overrides)
            var summaries: [EpochSummary] = [], frozen: [String: [Float]] = [:]
            let joint = try XCTUnwrap(run.model.arena.range(ofGroups: ["joint"]))
            let projectors = run.model.arena.range(ofGroups: ["projectors"])
            run.trainer.observer = { event in
                switch event {
                case let .epochFinished(s): summaries.append(s)
                case let .stageStarted(_, index, _, _, _, _):
                    if index == 1 { frozen["joint"] = run.values(joint) }
                    if index == 2, let projectors { frozen["projectors"] = run.values(projectors) }
                default: break
                }
            }
            XCTAssertEqual(try run.trainer.run(), .completed)
            let stages = run.model.recipe.map(\.name)
            XCTAssertEqual(summaries.map(\.stage), stages.flatMap { Array(repeating: $0, count: 3) }, variant)
            for (s, name) in stages.enumerated() {
                XCTAssertLessThan(summaries[3 * s + 2].trainLoss, summaries[3 * s].trainLoss, "\(variant): stage \(name) lowers its loss")
            }
            XCTAssertEqual(run.values(joint), frozen["joint"], "\(variant): the joint model moved after its stage")
            if let projectors {
                XCTAssertEqual(run.values(projectors), frozen["projectors"], "the projectors moved after their stage")
                // Deep CCA of four quadrants: Σ over 6 pairs of Σρ² ≤ 3 each; the halves correlate.
                XCTAssertLessThan(summaries[5].trainLoss, -1)
            }
            XCTAssertTrue(run.all.allSatisfy(\.isFinite))
        }
    }

    /// With every flow the identity (as trained flows start), q_j = N(μ_j, σ_j²) and the subset target
    /// Π q_j / p^{|S|−1} is the Gaussian of precision Σ_j σ_j⁻² − (|S| − 1) and mean (Σ_j μ_j/σ_j²) / precision.
    func testHamiltonianMonteCarloRecoversTheGaussianProduct() throws {
        let run = try Run(yaml: Self.yaml)
        let inference = JNFInference(model: run.model)
        let n = 1500, d = 3
        let means: [[Float]] = [[0.5, -1, 0.2], [1.5, 0, -0.4], [-0.5, 0.3, 0.9]],
            variances: [[Float]] = [[0.5, 0.25, 1], [0.4, 0.5, 0.2], [0.6, 0.3, 0.5]]
        var bases: [Int: (mean: Matrix, logVar: Matrix)] = [:]
        for j in 0..<3 {
            bases[j] = (
                Matrix(rows: n, cols: d, (0..<n).flatMap { _ in means[j] }),
                Matrix(rows: n, cols: d, (0..<n).flatMap { _ in variances[j].map { Foundation.log($0) } })
            )
        }
        let noise = EvaluationNoise(seed: 9, indices: Array(0..<n))
        // A trajectory of ε·L = 0.5: well short of half a period π/ω (ω = √precision ≤ 2.8 here), where
        // leapfrog would map z to its mirror image whatever the momentum and the chains would not mix.
        let sampler = HamiltonianMonteCarlo(steps: 60, leapfrogSteps: 5, stepSize: 0.1)
        let chains = try sampler.run(from: Matrix(rows: n, cols: d), target: inference.subsetTarget(bases: bases), noise: noise, stream: 1)
        XCTAssertGreaterThan(chains.acceptanceRate, 0.5)
        XCTAssertLessThanOrEqual(chains.acceptanceRate, 1)
        for c in 0..<d {
            let precision = (0..<3).reduce(0.0) { $0 + 1 / Double(variances[$1][c]) } - 2
            let mean = (0..<3).reduce(0.0) { $0 + Double(means[$1][c]) / Double(variances[$1][c]) } / precision
            var m = 0.0, v = 0.0
            for r in 0..<n { m += Double(chains.samples[r, c]) / Double(n) }
            for r in 0..<n { v += pow(Double(chains.samples[r, c]) - m, 2) / Double(n) }
            // 1500 chains: the mean's error ~ 0.03 σ; the variance's ~ 4 %.
            XCTAssertEqual(m, mean, accuracy: 0.08 * (1 / precision).squareRoot() + 0.01, "coordinate \(c): mean")
            XCTAssertEqual(v, 1 / precision, accuracy: 0.12 / precision, "coordinate \(c): variance")
        }
    }

    func testImputesAndEmbedsFromEverySubset() throws {
        let run = try Run(yaml: Self.yaml, overrides: ["training.stages={joint: {epochs: 1}, unimodal: {epochs: 1}}"])
        XCTAssertEqual(try run.trainer.run(), .completed)
        let rows = DataSubset(dataset: run.data.test.dataset, indices: Array(run.data.test.indices.prefix(6)))
        let x = (0..<4).map { rows.matrix(view: $0) }
        for observed in [[0], [1, 2], [0, 1, 3]] {
            let imputer = JNFImputer(model: run.model)
            let given = Dictionary(uniqueKeysWithValues: observed.map { ($0, x[$0]) })
            let missing = (0..<4).filter { !observed.contains($0) }
            let truth = Dictionary(uniqueKeysWithValues: missing.map { ($0, x[$0]) })
            let results = try imputer.impute(observed: given, samples: 3, seed: 2, truth: truth)
            XCTAssertEqual(results.map(\.modality), missing)
            for r in results {
                XCTAssertEqual(r.draws.count, 3)
                XCTAssertTrue(r.mean.storage.allSatisfy { $0 >= 0 && $0 <= 1 }, "Bernoulli means are probabilities")
                XCTAssertTrue(r.deviation.storage.contains { $0 > 0 }, "independent draws differ")
                XCTAssertTrue(r.predictiveNLL!.allSatisfy(\.isFinite))
            }
            XCTAssertEqual(imputer.report != nil, observed.count >= 2, "HMC runs for subsets of 2 or more: \(observed)")
            let embedding = try run.model.embed(given, seed: 3)
            XCTAssertEqual(embedding.columns, ["z1", "z2", "z3"])
            XCTAssertEqual(embedding.mean.rows, 6)
            XCTAssertNotNil(embedding.draw)
        }
        let all = try run.model.embed(Dictionary(uniqueKeysWithValues: (0..<4).map { ($0, x[$0]) }), seed: 3)
        XCTAssertNotNil(all.logVariance, "every view observed: the joint encoder's Gaussian")
    }

    func testConfigurationErrorsNameWhatIsWrong() throws {
        func build(_ overrides: [String]) throws {
            let config = try ExperimentConfig.parse(yaml: Self.yaml, overrides: overrides)
            let model = try ModelRegistry.makeModel(config, dimensions: [196, 196, 196, 196])
            _ = try TrainingStage.resolve(model.recipe, arena: model.arena, training: config.training)
        }
        XCTAssertNoThrow(try build(["model.variant=shared"]))
        XCTAssertNoThrow(try build(["model.variant=shared", "training.stages.projectors.epochs=2"]))
        for (override, message) in [
            ("model.flowBlocks=0", "model.flowBlocks"), ("model.flowHidden=[]", "model.flowHidden"),
            ("model.hmcStepSize=0", "model.hmcStepSize"), ("model.variant=both", "plain, shared"),
            ("model.latent=[2, 3]", "one shared latent"), ("model.aggregator=moe", "apply to model.type aggregated only"),
            ("training.stages.projectors.epochs=2", "there is no stage 'projectors'"),
        ] {
            XCTAssertThrowsError(try build([override]), override) { XCTAssertTrue("\($0)".contains(message), "\(override): \($0)") }
        }
    }
}

/// JNF's evaluation: the importance-sampled log-likelihoods bound the ELBO from above and fall with
/// what is left to predict; coherence covers every subset and stays a share.
final class JNFEvaluationTests: XCTestCase {
    func testLogLikelihoodsAndCoherence() throws {
        let run = try ModelRun<JNF>(
            yaml: JNFTests.yaml,
            overrides: [
                "training.stages={joint: {epochs: 2}, unimodal: {epochs: 1}}",
                "evaluation={importanceSamples: 20, classifierEpochs: 3, classifierHidden: [16]}",
            ])
        XCTAssertEqual(try run.trainer.run(), .completed)
        let evaluation = JNFEvaluation(model: run.model, config: run.config.evaluation, seed: 1)
        let test = DataSubset(dataset: run.data.test.dataset, indices: Array(run.data.test.indices.prefix(20)))
        let report = try evaluation.run(train: run.data.train, test: test, coherence: true)
        // log p(x) ≥ the ELBO (importance sampling with q(z|x) as proposal is a tighter bound), both per row.
        let x = (0..<4).map { test.matrix(view: $0) }
        let tape = Tape()
        let q = run.model.encodeJoint(x.map { tape.constant($0) }, tape: tape)
        var elbo = -tape.value(tape.sum(tape.standardNormalKL(q))).storage[0]
        for j in 0..<4 {
            elbo -=
                tape.value(
                    tape.sum(
                        run.model.likelihoods[j].negativeLogLikelihood(
                            output: run.model.decode(j, q.mean, tape: tape),
                            target: tape.constant(x[j]), tape: tape, arena: run.model.arena))
                ).storage[0]
        }
        XCTAssertGreaterThan(report.jointLogLikelihood, Double(elbo) / 20 - 5, "log p(x) vs the ELBO at the posterior mean")
        XCTAssertLessThan(report.jointLogLikelihood, 0)
        XCTAssertEqual(report.conditionalLogLikelihood.count, 14, "every subset of 1…3 of 4 modalities")
        let bySize = report.conditionalLogLikelihoodBySize
        XCTAssertTrue(bySize[0] < bySize[1] && bySize[1] < bySize[2], "less to predict, higher log-likelihood: \(bySize)")
        let coherence = try XCTUnwrap(report.coherence)
        XCTAssertEqual(coherence.conditional.count, 14)
        XCTAssertTrue(coherence.conditional.values.allSatisfy { (0...1).contains($0) })
        XCTAssertTrue((0...1).contains(coherence.joint ?? -1))
        XCTAssertNotNil(report.hmcAcceptanceRate)
        XCTAssertEqual(Coherence.subsets(of: 4, size: 2), [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]])
    }

    /// log p(x_S) for |S| ≥ 2 against quadrature: with a 2-dimensional latent, ∫ p(z) Π_{j∈S} p_j(x_j | z) dz
    /// by the midpoint rule on a grid over where the mass is. The estimator with the proposal fitted to HMC
    /// draws of p(z | x_S) lands on it with 500 draws; with the mixture of the q_j alone it strays further
    /// (its weights vary more).
    func testTheHMCProposalMatchesQuadrature() throws {
        let run = try ModelRun<JNF>(
            yaml: JNFTests.yaml, overrides: ["model.latent=2", "training.stages={joint: {epochs: 6}, unimodal: {epochs: 6}}"])
        XCTAssertEqual(try run.trainer.run(), .completed)
        let rows = 3, subset = [0, 2, 3]
        let test = DataSubset(dataset: run.data.test.dataset, indices: Array(run.data.test.indices.prefix(rows)))
        let x = (0..<4).map { test.matrix(view: $0) }
        func estimate(draws: Int, hmc: Bool) throws -> [Double] {
            var config = run.config.evaluation
            config.importanceSamples = draws
            var evaluation = JNFEvaluation(model: run.model, config: config, seed: 3)
            evaluation.hmcProposal = hmc
            return try evaluation.logMarginal(x, subset: subset)
        }
        let fitted = try estimate(draws: 500, hmc: true), mixture = try estimate(draws: 500, hmc: false)
        let inference = JNFInference(model: run.model)
        var errors = (fitted: 0.0, mixture: 0.0)
        for r in 0..<rows {
            let target = inference.exactPosteriorTarget(
                Dictionary(uniqueKeysWithValues: subset.map { j in (j, repeated(x[j], row: r, times: 200 * 200)) }))
            // A coarse pass over [−10, 10]² finds where the mass is; a fine one over that box integrates it.
            let coarse = try Self.integrate(target, lower: [-10, -10], upper: [10, 10], points: 200)
            let fine = try Self.integrate(target, lower: coarse.box.lower, upper: coarse.box.upper, points: 200)
            XCTAssertEqual(coarse.logIntegral, fine.logIntegral, accuracy: 0.01, "row \(r): the quadrature has converged")
            XCTAssertEqual(fitted[r], fine.logIntegral, accuracy: 0.15, "row \(r): fitted proposal vs quadrature")
            errors.fitted += abs(fitted[r] - fine.logIntegral)
            errors.mixture += abs(mixture[r] - fine.logIntegral)
        }
        // Measured: 0.11 nats in all against 0.88.
        XCTAssertLessThan(errors.fitted, errors.mixture, "the fitted proposal is the closer: \(errors)")
    }

    /// `row` of x repeated `times` times.
    func repeated(_ x: Matrix, row r: Int, times: Int) -> Matrix {
        let d = x.cols
        var m = Matrix(rows: times, cols: d)
        m.storage.withUnsafeMutableBufferPointer { out in
            x.storage.withUnsafeBufferPointer { row in
                for g in 0..<times { (out.baseAddress! + g * d).update(from: row.baseAddress! + r * d, count: d) }
            }
        }
        return m
    }

    /// log ∫ exp(target) over a box by the midpoint rule on points² cells, and the box (padded by two cells)
    /// holding every cell within 40 nats of the largest.
    static func integrate(_ target: HamiltonianMonteCarlo.Target, lower: [Double], upper: [Double], points: Int)
        throws -> (logIntegral: Double, box: (lower: [Double], upper: [Double]))
    {
        let width = (0..<2).map { (upper[$0] - lower[$0]) / Double(points) }
        var grid = Matrix(rows: points * points, cols: 2)
        for a in 0..<points {
            for b in 0..<points {
                grid[a * points + b, 0] = Float(lower[0] + (Double(a) + 0.5) * width[0])
                grid[a * points + b, 1] = Float(lower[1] + (Double(b) + 0.5) * width[1])
            }
        }
        let values = try target(grid).logDensity
        var sum = LogSumExp()
        for v in values { sum.add(Double(v)) }
        let top = Double(values.max()!)
        var low = upper, high = lower
        for g in 0..<grid.rows where Double(values[g]) > top - 40 {
            for a in 0..<2 {
                low[a] = min(low[a], Double(grid[g, a]) - 2 * width[a])
                high[a] = max(high[a], Double(grid[g, a]) + 2 * width[a])
            }
        }
        return (sum.value + Foundation.log(width[0] * width[1]), (low, high))
    }
}
