import Foundation
import MVCore

/// A joint Gaussian over concatenated latents (z₁, z₂) and its conditionals (JPVAE Eq. 12):
/// z_i | z_j = a ~ N(μ_i + Σ_ij Σ_jj⁻¹ (a − μ_j), Σ_ii − Σ_ij Σ_jj⁻¹ Σ_ji).
public struct LatentConditional {
    public let sizes: [Int]
    public let mean: [Double]
    public let covariance: Matrix

    /// Maximum-likelihood mean and covariance of the rows of [z₁ z₂] (the empirical joint).
    public init(fitting z1: Matrix, _ z2: Matrix) {
        precondition(z1.rows == z2.rows && z1.rows > 0)
        let n = z1.rows, d1 = z1.cols, d = z1.cols + z2.cols
        sizes = [z1.cols, z2.cols]
        func value(_ r: Int, _ j: Int) -> Double { Double(j < d1 ? z1[r, j] : z2[r, j - d1]) }
        var m = [Double](repeating: 0, count: d)
        for r in 0..<n { for j in 0..<d { m[j] += value(r, j) } }
        for j in 0..<d { m[j] /= Double(n) }
        var c = [Double](repeating: 0, count: d * d)
        for r in 0..<n {
            for a in 0..<d {
                let x = value(r, a) - m[a]
                for b in a..<d { c[a * d + b] += x * (value(r, b) - m[b]) }
            }
        }
        var cov = Matrix(rows: d, cols: d)
        for a in 0..<d { for b in a..<d { cov[a, b] = Float(c[a * d + b] / Double(n)); cov[b, a] = cov[a, b] } }
        mean = m
        covariance = cov
    }

    /// The prior N(0, [[I, Cᵀ], [C, I]]) of JPVAE, for its conditionals z₂|z₁ ~ N(C z₁, I − CCᵀ).
    public init(prior c: Matrix) {
        let n1 = c.cols, n2 = c.rows, d = n1 + n2
        sizes = [n1, n2]
        mean = [Double](repeating: 0, count: d)
        var cov = Matrix.identity(d)
        for i in 0..<n2 { for j in 0..<n1 { cov[n1 + i, j] = c[i, j]; cov[j, n1 + i] = c[i, j] } }
        covariance = cov
    }

    private func range(_ k: Int) -> Range<Int> { k == 0 ? 0..<sizes[0] : sizes[0]..<(sizes[0] + sizes[1]) }

    private func block(_ i: Int, _ j: Int) -> Matrix {
        let ri = range(i), rj = range(j)
        var m = Matrix(rows: ri.count, cols: rj.count)
        for (a, x) in ri.enumerated() { for (b, y) in rj.enumerated() { m[a, b] = covariance[x, y] } }
        return m
    }

    /// W = Σ_jj⁻¹ Σ_ji (so that E[z_i | z_j = a] = μ_i + (a − μ_j) W for row vectors a), and the
    /// conditional covariance Σ_ii − Σ_ij W.
    public func regression(target i: Int, given j: Int) throws -> (weights: Matrix, covariance: Matrix) {
        var sjj = block(j, j)
        // A small ridge keeps a collapsed (near-constant) latent unit from making Σ_jj singular.
        let ridge = Float(1e-6) * Swift.max(1, (0..<sjj.rows).map { sjj[$0, $0] }.max() ?? 1)
        for a in 0..<sjj.rows { sjj[a, a] += ridge }
        let w = try sjj.solve(block(j, i))
        return (w, block(i, i) - block(i, j) * w)
    }

    /// E[z_i | z_j = a] for every row a of `given`.
    public func conditionalMean(target i: Int, given j: Int, values a: Matrix) throws -> Matrix {
        let (w, _) = try regression(target: i, given: j)
        var centred = a
        let mj = Array(mean[range(j)]), mi = Array(mean[range(i)])
        for r in 0..<a.rows { for c in 0..<a.cols { centred[r, c] -= Float(mj[c]) } }
        var out = centred * w
        for r in 0..<out.rows { for c in 0..<out.cols { out[r, c] += Float(mi[c]) } }
        return out
    }
}
