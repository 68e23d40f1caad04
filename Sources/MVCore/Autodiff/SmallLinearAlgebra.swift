import Foundation

// Dense linear algebra on one small square matrix (a prior's cross-covariance, a Cholesky factor):
// inverse, solve, Cholesky, log-determinant, and the vector → structured-matrix maps used to
// parameterise orthogonal and triangular matrices. LAPACK failures surface as `LinearAlgebraError`.

/// The m with m(m−1)/2 == count (strictly lower) or m(m+1)/2 == count (with diagonal).
func triangularOrder(_ count: Int, diagonal: Bool) -> Int? {
    var m = 0
    while true {
        let t = diagonal ? m * (m + 1) / 2 : m * (m - 1) / 2
        if t == count { return m }
        if t > count { return nil }
        m += 1
    }
}

extension Tape {
    /// A⁻¹ for a square A (LU with partial pivoting).
    public func inverse(_ a: Var) throws -> Var {
        let na = nodes[a.id]
        precondition(na.rows == na.cols, "inverse needs a square matrix, got \(na.rows)x\(na.cols)")
        let n = na.rows
        let out = record(.inverse(a.id), rows: n, cols: n, needsGrad: na.needsGrad)
        let y = nodes[out.id].value
        y.update(from: na.value, count: n * n)
        let work = aux(out, count: Swift.max(64 * n, 1))
        try LAPACKKernels.invert(y, n: n, ipiv: pivots(out, count: n), work: work, workCount: Swift.max(64 * n, 1))
        return out
    }

    /// X = A⁻¹ B for square A and B with as many rows.
    public func solve(_ a: Var, _ b: Var) throws -> Var {
        let na = nodes[a.id], nb = nodes[b.id]
        precondition(na.rows == na.cols && nb.rows == na.rows, "solve: A \(na.rows)x\(na.cols), B \(nb.rows)x\(nb.cols)")
        let n = na.rows, k = nb.cols
        let out = record(.solve(a.id, b.id), rows: n, cols: k, needsGrad: na.needsGrad || nb.needsGrad)
        // aux: A⁻¹ (n×n), then LAPACK workspace, reused in backward for A⁻ᵀ Ḡ (n×k).
        let work = Swift.max(64 * n, n * k, 1)
        let ainv = aux(out, count: n * n + work)
        ainv.update(from: na.value, count: n * n)
        try LAPACKKernels.invert(ainv, n: n, ipiv: pivots(out, count: n), work: ainv + n * n, workCount: work)
        if n > 0 && k > 0 {
            sgemm(transA: false, transB: false, m: n, n: k, k: n, alpha: 1, a: ainv, b: nb.value, beta: 0, c: nodes[out.id].value)
        }
        return out
    }

    /// Lower-triangular L with A = L Lᵀ. Reads the lower triangle of A; its gradient is symmetric.
    public func cholesky(_ a: Var) throws -> Var {
        let na = nodes[a.id]
        precondition(na.rows == na.cols, "cholesky needs a square matrix, got \(na.rows)x\(na.cols)")
        let n = na.rows
        let out = record(.cholesky(a.id), rows: n, cols: n, needsGrad: na.needsGrad)
        let l = nodes[out.id].value
        l.update(from: na.value, count: n * n)
        try LAPACKKernels.choleskyLower(l, n: n)
        return out
    }

    /// log|det A| (LU). For the positive-definite matrices it is used on, this is log det A.
    public func logDeterminant(_ a: Var) throws -> Var {
        let na = nodes[a.id]
        precondition(na.rows == na.cols, "logDeterminant needs a square matrix, got \(na.rows)x\(na.cols)")
        let n = na.rows
        let out = record(.logDet(a.id), rows: 1, cols: 1, needsGrad: na.needsGrad)
        let scratch = aux(out, count: n * n + Swift.max(64 * n, 1))
        scratch.update(from: na.value, count: n * n)
        let piv = pivots(out, count: n)
        let (logAbs, _) = try LAPACKKernels.logAbsDeterminant(scratch, n: n, ipiv: piv)
        nodes[out.id].value[0] = logAbs
        if na.needsGrad {
            // Keep A⁻¹ for the VJP (∂ log|det A| / ∂A = A⁻ᵀ).
            scratch.update(from: na.value, count: n * n)
            try LAPACKKernels.invert(scratch, n: n, ipiv: piv, work: scratch + n * n, workCount: Swift.max(64 * n, 1))
        }
        return out
    }

    /// The m×m skew-symmetric A with the entries of v (m(m−1)/2 of them, any shape) below the
    /// diagonal in row-major order and their negatives above it.
    public func skewSymmetric(_ v: Var) -> Var {
        let nv = nodes[v.id]
        guard let m = triangularOrder(nv.rows * nv.cols, diagonal: false) else {
            preconditionFailure("skewSymmetric: \(nv.rows * nv.cols) is not m(m-1)/2 for any m")
        }
        let out = record(.skewFromVector(v.id), rows: m, cols: m, needsGrad: nv.needsGrad)
        let y = nodes[out.id].value
        y.update(repeating: 0, count: m * m)
        var k = 0
        for i in 0..<m { for j in 0..<i { y[i * m + j] = nv.value[k]; y[j * m + i] = -nv.value[k]; k += 1 } }
        return out
    }

    /// The m×m lower-triangular matrix filled row by row from v (m(m+1)/2 entries with the diagonal,
    /// m(m−1)/2 without).
    public func lowerTriangular(_ v: Var, includeDiagonal: Bool = true) -> Var {
        let nv = nodes[v.id]
        guard let m = triangularOrder(nv.rows * nv.cols, diagonal: includeDiagonal) else {
            preconditionFailure("lowerTriangular: \(nv.rows * nv.cols) entries do not fill a triangle")
        }
        let out = record(.lowerFromVector(v.id, diagonal: includeDiagonal), rows: m, cols: m, needsGrad: nv.needsGrad)
        let y = nodes[out.id].value
        y.update(repeating: 0, count: m * m)
        var k = 0
        for i in 0..<m { for j in 0...i where j < i || includeDiagonal { y[i * m + j] = nv.value[k]; k += 1 } }
        return out
    }

    func backwardSmallLinearAlgebra(_ i: Int) {
        let node = nodes[i]
        let g = node.grad
        switch node.op {
        case let .inverse(a):
            // Ā += −Yᵀ Ḡ Yᵀ with Y = A⁻¹.
            let n = node.rows, y = node.value
            let tmp = aux(Var(i), count: Swift.max(64 * n, n * n))
            sgemm(transA: true, transB: false, m: n, n: n, k: n, alpha: 1, a: y, b: g, beta: 0, c: tmp)
            sgemm(transA: false, transB: true, m: n, n: n, k: n, alpha: -1, a: tmp, b: y, beta: 1, c: nodes[a].grad)
        case let .solve(a, b):
            // B̄ += A⁻ᵀ Ḡ;  Ā += −(A⁻ᵀ Ḡ) Xᵀ.
            let n = node.rows, k = node.cols
            if n == 0 || k == 0 { return }
            let ainv = slots[i].aux!, tmp = ainv + n * n
            sgemm(transA: true, transB: false, m: n, n: k, k: n, alpha: 1, a: ainv, b: g, beta: 0, c: tmp)
            if nodes[b].needsGrad { for q in 0..<(n * k) { nodes[b].grad[q] += tmp[q] } }
            if nodes[a].needsGrad {
                sgemm(transA: false, transB: true, m: n, n: n, k: k, alpha: -1, a: tmp, b: node.value, beta: 1, c: nodes[a].grad)
            }
        case let .cholesky(a):
            // Ā = ½(S + Sᵀ), S = L⁻ᵀ Φ(Lᵀ L̄) L⁻¹, Φ = lower triangle with the diagonal halved.
            let n = node.rows, l = node.value
            if n == 0 { return }
            let p = aux(Var(i), count: 2 * n * n)
            let q = p + n * n
            sgemm(transA: true, transB: false, m: n, n: n, k: n, alpha: 1, a: l, b: g, beta: 0, c: p)
            for r in 0..<n {
                p[r * n + r] *= 0.5
                for c in (r + 1)..<(n + 1) where c < n { p[r * n + c] = 0 }
            }
            // q = L⁻ᵀ P  (solve Lᵀ q = P), then S = q L⁻¹  i.e. Sᵀ = L⁻ᵀ qᵀ.
            LAPACKKernels.solveLowerTriangular(l, n: n, p, k: n, transpose: true)
            for r in 0..<n { for c in 0..<n { q[c * n + r] = p[r * n + c] } }
            LAPACKKernels.solveLowerTriangular(l, n: n, q, k: n, transpose: true)  // q = Sᵀ
            let ga = nodes[a].grad
            for r in 0..<n { for c in 0..<n { ga[r * n + c] += 0.5 * (q[r * n + c] + q[c * n + r]) } }
        case let .logDet(a):
            let n = nodes[a].rows, ainv = slots[i].aux!, ga = nodes[a].grad, s = g[0]
            for r in 0..<n { for c in 0..<n { ga[r * n + c] += s * ainv[c * n + r] } }
        case let .skewFromVector(v):
            let m = node.rows, gv = nodes[v].grad
            var k = 0
            for r in 0..<m { for c in 0..<r { gv[k] += g[r * m + c] - g[c * m + r]; k += 1 } }
        case let .lowerFromVector(v, diagonal):
            let m = node.rows, gv = nodes[v].grad
            var k = 0
            for r in 0..<m { for c in 0...r where c < r || diagonal { gv[k] += g[r * m + c]; k += 1 } }
        default:
            preconditionFailure("not a linear-algebra op")
        }
    }
}
