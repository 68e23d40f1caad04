import Foundation

/// Classical canonical correlation analysis (Hotelling 1936) of two sets of variables x (n × p) and
/// y (n × q): the affine maps u = (x − x̄) A, v = (y − ȳ) B (A is p × k, B is q × k) whose columns
/// u_j, v_j have unit sample variance, are uncorrelated within each set, and have the largest
/// correlations corr(u_j, v_j) = ρ_j, ρ_1 ≥ … ≥ ρ_k.
///
/// With sample covariances Σ_xx = L_x L_xᵀ, Σ_yy = L_y L_yᵀ (Cholesky), Σ_xy, and the singular value
/// decomposition L_x⁻¹ Σ_xy L_y⁻ᵀ = U diag(ρ) Vᵀ: A = L_x⁻ᵀ U_k, B = L_y⁻ᵀ V_k.
///
/// A ridge of 10⁻¹⁰ × (mean variance) on Σ_xx and Σ_yy keeps a constant column (a collapsed latent
/// unit) from making them singular; such a column then simply gets no correlation.
///
/// This is the exact solution; scikit-learn's `CCA`, used for the paper's weak MCC, computes the same
/// directions iteratively (NIPALS), so its correlations agree up to its convergence tolerance.
public struct CanonicalCorrelationAnalysis: Sendable {
    /// ρ_1 ≥ … ≥ ρ_k.
    public let correlations: [Double]
    let meanX: [Double]
    let meanY: [Double]
    package let projectionX: DoubleMatrix
    package let projectionY: DoubleMatrix

    public var componentCount: Int { correlations.count }

    /// Fits on the rows of x and y (the same n ≥ 2 rows); k = `components` ?? min(p, q).
    public init(fitting x: Matrix, _ y: Matrix, components: Int? = nil) throws {
        precondition(x.rows == y.rows && x.rows >= 2, "CCA needs the same n ≥ 2 rows in x (\(x.rows)) and y (\(y.rows))")
        let k = components ?? Swift.min(x.cols, y.cols)
        precondition(k >= 1 && k <= Swift.min(x.cols, y.cols), "\(k) components for \(x.cols) and \(y.cols) variables")
        let n = Double(x.rows)
        let dx = DoubleMatrix(x), dy = DoubleMatrix(y)
        let mx = dx.columnMeans, my = dy.columnMeans
        let cx = dx.subtractingFromColumns(mx), cy = dy.subtractingFromColumns(my)
        func covariance(_ a: DoubleMatrix, _ b: DoubleMatrix) -> DoubleMatrix {
            var c = a.matmul(b, transposeSelf: true)
            for i in 0..<c.storage.count { c.storage[i] /= n }
            return c
        }
        try self.init(
            meanX: mx, meanY: my, covarianceXX: covariance(cx, cx), covarianceYY: covariance(cy, cy),
            covarianceXY: covariance(cx, cy), components: k)
    }

    /// Fits from the means and (population) covariances of x and y, e.g. sums gathered over ranks.
    package init(
        meanX mx: [Double], meanY my: [Double], covarianceXX: DoubleMatrix, covarianceYY: DoubleMatrix,
        covarianceXY: DoubleMatrix, components k: Int
    ) throws {
        func ridged(_ c: DoubleMatrix) -> DoubleMatrix {
            var out = c
            let meanVariance = c.diagonalElements.reduce(0, +) / Double(Swift.max(c.rows, 1))
            let ridge = 1e-10 * Swift.max(meanVariance, Double.leastNormalMagnitude)
            for j in 0..<c.rows { out[j, j] += ridge }
            return out
        }
        let lx = try ridged(covarianceXX).cholesky()
        let ly = try ridged(covarianceYY).cholesky()
        // L_x⁻¹ Σ_xy L_y⁻ᵀ.
        let m = lx.solveLower(covarianceXY).whitenedRows(by: ly)
        let (u, s, vt) = try m.singularValueDecomposition()
        projectionX = lx.solveLower(u.columns(0..<k), transpose: true)
        projectionY = ly.solveLower(vt.transposed.columns(0..<k), transpose: true)
        correlations = Array(s[0..<k]).map { Swift.min($0, 1) }
        meanX = mx
        meanY = my
    }

    /// The canonical variates u = (x − x̄) A and v = (y − ȳ) B (each n × k) of any rows, with the
    /// means and maps of the fit (so a held-out half can be scored with a fit on the other half).
    public func transform(_ x: Matrix, _ y: Matrix) -> (u: Matrix, v: Matrix) {
        precondition(
            x.cols == meanX.count && y.cols == meanY.count,
            "fitted on \(meanX.count) and \(meanY.count) variables, got \(x.cols) and \(y.cols)")
        let u = DoubleMatrix(x).subtractingFromColumns(meanX).matmul(projectionX)
        let v = DoubleMatrix(y).subtractingFromColumns(meanY).matmul(projectionY)
        return (u.floatMatrix, v.floatMatrix)
    }
}
