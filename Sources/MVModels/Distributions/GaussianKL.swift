import Foundation
import MVCore

/// Closed-form KL divergences between Gaussians, in Double, for evaluation and tests.
public enum GaussianKL {
    /// KL(N(μs, Σs) ‖ N(μr, Σr)) for full covariances (JPVAE Eq. 7):
    /// ½[ln|Σr|/|Σs| − n + tr(Σr⁻¹Σs) + (μr − μs)ᵀ Σr⁻¹ (μr − μs)].
    public static func full(meanQ: [Double], covQ: [[Double]], meanP: [Double], covP: [[Double]]) throws -> Double {
        let n = meanQ.count
        // Work in Double via Cholesky done by hand: matrices here are small.
        let lp = try cholesky(covP), lq = try cholesky(covQ)
        var logDetP = 0.0, logDetQ = 0.0
        for i in 0..<n { logDetP += 2 * log(lp[i][i]); logDetQ += 2 * log(lq[i][i]) }
        // tr(Σp⁻¹ Σq) = Σ_j ‖Lp⁻¹ Lq e_j‖² ; Mahalanobis = ‖Lp⁻¹ (μp − μq)‖².
        var trace = 0.0
        for j in 0..<n {
            let col = (0..<n).map { lq[$0][j] }
            let y = forwardSolve(lp, col)
            trace += y.reduce(0) { $0 + $1 * $1 }
        }
        let diff = (0..<n).map { meanP[$0] - meanQ[$0] }
        let y = forwardSolve(lp, diff)
        let maha = y.reduce(0) { $0 + $1 * $1 }
        return 0.5 * (logDetP - logDetQ - Double(n) + trace + maha)
    }

    /// KL(N(μ, diag e^{logVar}) ‖ N(0, I)) summed over units.
    public static func diagonalToStandard(mean: [Double], logVar: [Double]) -> Double {
        var s = 0.0
        for i in 0..<mean.count { s += mean[i] * mean[i] + exp(logVar[i]) - 1 - logVar[i] }
        return 0.5 * s
    }

    package static func cholesky(_ a: [[Double]]) throws -> [[Double]] {
        let n = a.count
        var l = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i][j]
                for k in 0..<j { s -= l[i][k] * l[j][k] }
                if i == j {
                    if s <= 0 { throw LinearAlgebraError.notPositiveDefinite(order: i + 1) }
                    l[i][i] = s.squareRoot()
                } else {
                    l[i][j] = s / l[j][j]
                }
            }
        }
        return l
    }

    package static func forwardSolve(_ l: [[Double]], _ b: [Double]) -> [Double] {
        var y = b
        for i in 0..<b.count {
            for k in 0..<i { y[i] -= l[i][k] * y[k] }
            y[i] /= l[i][i]
        }
        return y
    }
}
