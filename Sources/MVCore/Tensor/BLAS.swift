import CLinearAlgebra

/// Row-major GEMM: C ← α·op(A)·op(B) + β·C, where op(A) is m×k and op(B) is k×n, through OpenBLAS.
/// Leading dimensions are those of the matrices as stored (row-major, contiguous).
///
/// Two kinds of products avoid a plain `cblas_sgemm` call, both because OpenBLAS 0.3.21's SkylakeX
/// "small matrix" kernels (used when m·n·k ≤ 100³) would call malloc on every call, and the training
/// step must not allocate:
/// - tiny products (the latent-sized ones of a KL term) run in a plain loop: a call costs more than they do;
/// - non-transposed products whose column count leaves n % 16 = 1…8 go through `splitColumnsGEMM`.
@inline(__always)
public func sgemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    beta: Float, c: UnsafeMutablePointer<Float>
) {
    guard GEMMProfile.isEnabled else {
        return dispatchGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c)
    }
    let t0 = monotonicSeconds()
    dispatchGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c)
    GEMMProfile.seconds += monotonicSeconds() - t0
    GEMMProfile.calls += 1
}

/// Picks the implementation for one product (see `sgemm`).
@inline(__always)
private func dispatchGEMM(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>,
    b: UnsafePointer<Float>, beta: Float, c: UnsafeMutablePointer<Float>
) {
    if m * n * k <= smallGEMMLimit {
        smallGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c)
        return
    }
    if !transA && !transB && smallNNKernelAllocates(m: m, n: n, k: k) {
        splitColumnsGEMM(m: m, n: n, k: k, alpha: alpha, a: a, b: b, beta: beta, c: c)
        return
    }
    cblasGEMM(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: transA ? m : k,
        b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n)
}

@inline(__always)
func cblasGEMM(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    cblas_sgemm(
        CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Products with m·n·k at most this go to `smallGEMM`.
public let smallGEMMLimit = 32 * 32 * 32

/// Whether OpenBLAS 0.3.21's SkylakeX small-matrix kernel would allocate for the row-major product
/// A[m×k]·B[k×n]. That kernel works column-major, so our n is its M: it covers M in blocks of 16 lanes,
/// a remainder of 9…15 with masked loads, and a remainder of 1…8 (when K ≥ 32) by copying those rows
/// of A into a buffer it mallocs and frees on every call. Measured on this library: the condition below
/// is exactly the set of allocating shapes over every m, n ≤ 130 and k in {8, 31, 32, 33, 100, 392, 512},
/// for all four transpose combinations (only the non-transposed one allocates) and β ∈ {0, 1}.
@inline(__always)
func smallNNKernelAllocates(m: Int, n: Int, k: Int) -> Bool {
    let r = n % 16
    return r >= 1 && r <= 8 && k >= 32 && m * n * k <= 1_000_000
}

/// C ← α·A·B + β·C (no transposes) computed as column blocks that OpenBLAS's small kernel handles
/// without allocating: with r = n % 16, the last w = 8 + ⌈r/2⌉ columns (remainder 9…12) and the first
/// n − w (remainder 0 or 9…12) are two ordinary calls. Each element of C is still one dot product
/// accumulated in k order by one call, so only the columns the allocating path used to produce round
/// differently. Where no such split exists (n ≤ 16, or r = 1) the leftover columns run in the loop.
func splitColumnsGEMM(
    m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    beta: Float, c: UnsafeMutablePointer<Float>
) {
    let r = n % 16
    let head: Int  // columns 0..<head through OpenBLAS in one call
    var middle = 0..<0  // a second OpenBLAS block, when one exists
    if n > 16 && r >= 2 {
        let w = 8 + (r + 1) / 2
        head = n - w
        middle = head..<n
    } else if n > 16 {  // r == 1: the first n − 1 columns are a multiple of 16
        head = n - 1
    } else {
        head = 0
    }
    if head > 0 {
        cblasGEMM(transA: false, transB: false, m: m, n: head, k: k, alpha: alpha, a: a, lda: k, b: b, ldb: n, beta: beta, c: c, ldc: n)
    }
    if !middle.isEmpty {
        cblasGEMM(
            transA: false, transB: false, m: m, n: middle.count, k: k, alpha: alpha, a: a, lda: k,
            b: b + middle.lowerBound, ldb: n, beta: beta, c: c + middle.lowerBound, ldc: n)
    }
    let done = middle.isEmpty ? head : n
    if done < n {
        stridedSmallGEMM(
            transA: false, transB: false, m: m, n: n - done, k: k, alpha: alpha, a: a, lda: k,
            b: b + done, ldb: n, beta: beta, c: c + done, ldc: n)
    }
}

/// The plain-loop GEMM for tiny products (same contract as `sgemm`).
public func smallGEMM(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
    beta: Float, c: UnsafeMutablePointer<Float>
) {
    stridedSmallGEMM(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: transA ? m : k,
        b: b, ldb: transB ? k : n, beta: beta, c: c, ldc: n)
}

/// `smallGEMM` with explicit leading dimensions (row strides of A, B and C as stored).
@inline(__always)
func stridedSmallGEMM(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
) {
    for i in 0..<m {
        let row = c + i * ldc
        if beta == 0 { row.update(repeating: 0, count: n) } else if beta != 1 { for j in 0..<n { row[j] *= beta } }
        for p in 0..<k {
            let aip = alpha * (transA ? a[p * lda + i] : a[i * lda + p])
            if aip == 0 { continue }
            if transB {
                for j in 0..<n { row[j] += aip * b[j * ldb + p] }
            } else {
                let bp = b + p * ldb
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
                    sgemm(
                        transA: transposeSelf, transB: transposeOther, m: m, n: n, k: k,
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

/// Time spent inside the training step's GEMMs (`mvvae bench` turns it on): compared with the GEMM
/// floor, where the same products run back to back on cache-resident operands, it shows what cold
/// operands cost inside a real step. Off by default (no clock reads); single-threaded use only.
public enum GEMMProfile {
    nonisolated(unsafe) public static var isEnabled = false
    nonisolated(unsafe) public static var seconds = 0.0
    nonisolated(unsafe) public static var calls = 0

    public static func reset() {
        seconds = 0
        calls = 0
    }
}
