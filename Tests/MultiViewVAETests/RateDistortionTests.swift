import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The rate–distortion summary against closed forms on a PoE model with linear Gaussian decoders, where
/// q is Gaussian and E_q[log N(x; zW + b, σ²I)] is exact.
final class RateDistortionTests: XCTestCase {
    let dims = [3, 2, 4]
    let logScale: Float = -0.3

    func testMonteCarloTermsMatchTheClosedForms() throws {
        let config = try ExperimentConfig.parse(
            yaml: """
                model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [], featureSize: 4, activation: tanh,
                        decoderHidden: [], likelihood: gaussian, fixedLogScale: \(logScale)}
                data: {source: npy, views: [a.npy, b.npy, c.npy]}
                """)
        let m = AggregatedVAE(config: config.model, dimensions: dims, seed: 1)
        randomize(m.arena, seed: 3, scale: 0.5)
        let views = dims.enumerated().map { s, d in uniform(4, d, seed: 10 + UInt64(s), -2, 2) }
        let got = RateDistortion.measure(m, views: views, draws: 3000, seed: 2)

        // Closed forms, row by row, in Double.
        let tape = Tape()
        let h = m.features(views.map { tape.constant($0) }, tape: tape)
        func q(_ subset: [Float]) -> (mean: Matrix, variance: Matrix) {
            let mask = Matrix((0..<4).map { _ in subset })
            let g = m.aggregator.distribution(features: h, mask: tape.constant(mask), tape: tape, arena: m.arena).gaussian
            var v = tape.value(g.logVar)
            for i in 0..<v.count { v.storage[i] = exp(v.storage[i]) }
            return (tape.value(g.mean), v)
        }
        func expectedLogLikelihood(_ s: Int, _ row: Int, _ p: (mean: Matrix, variance: Matrix)) -> Double {
            let layer = m.decoders[s].mlp.layers[0]
            let w = m.arena.value(layer.weight), b = m.arena.value(layer.bias), sigma2 = exp(2 * Double(logScale))
            var total = 0.0
            for i in 0..<dims[s] {
                var mean = Double(b[0, i]), spread = 0.0
                for j in 0..<2 {
                    mean += Double(p.mean[row, j] * w[j, i])
                    spread += Double(p.variance[row, j]) * Double(w[j, i] * w[j, i])
                }
                let r = Double(views[s][row, i]) - mean
                total -= 0.5 * log(2 * Double.pi) + Double(logScale) + (r * r + spread) / (2 * sigma2)
            }
            return total
        }
        func kl(_ a: (mean: Matrix, variance: Matrix), _ b: (mean: Matrix, variance: Matrix)?, _ row: Int) -> Double {
            (0..<2).reduce(0.0) { acc, j in
                let pm = b.map { Double($0.mean[row, j]) } ?? 0, pv = b.map { Double($0.variance[row, j]) } ?? 1
                let d = Double(a.mean[row, j]) - pm, qv = Double(a.variance[row, j])
                return acc + 0.5 * (log(pv / qv) + (qv + d * d) / pv - 1)
            }
        }
        let full = q([1, 1, 1]), single = (0..<3).map { s in q((0..<3).map { $0 == s ? 1 : 0 }) }
        var expected = RateDistortion(fullReconstruction: 0, fullRate: 0, crossReconstruction: 0, crossRate: 0)
        for row in 0..<4 {
            for s in 0..<3 { expected.fullReconstruction += expectedLogLikelihood(s, row, full) / 4 }
            expected.fullRate += kl(full, nil, row) / 4
            for s in 0..<3 {
                for t in 0..<3 where t != s { expected.crossReconstruction += expectedLogLikelihood(t, row, single[s]) / 12 }
                expected.crossRate += kl(full, single[s], row) / 12
            }
        }
        XCTAssertEqual(got.fullRate, expected.fullRate, accuracy: 1e-4)
        XCTAssertEqual(got.crossRate, expected.crossRate, accuracy: 1e-4)
        XCTAssertEqual(got.fullReconstruction, expected.fullReconstruction, accuracy: 0.02 * abs(expected.fullReconstruction))
        XCTAssertEqual(got.crossReconstruction, expected.crossReconstruction, accuracy: 0.02 * abs(expected.crossReconstruction))
    }
}
