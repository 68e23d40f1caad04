import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The Monte-Carlo KL terms of mixture posteriors (stratified draws, sticking-the-landing): on a 1-d
/// latent, their average over many draws must match the KL computed by quadrature, and so must their
/// average gradient (STL drops only the zero-mean score term, so the estimator stays unbiased).
final class MonteCarloKLTests: XCTestCase {
    /// MoE (weights fixed by the mask) and a 2-component mixture head (learnt weights, whose gradient
    /// reaches the loss through the stratified weighting).
    func model(_ aggregator: String) throws -> AggregatedVAE {
        let config = try ExperimentConfig.parse(
            yaml: """
                model: {type: aggregated, aggregator: \(aggregator), bound: masked, latent: 1, encoderHidden: [], featureSize: 2,
                        decoderHidden: [], likelihood: gaussian, fixedLogScale: 0, poolingSize: 3, aggregatorHidden: [3],
                        activation: tanh, mixtureComponents: \(aggregator == "moe" ? 1 : 2)}
                data: {source: npy, views: [a.npy, b.npy]}
                """
        ).model
        let m = AggregatedVAE(config: config, dimensions: [2, 2], seed: 1)
        randomize(m.arena, seed: 4, scale: 0.8)
        return m
    }

    /// KL(q ‖ p) for 1-d densities given as log-density functions, by the trapezoid rule on [−12, 12].
    func quadratureKL(_ logQ: (Double) -> Double, _ logP: (Double) -> Double) -> Double {
        let n = 48_000, a = -12.0, h = 24.0 / Double(n)
        var total = 0.0
        for i in 0...n {
            let z = a + Double(i) * h, lq = logQ(z)
            let f = exp(lq) * (lq - logP(z))
            total += (i == 0 || i == n ? 0.5 : 1) * (f.isFinite ? f : 0)
        }
        return total * h
    }

    /// The mixture's log-density from its recorded values (row 0), in Double.
    func logDensity(_ tape: Tape, _ q: PosteriorMixture) -> (Double) -> Double {
        let w = q.weights.map { tape.value($0).storage.map(Double.init) } ?? [1]
        let mean = q.components.map { Double(tape.value($0.mean)[0, 0]) }, lv = q.components.map { Double(tape.value($0.logVar)[0, 0]) }
        return { z in
            var s = 0.0
            for c in 0..<mean.count where w[c] > 0 {
                s += w[c] * exp(-0.5 * log(2 * Double.pi) - 0.5 * lv[c] - 0.5 * (z - mean[c]) * (z - mean[c]) / exp(lv[c]))
            }
            return log(s)
        }
    }

    /// Exact KL(q_M ‖ p) with p = N(0, 1) or p = q_S (S = {0}), as a function of the features h.
    func exactKL(_ m: AggregatedVAE, _ h: [Matrix], againstSubset: Bool) -> Double {
        let tape = Tape()
        let hv = h.map { tape.constant($0) }
        let qM = m.aggregator.distribution(features: hv, mask: tape.constant(Matrix([[1, 1]])), tape: tape, arena: m.arena)
        let qS = m.aggregator.distribution(features: hv, mask: tape.constant(Matrix([[1, 0]])), tape: tape, arena: m.arena)
        let standard: (Double) -> Double = { -0.5 * log(2 * Double.pi) - 0.5 * $0 * $0 }
        return quadratureKL(logDensity(tape, qM), againstSubset ? logDensity(tape, qS) : standard)
    }

    func testMonteCarloKLAndItsGradientMatchQuadrature() throws {
        for aggregator in ["moe", "sumPooling"] {
            let m = try model(aggregator)
            let h = [Matrix([[0.7, -0.4]]), Matrix([[-1.1, 0.9]])]
            let batch = Batch(dimensions: [2, 2], capacity: 1, hasMask: false)
            for s in 0..<2 { batch.views[s].update(repeating: 0, count: 2) }
            batch.indices[0] = 3
            for againstSubset in [false, true] {
                let tape = Tape()
                let draws = 10_000
                var sum = 0.0, sumSq = 0.0
                var gradient = [Double](repeating: 0, count: 4), gradientSq = gradient
                for e in 0..<draws {
                    batch.setRows(1, epoch: e)
                    tape.reset()
                    let hv = h.map { tape.variable($0) }
                    let qM = m.aggregator.distribution(features: hv, mask: tape.constant(Matrix([[1, 1]])), tape: tape, arena: m.arena)
                    let qS = m.aggregator.distribution(features: hv, mask: tape.constant(Matrix([[1, 0]])), tape: tape, arena: m.arena)
                    let x = (0..<2).map { _ in tape.constant(Matrix(rows: 1, cols: 2)) }
                    let kl = m.term(
                        qM, slot: 1, x: x, weights: tape.constant(Matrix(rows: 1, cols: 2)), against: againstSubset ? qS : nil,
                        draw: .init(batch: batch, seed: 5), tape: tape
                    ).kl
                    let v = Double(tape.item(kl))
                    sum += v
                    sumSq += v * v
                    tape.backward(kl)
                    for s in 0..<2 {
                        for j in 0..<2 {
                            let g = Double(tape.gradient(hv[s])[0, j])
                            gradient[s * 2 + j] += g / Double(draws)
                            gradientSq[s * 2 + j] += g * g / Double(draws)
                        }
                    }
                }
                let mc = sum / Double(draws), se = ((sumSq / Double(draws) - mc * mc) / Double(draws)).squareRoot()
                let exact = exactKL(m, h, againstSubset: againstSubset)
                let name = aggregator + (againstSubset ? " KL(q_M ‖ q_S)" : " KL(q_M ‖ p)")
                XCTAssertEqual(mc, exact, accuracy: 4 * se + 1e-4, "\(name): Monte Carlo \(mc) ± \(se) vs quadrature \(exact)")
                // Gradient with respect to every feature coordinate, against central differences of the quadrature.
                for i in 0..<4 {
                    var up = h, down = h
                    up[i / 2][0, i % 2] += 1e-3
                    down[i / 2][0, i % 2] -= 1e-3
                    let numeric = (exactKL(m, up, againstSubset: againstSubset) - exactKL(m, down, againstSubset: againstSubset)) / 2e-3
                    let gse = ((gradientSq[i] - gradient[i] * gradient[i]) / Double(draws)).squareRoot()
                    XCTAssertEqual(gradient[i], numeric, accuracy: 4 * gse + 1e-3, "\(name): ∂/∂h[\(i)], standard error \(gse)")
                }
            }
        }
    }
}
