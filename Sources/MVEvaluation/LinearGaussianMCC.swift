import Foundation
import MVCore

/// The mean correlation coefficient between true latents z (n × d) and inferred latents ẑ (n × d')
/// (Khemakhem et al. 2020a, b), the identifiability score of the paper's Tables 2–3.
///
/// - `strong`: the absolute Pearson correlations |corr(z_a, ẑ_b)| matched one-to-one (Hungarian
///   method, maximising their sum) and averaged over the min(d, d') matched pairs; 1 iff ẑ is z up to
///   a permutation, signs and per-coordinate affine maps.
/// - `weak`: the strong MCC of the canonical variates of a CCA between z and ẑ, i.e. after the
///   optimal affine transformation. The paper reports this one: §5.1 computes "the mean correlation
///   coefficient (MCC) between the true latent variables and samples from the variational distribution
///   after an affine transformation using CCA", following Khemakhem et al. (2020b), whose code fits
///   scikit-learn's CCA and applies the strong MCC to the transformed pair. Since canonical variates are
///   uncorrelated across pairs, it equals the mean of the first min(d, d') canonical correlations.
///
/// Both are in-sample (fitted and scored on the same rows). For a held-out score fit
/// `CanonicalCorrelationAnalysis` on one half and pass its `transform` of the other half to `strong`.
public enum MeanCorrelationCoefficient {
    /// |corr(a_j, b_k)| for the columns of a (n × d) and b (n × d'), as d rows of d' entries.
    /// A constant column has no correlation with anything (0).
    public static func absoluteCorrelations(_ a: Matrix, _ b: Matrix) -> [[Double]] {
        precondition(a.rows == b.rows && a.rows >= 2, "correlations need the same n ≥ 2 rows (\(a.rows), \(b.rows))")
        let n = Double(a.rows)
        let da = DoubleMatrix(a), db = DoubleMatrix(b)
        let ca = da.subtractingFromColumns(da.columnMeans), cb = db.subtractingFromColumns(db.columnMeans)
        let cross = ca.matmul(cb, transposeSelf: true)
        func norms(_ c: DoubleMatrix) -> [Double] {
            var s = [Double](repeating: 0, count: c.cols)
            for i in 0..<c.rows { for j in 0..<c.cols { s[j] += c[i, j] * c[i, j] } }
            return s.map { ($0 / n).squareRoot() }
        }
        let sa = norms(ca), sb = norms(cb)
        var out = [[Double]](repeating: [Double](repeating: 0, count: b.cols), count: a.cols)
        for j in 0..<a.cols {
            for k in 0..<b.cols {
                let denominator = sa[j] * sb[k] * n
                out[j][k] = denominator > 0 ? Swift.min(abs(cross[j, k]) / denominator, 1) : 0
            }
        }
        return out
    }

    /// Strong MCC: the mean of the Hungarian-matched |Pearson correlations| between the columns of
    /// `latents` and `inferred`.
    public static func strong(_ latents: Matrix, _ inferred: Matrix) -> Double {
        let c = absoluteCorrelations(latents, inferred)
        let matching = LinearAssignment.maximizing(c)
        if matching.isEmpty { return 0 }
        return matching.reduce(0) { $0 + c[$1.row][$1.column] } / Double(matching.count)
    }

    /// Weak MCC: the strong MCC after a CCA of `latents` and `inferred` with `components` ?? min(d, d')
    /// components, fitted and scored on the same rows.
    public static func weak(_ latents: Matrix, _ inferred: Matrix, components: Int? = nil) throws -> Double {
        let cca = try CanonicalCorrelationAnalysis(fitting: latents, inferred, components: components)
        let (u, v) = cca.transform(latents, inferred)
        return strong(u, v)
    }
}
