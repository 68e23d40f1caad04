import Foundation
import MVCore

/// A linear-Gaussian multi-modal generative model (permutation-invariant aggregation paper, §5.1):
///
///     z ~ N(0, I_{d_z}),   x_s | z ~ N(W_s z + b_s, Ψ_s),   s = 0, …, K−1,
///
/// with W_s ∈ R^{d_s×d_z}, b_s ∈ R^{d_s} and Ψ_s = diag(ψ_s) a diagonal noise covariance. For any set
/// S of modalities, stacking the rows of the modalities in S (in the order given) gives
///
///     x_S ~ N(b_S, C_S),   C_S = W_S W_Sᵀ + Ψ_S,
///
/// so marginal and conditional log-likelihoods are exact. They are computed in Double through the
/// Cholesky factor C_S = L Lᵀ: log N(x; b, C) = −½ [D log 2π + 2 Σ_j log L_jj + ‖L⁻¹(x − b)‖²].
///
/// Data are passed as one `n × d_s` matrix per modality (`views[s]`, all with the same n rows, row i
/// being sample i). Only the views of the modalities an evaluation uses are read, so the others may
/// be empty placeholders.
public struct LinearGaussianModel: Sendable {
    /// W_s, each d_s × d_z.
    public let loadings: [Matrix]
    /// b_s, each of length d_s.
    public let biases: [[Float]]
    /// The diagonal of Ψ_s, each of length d_s.
    public let noiseVariances: [[Double]]

    public var modalityCount: Int { loadings.count }
    public var latentDimension: Int { loadings.first?.cols ?? 0 }
    /// d_s of each modality.
    public var dimensions: [Int] { loadings.map(\.rows) }

    /// Per-feature noise variances: `noiseVariances[s][j]` is the variance of feature j of modality s.
    public init(loadings: [Matrix], biases: [[Float]], noiseVariances: [[Double]]) {
        precondition(!loadings.isEmpty, "a linear-Gaussian model needs at least one modality")
        precondition(
            biases.count == loadings.count && noiseVariances.count == loadings.count,
            "\(loadings.count) loadings, \(biases.count) biases, \(noiseVariances.count) noise vectors")
        let dz = loadings[0].cols
        for s in loadings.indices {
            precondition(loadings[s].cols == dz, "modality \(s): W has \(loadings[s].cols) columns, modality 0 has \(dz)")
            precondition(
                biases[s].count == loadings[s].rows, "modality \(s): b has \(biases[s].count) entries for d_s = \(loadings[s].rows)")
            precondition(
                noiseVariances[s].count == loadings[s].rows,
                "modality \(s): \(noiseVariances[s].count) noise variances for d_s = \(loadings[s].rows)")
            precondition(noiseVariances[s].allSatisfy { $0 > 0 && $0.isFinite }, "modality \(s): noise variances must be positive")
        }
        self.loadings = loadings
        self.biases = biases
        self.noiseVariances = noiseVariances
    }

    /// One noise variance per modality: Ψ_s = ψ_s I.
    public init(loadings: [Matrix], biases: [[Float]], modalityNoiseVariances: [Double]) {
        precondition(
            modalityNoiseVariances.count == loadings.count,
            "\(modalityNoiseVariances.count) noise variances for \(loadings.count) modalities")
        self.init(
            loadings: loadings, biases: biases,
            noiseVariances: zip(loadings, modalityNoiseVariances).map { [Double](repeating: $1, count: $0.rows) })
    }

    /// One noise variance shared by every feature of every modality: Ψ = σ² I (the PPCA model).
    public init(loadings: [Matrix], biases: [[Float]], noiseVariance: Double) {
        self.init(
            loadings: loadings, biases: biases,
            modalityNoiseVariances: [Double](repeating: noiseVariance, count: loadings.count))
    }

    /// Splits a stacked model — W (D × d_z), b and ψ over the concatenated features — into modalities
    /// of the given dimensions (which must sum to D).
    public init(stackedLoadings w: Matrix, bias b: [Float], noiseVariances psi: [Double], dimensions: [Int]) {
        precondition(
            dimensions.reduce(0, +) == w.rows && b.count == w.rows && psi.count == w.rows,
            "dimensions \(dimensions) do not split W (\(w.rows)x\(w.cols)), b (\(b.count)), ψ (\(psi.count))")
        var start = 0
        var ws: [Matrix] = [], bs: [[Float]] = [], ps: [[Double]] = []
        for d in dimensions {
            ws.append(w.rows(start..<(start + d)))
            bs.append(Array(b[start..<(start + d)]))
            ps.append(Array(psi[start..<(start + d)]))
            start += d
        }
        self.init(loadings: ws, biases: bs, noiseVariances: ps)
    }

    // MARK: Stacked parameters

    private func validated(_ modalities: [Int]?) -> [Int] {
        let s = modalities ?? Array(0..<modalityCount)
        precondition(!s.isEmpty, "an empty set of modalities has no likelihood")
        precondition(Set(s).count == s.count, "modalities \(s) repeat")
        precondition(s.allSatisfy { $0 >= 0 && $0 < modalityCount }, "modalities \(s) out of range 0..<\(modalityCount)")
        return s
    }

    /// W_S (D_S × d_z), the rows of the loadings of the modalities in S.
    func stackedLoadings(_ s: [Int]) -> DoubleMatrix {
        let dz = latentDimension
        var values: [Double] = []
        values.reserveCapacity(s.reduce(0) { $0 + loadings[$1].count })
        for k in s { values.append(contentsOf: loadings[k].storage.map(Double.init)) }
        return DoubleMatrix(rows: values.count / Swift.max(dz, 1), cols: dz, values)
    }

    /// b_S.
    func stackedBias(_ s: [Int]) -> [Double] { s.flatMap { biases[$0].map(Double.init) } }

    /// diag(Ψ_S).
    func stackedNoise(_ s: [Int]) -> [Double] { s.flatMap { noiseVariances[$0] } }

    /// C_S = W_S W_Sᵀ + Ψ_S.
    func covariance(_ s: [Int]) -> DoubleMatrix {
        let w = stackedLoadings(s)
        var c = w.matmul(w, transposeOther: true)
        for (j, v) in stackedNoise(s).enumerated() { c[j, j] += v }
        return c
    }

    /// The model's marginal covariance C_S of the stacked modalities S (all by default), rounded to Float.
    public func marginalCovariance(modalities: [Int]? = nil) -> Matrix { covariance(validated(modalities)).floatMatrix }

    /// The rows of the views of S, concatenated feature-wise, in Double (n × D_S).
    func stackedData(_ views: [Matrix], _ s: [Int]) -> DoubleMatrix {
        precondition(views.count == modalityCount, "\(views.count) views for \(modalityCount) modalities")
        let n = views[s[0]].rows
        for k in s {
            precondition(views[k].rows == n, "view \(k) has \(views[k].rows) rows, view \(s[0]) has \(n)")
            precondition(
                views[k].cols == loadings[k].rows, "view \(k) has \(views[k].cols) columns, the model's d_\(k) = \(loadings[k].rows)")
        }
        let d = s.reduce(0) { $0 + loadings[$1].rows }
        var out = DoubleMatrix(rows: n, cols: d)
        var offset = 0
        for k in s {
            let dk = views[k].cols
            let src = views[k].storage
            for i in 0..<n { for j in 0..<dk { out.storage[i * d + offset + j] = Double(src[i * dk + j]) } }
            offset += dk
        }
        return out
    }

    // MARK: Log-likelihoods

    /// log N(x_{S,i}; b_S, C_S) for every row i, modalities S (all by default). Throws
    /// `LinearAlgebraError.notPositiveDefinite` if C_S is not numerically positive definite.
    public func logLikelihoods(_ views: [Matrix], modalities: [Int]? = nil) throws -> [Double] {
        let s = validated(modalities)
        let x = stackedData(views, s)
        return try Self.gaussianLogDensities(x, mean: stackedBias(s), covariance: covariance(s))
    }

    /// Mean over rows of log N(x_{S,i}; b_S, C_S): the exact marginal log-likelihood per sample.
    public func logLikelihood(_ views: [Matrix], modalities: [Int]? = nil) throws -> Double {
        Self.mean(try logLikelihoods(views, modalities: modalities))
    }

    /// log p(x_{A,i} | x_{B,i}) = log p(x_{A,i}, x_{B,i}) − log p(x_{B,i}) for every row i; A and B disjoint,
    /// A non-empty. An empty B gives the marginal of A.
    public func conditionalLogLikelihoods(_ views: [Matrix], target: [Int], given: [Int]) throws -> [Double] {
        precondition(Set(target).isDisjoint(with: given), "target \(target) and given \(given) overlap")
        let joint = try logLikelihoods(views, modalities: target + given)
        if given.isEmpty { return joint }
        let evidence = try logLikelihoods(views, modalities: given)
        return zip(joint, evidence).map { $0 - $1 }
    }

    /// Mean over rows of log p(x_A | x_B).
    public func conditionalLogLikelihood(_ views: [Matrix], target: [Int], given: [Int]) throws -> Double {
        Self.mean(try conditionalLogLikelihoods(views, target: target, given: given))
    }

    // MARK: Posterior

    /// The exact posterior p(z | x_S) = N(μ_i, Σ) for every row i, with
    ///
    ///     Σ = (I + Σ_{s∈S} W_sᵀ Ψ_s⁻¹ W_s)⁻¹,   μ_i = Σ Σ_{s∈S} W_sᵀ Ψ_s⁻¹ (x_{s,i} − b_s).
    ///
    /// `mean` is n × d_z. An empty S gives the prior (`views` must then still be K matrices; n is taken
    /// from view 0).
    public func posterior(_ views: [Matrix], given modalities: [Int]) throws -> (mean: Matrix, covariance: Matrix) {
        let dz = latentDimension
        if modalities.isEmpty {
            return (Matrix(rows: views.first?.rows ?? 0, cols: dz), Matrix.identity(dz))
        }
        let s = validated(modalities)
        let w = stackedLoadings(s)
        let psi = stackedNoise(s)
        // Ψ⁻¹ W (rows scaled by 1/ψ_j).
        var scaled = w
        for j in 0..<w.rows { for k in 0..<dz { scaled[j, k] /= psi[j] } }
        let precision = DoubleMatrix.identity(dz) + w.matmul(scaled, transposeSelf: true)
        let l = try precision.cholesky()
        // Σ = L⁻ᵀ L⁻¹.
        let lInv = l.solveLower(DoubleMatrix.identity(dz))
        let sigma = lInv.matmul(lInv, transposeSelf: true)
        let centered = stackedData(views, s).subtractingFromColumns(stackedBias(s))
        // Row i of the mean: (x_i − b)ᵀ Ψ⁻¹ W Σ.
        let mean = centered.matmul(scaled).matmul(sigma)
        return (mean.floatMatrix, sigma.floatMatrix)
    }

    // MARK: Helpers

    /// log N(x_i; mean, covariance) for the rows x_i of `x`, by Cholesky in Double.
    static func gaussianLogDensities(_ x: DoubleMatrix, mean: [Double], covariance c: DoubleMatrix) throws -> [Double] {
        let d = c.rows
        precondition(x.cols == d && mean.count == d, "data of \(x.cols) columns, mean of \(mean.count), covariance \(d)x\(c.cols)")
        let l = try c.cholesky()
        var logDet = 0.0
        for j in 0..<d { logDet += 2 * Foundation.log(l[j, j]) }
        let y = x.subtractingFromColumns(mean).whitenedRows(by: l)
        let constant = Double(d) * Foundation.log(2 * Double.pi) + logDet
        var out = [Double](repeating: 0, count: x.rows)
        for i in 0..<x.rows {
            var q = 0.0
            for j in 0..<d { let v = y.storage[i * d + j]; q += v * v }
            out[i] = -0.5 * (constant + q)
        }
        return out
    }

    static func mean(_ v: [Double]) -> Double {
        precondition(!v.isEmpty, "no rows")
        return v.reduce(0, +) / Double(v.count)
    }
}
