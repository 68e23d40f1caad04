import Foundation
import MVCore

/// The importance sampler's proposal for log p(x_S) under JNF when 2 ≤ |S| ≤ K − 1 (`JNFEvaluation`): per
/// row, a diagonal Gaussian N(m, v) moment-matched to HMC draws of the posterior the estimate integrates,
/// p(z | x_S) ∝ p(z) Π_{j∈S} p_j(x_j | z) through the decoders (`JNFInference.exactPosteriorTarget`) —
/// not π_S ∝ Π q_j / p^{|S|−1}, JNF's approximation of it, which an undertrained q_j can place away from
/// where the decoders put the mass. `chains` independent chains from mixture-of-experts starts each give
/// their states after every transition of their second half.
///
/// The variances are doubled — a proposal narrower than its target gives weights without bound — and
/// floored (a chain that never moved). Only the proposal depends on the chains' randomness, so given it the
/// importance-sampled p(x_S) stays unbiased; the estimator also mixes in the q_j (see `JNFEvaluation`).
struct JNFSubsetProposal {
    static let chains = 2
    static let inflation = 2.0
    static let varianceFloor = 1e-4

    let mean: Matrix
    let logVar: Matrix

    init(inference: JNFInference, observed: [Int: Matrix], bases: [Int: (mean: Matrix, logVar: Matrix)], noise: EvaluationNoise) throws {
        let n = noise.rows, d = inference.model.latent, steps = inference.sampler.steps
        let target = inference.exactPosteriorTarget(observed)
        var sum = [Double](repeating: 0, count: n * d), squares = sum, count = 0
        for c in 0..<Self.chains {
            // Keys 64c + 8 …: clear of `posteriorDraw`'s (64 d, 64 d + 1, 64 d + 2) and of the importance draws'.
            _ = try inference.subsetChains(bases: bases, noise: noise, key: 64 * c + 8, target: target) { step, z in
                guard step >= steps / 2 else { return }
                count += 1
                for q in 0..<(n * d) {
                    let v = Double(z.storage[q])
                    sum[q] += v
                    squares[q] += v * v
                }
            }
        }
        var mean = Matrix(rows: n, cols: d), logVar = Matrix(rows: n, cols: d)
        let c = Double(count)
        for q in 0..<(n * d) {
            let m = sum[q] / c
            mean.storage[q] = Float(m)
            logVar.storage[q] = Float(Foundation.log(max(Self.inflation * max(squares[q] / c - m * m, 0), Self.varianceFloor)))
        }
        self.mean = mean
        self.logVar = logVar
    }
}
