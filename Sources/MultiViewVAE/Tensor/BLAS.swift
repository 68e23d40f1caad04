import CLinearAlgebra

/// Row-major GEMM: C ← α·op(A)·op(B) + β·C, where op(A) is m×k and op(B) is k×n, through OpenBLAS.
/// Leading dimensions are those of the matrices as stored (row-major, contiguous).
///
/// Tiny products (the latent-sized ones of a KL term) run in a plain loop instead: OpenBLAS 0.3.21's
/// "small matrix" kernels allocate on every call, and a call costs more than such a product.
@inline(__always)
public func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                  alpha: Float, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                  beta: Float, c: UnsafeMutablePointer<Float>) {
    if m * n * k <= smallGEMMLimit {
        smallGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c)
        return
    }
    let lda = transA ? m : k
    let ldb = transB ? k : n
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(n))
}

/// Products with m·n·k at most this go to `smallGEMM`.
public let smallGEMMLimit = 32 * 32 * 32

/// The plain-loop GEMM for tiny products (same contract as `sgemm`).
public func smallGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                      alpha: Float, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                      beta: Float, c: UnsafeMutablePointer<Float>) {
    for i in 0..<m {
        let row = c + i * n
        if beta == 0 { row.update(repeating: 0, count: n) } else if beta != 1 { for j in 0..<n { row[j] *= beta } }
        for p in 0..<k {
            let aip = alpha * (transA ? a[p * m + i] : a[i * k + p])
            if aip == 0 { continue }
            if transB {
                for j in 0..<n { row[j] += aip * b[j * k + p] }
            } else {
                let bp = b + p * n
                for j in 0..<n { row[j] += aip * bp[j] }
            }
        }
    }
}

/// Number of threads OpenBLAS uses; one per MPI rank is the rule.
public enum BLASThreads {
    public static var count: Int { Int(openblas_get_num_threads()) }
    public static func set(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}

extension Matrix {
    /// op(self) · op(other) through BLAS.
    public func matmul(_ other: Matrix, transposeSelf: Bool = false, transposeOther: Bool = false) -> Matrix {
        let m = transposeSelf ? cols : rows
        let k = transposeSelf ? rows : cols
        let k2 = transposeOther ? other.cols : other.rows
        let n = transposeOther ? other.rows : other.cols
        precondition(k == k2, "matmul inner dimensions differ: \(k) vs \(k2)")
        var out = Matrix(rows: m, cols: n)
        if m == 0 || n == 0 { return out }
        if k == 0 { return out }
        storage.withUnsafeBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                out.storage.withUnsafeMutableBufferPointer { c in
                    sgemm(transA: transposeSelf, transB: transposeOther, m: m, n: n, k: k,
                          alpha: 1, a: a.baseAddress!, b: b.baseAddress!, beta: 0, c: c.baseAddress!)
                }
            }
        }
        return out
    }

    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix { lhs.matmul(rhs) }

    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.rows == rhs.rows && lhs.cols == rhs.cols, "shape mismatch")
        var out = lhs
        for i in 0..<out.storage.count { out.storage[i] += rhs.storage[i] }
        return out
    }

    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix {
        precondition(lhs.rows == rhs.rows && lhs.cols == rhs.cols, "shape mismatch")
        var out = lhs
        for i in 0..<out.storage.count { out.storage[i] -= rhs.storage[i] }
        return out
    }

    public static func * (lhs: Float, rhs: Matrix) -> Matrix {
        var out = rhs
        for i in 0..<out.storage.count { out.storage[i] *= lhs }
        return out
    }
}
