import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// On a model with linear Gaussian decoders every term of the masked bound has a closed form, and so
/// does its expectation over the hierarchical mask (P(S) = |S|!(K−|S|)!/(K+1)! for ρ ~ U(0, 1)).
/// The trainer's Monte-Carlo loss, averaged over many noise and mask draws, must match it.
final class MaskedBoundTests: XCTestCase {
    let dims = [3, 2, 2]
    let logScale: Float = -0.5

    func model(_ aggregator: String, privateLatent: Int = 0) throws -> AggregatedVAE {
        let config = try ExperimentConfig.parse(
            yaml: """
                model: {type: aggregated, aggregator: \(aggregator), bound: masked, latent: 2, encoderHidden: [], featureSize: 4,
                        poolingSize: 3, aggregatorHidden: [3], activation: tanh, decoderHidden: [], likelihood: gaussian,
                        fixedLogScale: \(logScale),
                        privateLatent: \(privateLatent)}
                data: {source: npy, views: [a.npy, b.npy, c.npy]}
                """
        ).model
        let m = AggregatedVAE(config: config, dimensions: dims, seed: 1)
        randomize(m.arena, seed: 8, scale: 0.4)
        return m
    }

    /// q(z | x_S) for one row, as Double arrays.
    func posterior(_ m: AggregatedVAE, _ x: [Matrix], subset: [Float]) -> (mean: [Double], variance: [Double]) {
        let tape = Tape()
        let h = m.features(x.map { tape.constant($0) }, tape: tape)
        let q = m.aggregator.distribution(
            features: h, mask: tape.constant(Matrix(rows: 1, cols: dims.count, subset)), tape: tape, arena: m.arena
        ).gaussian
        return (tape.value(q.mean).storage.map(Double.init), tape.value(q.logVar).storage.map { exp(Double($0)) })
    }

    /// q(z̃_s | x_s) of every modality for one row (empty without private latents).
    func privatePosteriors(_ m: AggregatedVAE, _ x: [Matrix]) -> [(mean: [Double], variance: [Double])] {
        guard let p = m.privateLatents else { return [] }
        let tape = Tape()
        let h = m.features(x.map { tape.constant($0) }, tape: tape)
        return p.posteriors(h, tape: tape, arena: m.arena).map {
            (tape.value($0.mean).storage.map(Double.init), tape.value($0.logVar).storage.map { exp(Double($0)) })
        }
    }

    /// E_{z ~ N(m, diag v), z̃_s ~ q̃_s}[−log N(x_s; [z, z̃_s] W_s + b_s, σ² I)].
    func expectedNLL(
        _ m: AggregatedVAE, _ s: Int, x: Matrix, q: (mean: [Double], variance: [Double]),
        private qp: (mean: [Double], variance: [Double])? = nil
    ) -> Double {
        let joint = qp.map { (mean: q.mean + $0.mean, variance: q.variance + $0.variance) } ?? q
        return expectedNLL(m, s, x: x, joint: joint)
    }

    func expectedNLL(_ m: AggregatedVAE, _ s: Int, x: Matrix, joint q: (mean: [Double], variance: [Double])) -> Double {
        let layer = m.decoders[s].mlp.layers[0]
        let w = m.arena.value(layer.weight), b = m.arena.value(layer.bias)
        let sigma2 = exp(2 * Double(logScale))
        var total = 0.0
        for i in 0..<dims[s] {
            var mean = Double(b[0, i]), spread = 0.0
            for j in 0..<q.mean.count {
                mean += q.mean[j] * Double(w[j, i])
                spread += q.variance[j] * Double(w[j, i]) * Double(w[j, i])
            }
            let r = Double(x[0, i]) - mean
            total += 0.5 * log(2 * Double.pi) + Double(logScale) + (r * r + spread) / (2 * sigma2)
        }
        return total
    }

    func kl(_ q: (mean: [Double], variance: [Double]), _ p: (mean: [Double], variance: [Double])) -> Double {
        var s = 0.0
        for j in 0..<q.mean.count {
            let d = q.mean[j] - p.mean[j]
            s += log(p.variance[j] / q.variance[j]) + (q.variance[j] + d * d) / p.variance[j] - 1
        }
        return 0.5 * s
    }

    func factorial(_ n: Int) -> Double { n < 2 ? 1 : Double(n) * factorial(n - 1) }

    func testMonteCarloLossMatchesTheClosedFormExpectation() throws {
        for (aggregator, privateLatent) in [("poe", 0), ("sumPooling", 0), ("poe", 1), ("sumPooling", 2)] {
            let m = try model(aggregator, privateLatent: privateLatent)
            let qp = privatePosteriors(m, dims.enumerated().map { s, d in uniform(1, d, seed: 50 + UInt64(s), -2, 2) })
            let x = dims.enumerated().map { s, d in uniform(1, d, seed: 50 + UInt64(s), -2, 2) }
            let k = dims.count
            // Exact: Σ_S P(S) [Σ_{s∈S} E_{q_S} NLL_s + Σ_{s∉S} E_{q_M} NLL_s + KL(q_S ‖ p) + KL(q_M ‖ q_S)].
            let all = [Float](repeating: 1, count: k)
            let qM = posterior(m, x, subset: all)
            let prior = (mean: [Double](repeating: 0, count: 2), variance: [Double](repeating: 1, count: 2))
            var exact = 0.0
            for bits in 0..<(1 << k) {
                let subset = (0..<k).map { Float((bits >> $0) & 1) }
                let size = subset.filter { $0 == 1 }.count
                let p = factorial(size) * factorial(k - size) / factorial(k + 1)
                let qS = posterior(m, x, subset: subset)
                var term = kl(qS, prior) + kl(qM, qS)
                for s in 0..<k { term += expectedNLL(m, s, x: x[s], q: subset[s] == 1 ? qS : qM, private: qp.isEmpty ? nil : qp[s]) }
                // Each modality's private latent enters once, with its KL to N(0, I).
                for q in qp {
                    term += kl(
                        q, (mean: [Double](repeating: 0, count: q.mean.count), variance: [Double](repeating: 1, count: q.mean.count)))
                }
                exact += p * term
            }
            // Monte Carlo: the trainer's loss on this row with fresh noise and mask each "epoch".
            let batch = Batch(dimensions: dims, capacity: 1, hasMask: false)
            for s in 0..<k { x[s].storage.withUnsafeBufferPointer { batch.views[s].update(from: $0.baseAddress!, count: dims[s]) } }
            batch.indices[0] = 7
            let tape = Tape()
            var sum = 0.0, sumSq = 0.0
            let draws = 4000
            for e in 0..<draws {
                batch.setRows(1, epoch: e)
                tape.reset()
                let v = Double(tape.item(try m.loss(batch, tape: tape, beta: 1, seed: 3).total))
                sum += v
                sumSq += v * v
            }
            let mc = sum / Double(draws)
            let se = ((sumSq / Double(draws) - mc * mc) / Double(draws)).squareRoot()
            XCTAssertEqual(
                mc, exact, accuracy: 4 * se, "\(aggregator), private \(privateLatent): Monte Carlo \(mc) ± \(se) vs closed form \(exact)")
        }
    }
}

final class MaskSamplerTests: XCTestCase {
    /// ρ ~ U(0, 1), m_s ~ Bernoulli(ρ): a given subset of size j out of K has probability j!(K−j)!/(K+1)!,
    /// and unobserved modalities are never drawn.
    func testSubsetFrequenciesFollowTheHierarchicalMask() {
        let k = 3, rows = 60_000
        let batch = Batch(dimensions: [1, 1, 1], capacity: rows, hasMask: true)
        for r in 0..<rows {
            batch.indices[r] = r
            for s in 0..<k { batch.mask![r * k + s] = 1 }
        }
        batch.mask![2] = 0  // row 0 lacks modality 2
        batch.setRows(rows, epoch: 0)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: rows * k)
        defer { out.deallocate() }
        MaskSampler.fill(out, batch: batch, seed: 1)
        XCTAssertEqual(out[2], 0, "an unobserved modality is never in S")
        var counts = [Int](repeating: 0, count: 1 << k)
        for r in 1..<rows {
            var bits = 0
            for s in 0..<k where out[r * k + s] == 1 { bits |= 1 << s }
            counts[bits] += 1
        }
        func factorial(_ n: Int) -> Double { n < 2 ? 1 : Double(n) * factorial(n - 1) }
        for bits in 0..<(1 << k) {
            let j = (0..<k).filter { (bits >> $0) & 1 == 1 }.count
            let p = factorial(j) * factorial(k - j) / factorial(k + 1)
            let freq = Double(counts[bits]) / Double(rows - 1)
            XCTAssertEqual(freq, p, accuracy: 4 * (p * (1 - p) / Double(rows)).squareRoot(), "subset \(bits)")
        }
    }
}
