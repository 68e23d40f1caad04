import Foundation
import MVCore
import MVData

/// The maximum-likelihood probabilistic PCA of the stacked modalities (Tipping & Bishop 1999, §3.2):
/// the best linear-Gaussian model with d_z latents and isotropic noise, the reference the trained
/// models of the linear-Gaussian experiment are compared against (paper §5.1 and App. J).
///
/// With x_i = [x_{0,i} … x_{K−1,i}] ∈ R^D (n rows), x̄ their mean, S = (1/n) Σ_i (x_i − x̄)(x_i − x̄)ᵀ
/// (divisor n: the ML covariance) and eigenpairs λ_1 ≥ … ≥ λ_D, u_j of S:
///
///     μ_ML = x̄,   σ²_ML = (1/(D−q)) Σ_{j>q} λ_j,   W_ML = U_q (Λ_q − σ²_ML I)^{1/2}
///
/// (q = d_z; W_ML is unique up to a right rotation, taken as the identity; λ_j − σ²_ML is clamped at 0).
/// The maximised mean log-likelihood per row has the closed form
///
///     ℓ_ML = −½ [D log 2π + Σ_{j≤q} log λ_j + (D−q) log σ²_ML + D]
///
/// since C_ML = U_q Λ_q U_qᵀ + σ²_ML (I − U_q U_qᵀ) gives log|C_ML| = Σ_{j≤q} log λ_j + (D−q) log σ²_ML
/// and tr(C_ML⁻¹ S) = D.
///
/// The noise is one σ² shared by all features of all modalities, as in App. J ("shared across all
/// modalities, as is standard for a PCA model") and the authors' code, which takes the same
/// eigendecomposition of the divisor-n covariance. Per-modality noise variances would make the MLE a
/// factor-analysis problem without a closed form; it is not what the paper's gap is measured against.
/// App. J also fixes the trained decoders' noise variance at σ²_ML ("We estimate the observation noise
/// scale based on the maximum likelihood estimate"); the authors' code evaluates the trained model's
/// exact log-likelihood with that σ² too, so build the model's `LinearGaussianModel` with `noiseVariance`.
public struct ProbabilisticPCA: Sendable {
    /// d_s of each modality (the stacked dimension is their sum D).
    public let dimensions: [Int]
    /// q = d_z.
    public let latentDimension: Int
    /// Number of rows fitted.
    public let sampleCount: Int
    /// μ_ML = x̄ (length D).
    public let mean: [Double]
    /// W_ML (D × q), in Double.
    public let stackedLoadings: [[Double]]
    /// σ²_ML.
    public let noiseVariance: Double
    /// Eigenvalues of S, descending.
    public let eigenvalues: [Double]

    /// Fits the stacked views (each n × d_s, the same n rows). Requires q < D and n ≥ 2.
    public init(fitting views: [Matrix], latentDimension q: Int) throws {
        precondition(!views.isEmpty, "no views")
        let n = views[0].rows
        precondition(views.allSatisfy { $0.rows == n }, "views have different row counts")
        let dims = views.map(\.cols)
        let d = dims.reduce(0, +)
        precondition(q >= 0 && q < d, "latent dimension \(q) must be below the stacked dimension \(d)")
        precondition(n >= 2, "PPCA needs at least two rows")
        var x = DoubleMatrix(rows: n, cols: d)
        var offset = 0
        for v in views {
            for i in 0..<n { for j in 0..<v.cols { x.storage[i * d + offset + j] = Double(v.storage[i * v.cols + j]) } }
            offset += v.cols
        }
        let mu = x.columnMeans
        let centered = x.subtractingFromColumns(mu)
        var s = centered.matmul(centered, transposeSelf: true)
        for i in 0..<s.storage.count { s.storage[i] /= Double(n) }
        let (ascending, vectors) = try s.symmetricEigen()
        let values = Array(ascending.reversed())
        let sigma2 = values[q...].reduce(0, +) / Double(d - q)
        var w = [[Double]](repeating: [Double](repeating: 0, count: q), count: d)
        for k in 0..<q {
            let column = d - 1 - k  // eigenvectors come in ascending order
            let scale = Swift.max(values[k] - sigma2, 0).squareRoot()
            for j in 0..<d { w[j][k] = vectors[j, column] * scale }
        }
        dimensions = dims
        latentDimension = q
        sampleCount = n
        mean = mu
        stackedLoadings = w
        noiseVariance = sigma2
        eigenvalues = values
    }

    /// D.
    public var stackedDimension: Int { mean.count }

    /// ℓ_ML, the maximised mean log-likelihood per row of the fitted data (closed form, Double).
    public var maximumLogLikelihood: Double {
        let d = Double(stackedDimension), q = latentDimension
        let logLambda = eigenvalues[..<q].reduce(0) { $0 + Foundation.log($1) }
        return -0.5 * (d * Foundation.log(2 * Double.pi) + logLambda + (d - Double(q)) * Foundation.log(noiseVariance) + d)
    }

    /// The fitted model split into modalities: W_ML's rows, μ_ML as the biases, σ²_ML on every feature.
    /// Its `logLikelihood` on the fitted data equals `maximumLogLikelihood` up to Float rounding of W and b.
    public var model: LinearGaussianModel {
        let w = Matrix(rows: stackedDimension, cols: latentDimension, stackedLoadings.flatMap { $0.map { Float($0) } })
        return LinearGaussianModel(
            stackedLoadings: w, bias: mean.map { Float($0) },
            noiseVariances: [Double](repeating: noiseVariance, count: stackedDimension),
            dimensions: dimensions)
    }

    /// The relative log-likelihood gap (ℓ_MLE − ℓ_model) / |ℓ_MLE| reported in the paper's Tables 1–2.
    /// Non-negative when the model is evaluated on the data the MLE was fitted to.
    public static func relativeGap(modelLLH: Double, mleLLH: Double) -> Double {
        (mleLLH - modelLLH) / abs(mleLLH)
    }
}
