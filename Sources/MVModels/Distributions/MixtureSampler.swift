import Foundation
import MVCore

/// Ancestral draws from q(z | x_S) = Σ_c w_c N(μ_c, σ_c²), for evaluation and imputation (training uses
/// stratified draws instead, see `AggregatedVAE.term`): per row pick component c with probability w_c,
/// then z = μ_c + σ_c ε. Keyed by (seed, draw, global row index) so a row's draws do not depend on
/// how the rows are batched.
public enum MixtureSampler {
    /// One draw per row as a constant (no gradient) rows × latent node, and the chosen components.
    /// `indices` are the rows' global indices, `draw` numbers independent draws of the same row.
    public static func sample(_ q: PosteriorMixture, tape: Tape, indices: [Int], draw: Int, seed: UInt64) -> (z: Var, components: [Int]) {
        let rows = tape.rows(q.components[0].mean), latent = tape.cols(q.components[0].mean)
        precondition(indices.count == rows, "MixtureSampler: \(indices.count) indices for \(rows) rows")
        let weights = q.weights.map { tape.value($0) }
        let means = q.components.map { tape.value($0.mean) }, logVars = q.components.map { tape.value($0.logVar) }
        var chosen = [Int](repeating: 0, count: rows)
        let z = tape.input(rows: rows, cols: latent) { out in
            for r in 0..<rows {
                var rng = RandomStream(seed: seed, stream: RandomPurpose.evaluation.stream(epoch: draw, index: indices[r]))
                var c = 0
                if let w = weights {
                    let u = rng.nextUniform()
                    var cumulative: Float = 0
                    c = -1
                    for j in 0..<w.cols where w[r, j] > 0 {
                        cumulative += w[r, j]
                        c = j
                        if u < cumulative { break }
                    }
                    precondition(c >= 0, "MixtureSampler: row \(r) has no component with positive weight")
                }
                chosen[r] = c
                let mr = means[c].rows == 1 ? 0 : r, lr = logVars[c].rows == 1 ? 0 : r
                for j in 0..<latent {
                    out[r * latent + j] = means[c][mr, j] + Foundation.exp(0.5 * logVars[c][lr, j]) * rng.nextNormal()
                }
            }
        }
        return (z, chosen)
    }
}
