import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// `mixtureSampling: onePerRow` against `everyComponent`: the same bound in expectation (Monte Carlo over
/// epochs, which re-key every draw), for MoPoE, MoE and a learnt mixture head under the ELBO and the masked bound, with rows that
/// miss modalities; its gradients; and a choice of components that depends on the row only.
final class OneComponentPerRowTests: XCTestCase {
    let dims = [5, 4, 3]

    func model(_ aggregator: String, bound: String, sampling: String, components: Int = 1) throws -> AggregatedVAE {
        let config = try ExperimentConfig.parse(
            yaml: """
                seed: 2
                data: {source: npy, views: [a.npy, b.npy, c.npy]}
                model: {type: aggregated, aggregator: \(aggregator), bound: \(bound), mixtureSampling: \(sampling), latent: 2,
                        encoderHidden: [], featureSize: 4, decoderHidden: [], activation: tanh, likelihood: gaussian,
                        mixtureComponents: \(components), poolingSize: 4, aggregatorHidden: [4]}
                training: {epochs: 1, batchSize: 6}
                """)
        // tanh: smooth, so that finite differences see no kink.
        let m = AggregatedVAE(config: config.model, dimensions: dims, seed: 2)
        randomize(m.arena, seed: 11, scale: 0.4)
        return m
    }

    /// Six rows: complete, one missing view, two missing.
    func batch() -> Batch {
        let b = Batch(dimensions: dims, capacity: 6, hasMask: true)
        let observed: [[Float]] = [[1, 1, 1], [1, 1, 1], [1, 0, 1], [0, 1, 1], [1, 0, 0], [1, 1, 0]]
        for s in 0..<3 {
            let x = Matrix.randomNormal(rows: 6, cols: dims[s], seed: 30 + UInt64(s))
            x.storage.withUnsafeBufferPointer { b.views[s].update(from: $0.baseAddress!, count: 6 * dims[s]) }
        }
        for r in 0..<6 {
            b.indices[r] = 100 + r
            for s in 0..<3 { b.mask![r * 3 + s] = observed[r][s] }
        }
        b.setRows(6, epoch: 0)
        return b
    }

    func testOnePerRowEstimatesTheSameBound() throws {
        let b = batch()
        // A sum-pooling head with 3 learnt, unequal mixture weights: there n_r w_c ≠ 1.
        for (aggregator, components) in [("mopoe", 1), ("moe", 1), ("sumPooling", 3)] {
            for bound in ["elbo", "masked"] {
                var stats: [(mean: Double, se: Double)] = []
                for sampling in ["everyComponent", "onePerRow"] {
                    let m = try model(aggregator, bound: bound, sampling: sampling, components: components)
                    let tape = Tape()
                    var sum = 0.0, squares = 0.0
                    let draws = 4000
                    for e in 0..<draws {
                        b.setRows(6, epoch: e)
                        tape.reset()
                        let v = Double(tape.item(try m.loss(b, tape: tape, beta: 1, seed: 3).total))
                        sum += v
                        squares += v * v
                    }
                    let mean = sum / Double(draws)
                    stats.append((mean, ((squares / Double(draws) - mean * mean) / Double(draws)).squareRoot()))
                }
                let se = (stats[0].se * stats[0].se + stats[1].se * stats[1].se).squareRoot()
                XCTAssertEqual(
                    stats[1].mean, stats[0].mean, accuracy: 4 * se,
                    "\(aggregator), \(bound): one per row \(stats[1]) vs every component \(stats[0])")
                // Not the same numbers: fewer draws per step, so a wider spread.
                XCTAssertGreaterThan(stats[1].se, stats[0].se, "\(aggregator), \(bound)")
            }
        }
    }

    /// The reconstruction term is a plain function of the parameters for fixed noise and components, so
    /// finite differences check its gradient. The KL term's gradient is sticking-the-landing's (q's
    /// parameters detached in log q), not the value's derivative: it is checked in expectation instead,
    /// against `everyComponent`'s, over fresh draws.
    func testGradients() throws {
        let b = batch()
        for aggregator in ["mopoe", "moe"] {
            let m = try model(aggregator, bound: "elbo", sampling: "onePerRow")
            try checkArenaGradient(m.arena, tolerance: 2e-2) { tape in try m.loss(b, tape: tape, beta: 1, seed: 5).reconstruction }
        }
        for aggregator in ["mopoe", "moe"] {
            var means: [(mean: [Double], se: [Double])] = []
            for sampling in ["everyComponent", "onePerRow"] {
                let m = try model(aggregator, bound: "elbo", sampling: sampling)
                let n = m.arena.count, draws = 3000
                var sum = [Double](repeating: 0, count: n), squares = sum
                let tape = Tape()
                for e in 0..<draws {
                    b.setRows(6, epoch: e)
                    tape.reset()
                    m.arena.zeroGradients()
                    tape.backward(try m.loss(b, tape: tape, beta: 1, seed: 3).total)
                    for i in 0..<n {
                        let g = Double(m.arena.gradients[i])
                        sum[i] += g
                        squares[i] += g * g
                    }
                }
                let mean = sum.map { $0 / Double(draws) }
                means.append((mean, (0..<n).map { ((squares[$0] / Double(draws) - mean[$0] * mean[$0]) / Double(draws)).squareRoot() }))
            }
            var worst = 0.0
            for i in means[0].mean.indices {
                let se = (means[0].se[i] * means[0].se[i] + means[1].se[i] * means[1].se[i]).squareRoot()
                worst = max(worst, abs(means[1].mean[i] - means[0].mean[i]) / max(se, 1e-9))
            }
            XCTAssertLessThan(worst, 5, "\(aggregator): the largest gap between the two mean gradients, in standard errors")
        }
    }

    /// A rank that holds no row of a batch still records the step (both samplings, mixture posteriors).
    func testARankWithoutRowsRecordsTheStep() throws {
        for aggregator in ["mopoe", "moe"] {
            for sampling in ["everyComponent", "onePerRow"] {
                for bound in ["elbo", "masked", "mixture"] {
                    let m = try model(aggregator, bound: bound, sampling: sampling)
                    let none = Batch(dimensions: dims, capacity: 1, hasMask: true)
                    none.setRows(0, epoch: 0)
                    let tape = Tape()
                    let loss = try m.loss(none, tape: tape, beta: 1, seed: 5)
                    XCTAssertEqual(tape.item(loss.total), 0, "\(aggregator), \(sampling), \(bound)")
                    tape.backward(loss.total)
                }
            }
        }
    }

    /// The component a row samples depends on its global index, not on which rows share its batch.
    func testTheChoiceDependsOnTheRowNotTheBatch() throws {
        let m = try model("mopoe", bound: "elbo", sampling: "onePerRow")
        let whole = batch()
        let tape = Tape()
        let all = try m.loss(whole, tape: tape, beta: 1, seed: 5)
        var perRow: [Float] = []
        for r in 0..<6 {
            let one = Batch(dimensions: dims, capacity: 1, hasMask: true)
            for s in 0..<3 { one.views[s].update(from: whole.views[s] + r * dims[s], count: dims[s]) }
            one.indices[0] = whole.indices[r]
            for s in 0..<3 { one.mask![s] = whole.mask![r * 3 + s] }
            one.setRows(1, epoch: 0)
            let t = Tape()
            perRow.append(t.item(try m.loss(one, tape: t, beta: 1, seed: 5).total))
        }
        XCTAssertEqual(Double(tape.item(all.total)), perRow.reduce(0.0) { $0 + Double($1) }, accuracy: 1e-3)
    }
}
