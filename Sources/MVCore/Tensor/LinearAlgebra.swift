import CLinearAlgebra
import Foundation

/// A LAPACK failure, turned into a Swift error a caller can handle.
public enum LinearAlgebraError: Error, Equatable, CustomStringConvertible {
    /// Cholesky failed: the leading minor of this order (1-based) is not positive definite.
    case notPositiveDefinite(order: Int)
    /// LU found an exactly zero pivot at this (1-based) position: the matrix is singular.
    case singular(pivot: Int)
    /// The eigensolver did not converge.
    case noConvergence(Int)
    /// A shape that the routine cannot take.
    case shape(String)

    public var description: String {
        switch self {
        case .notPositiveDefinite(let k): return "matrix is not positive definite (leading minor of order \(k))"
        case .singular(let k): return "matrix is singular (zero pivot at position \(k))"
        case .noConvergence(let k): return "eigendecomposition did not converge (\(k) off-diagonal elements)"
        case .shape(let s): return "bad shape: \(s)"
        }
    }
}

/// Pointer-level LAPACK kernels on row-major square matrices. A row-major matrix read as
/// column-major is its transpose, so each routine calls the column-major interface on the raw
/// buffer with the triangle flipped — no transposition copies, no allocation (the `_work` variants).
public enum LAPACKKernels {
    /// In place: the lower triangle becomes L with A = L Lᵀ; the strict upper triangle is zeroed.
    public static func choleskyLower(_ a: UnsafeMutablePointer<Float>, n: Int) throws {
        if n == 0 { return }
        // Row-major lower == column-major upper.
        let info = LAPACKE_spotrf_work(LAPACK_COL_MAJOR, Int8(UInt8(ascii: "U")), Int32(n), a, Int32(n))
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(order: Int(info)) }
        precondition(info == 0, "spotrf argument \(-info) invalid")
        for i in 0..<n { for j in (i + 1)..<max(i + 1, n) { a[i * n + j] = 0 } }
    }

    /// In place inverse of a general n×n matrix. `ipiv` holds n Int32, `work` n floats (or more).
    public static func invert(
        _ a: UnsafeMutablePointer<Float>, n: Int,
        ipiv: UnsafeMutablePointer<Int32>, work: UnsafeMutablePointer<Float>, workCount: Int
    ) throws {
        if n == 0 { return }
        // inv(Aᵀ) = inv(A)ᵀ, so inverting the column-major reading inverts the row-major matrix.
        var info = LAPACKE_sgetrf_work(LAPACK_COL_MAJOR, Int32(n), Int32(n), a, Int32(n), ipiv)
        if info > 0 { throw LinearAlgebraError.singular(pivot: Int(info)) }
        precondition(info == 0)
        info = LAPACKE_sgetri_work(LAPACK_COL_MAJOR, Int32(n), a, Int32(n), ipiv, work, Int32(workCount))
        if info > 0 { throw LinearAlgebraError.singular(pivot: Int(info)) }
        precondition(info == 0)
    }

    /// log|det A| of a general matrix by LU, destroying `a`.
    public static func logAbsDeterminant(
        _ a: UnsafeMutablePointer<Float>, n: Int,
        ipiv: UnsafeMutablePointer<Int32>
    ) throws -> (logAbs: Float, sign: Float) {
        if n == 0 { return (0, 1) }
        let info = LAPACKE_sgetrf_work(LAPACK_COL_MAJOR, Int32(n), Int32(n), a, Int32(n), ipiv)
        if info > 0 { throw LinearAlgebraError.singular(pivot: Int(info)) }
        precondition(info == 0)
        var logAbs: Double = 0
        var sign: Float = 1
        for i in 0..<n {
            let u = a[i * n + i]
            logAbs += Foundation.log(Double(abs(u)))
            if u < 0 { sign = -sign }
            if Int(ipiv[i]) != i + 1 { sign = -sign }
        }
        return (Float(logAbs), sign)
    }

    /// Solves L X = B (or Lᵀ X = B with `transpose`) in place in `b` (n×k row-major), L lower triangular n×n.
    public static func solveLowerTriangular(
        _ l: UnsafePointer<Float>, n: Int, _ b: UnsafeMutablePointer<Float>, k: Int,
        transpose: Bool = false
    ) {
        if n == 0 || k == 0 { return }
        cblas_strsm(
            CblasRowMajor, CblasLeft, CblasLower, transpose ? CblasTrans : CblasNoTrans, CblasNonUnit,
            Int32(n), Int32(k), 1, l, Int32(n), b, Int32(k))
    }
}

extension Matrix {
    private func requireSquare(_ what: String) throws {
        if rows != cols { throw LinearAlgebraError.shape("\(what) needs a square matrix, got \(rows)x\(cols)") }
    }

    /// Lower-triangular L with self = L Lᵀ (only the lower triangle of self is read).
    public func cholesky() throws -> Matrix {
        try requireSquare("cholesky")
        var l = self
        try l.storage.withUnsafeMutableBufferPointer { try LAPACKKernels.choleskyLower($0.baseAddress!, n: rows) }
        return l
    }

    /// The inverse of a general square matrix.
    public func inverse() throws -> Matrix {
        try requireSquare("inverse")
        var a = self
        var ipiv = [Int32](repeating: 0, count: Swift.max(rows, 1))
        var work = [Float](repeating: 0, count: Swift.max(rows * 64, 1))
        let n = rows
        let workCount = work.count
        try a.storage.withUnsafeMutableBufferPointer { ap in
            try ipiv.withUnsafeMutableBufferPointer { ip in
                try work.withUnsafeMutableBufferPointer { wp in
                    try LAPACKKernels.invert(ap.baseAddress!, n: n, ipiv: ip.baseAddress!, work: wp.baseAddress!, workCount: workCount)
                }
            }
        }
        return a
    }

    /// X with self · X = b, by LU with partial pivoting.
    public func solve(_ b: Matrix) throws -> Matrix {
        try requireSquare("solve")
        if b.rows != rows { throw LinearAlgebraError.shape("solve: A is \(rows)x\(cols) but B has \(b.rows) rows") }
        if rows == 0 || b.cols == 0 { return Matrix(rows: rows, cols: b.cols) }
        var a = self
        var x = b
        var ipiv = [Int32](repeating: 0, count: rows)
        let info = LAPACKE_sgesv(
            LAPACK_ROW_MAJOR, Int32(rows), Int32(b.cols), &a.storage, Int32(rows), &ipiv,
            &x.storage, Int32(b.cols))
        if info > 0 { throw LinearAlgebraError.singular(pivot: Int(info)) }
        precondition(info == 0)
        return x
    }

    /// X with T · X = b for triangular T = self (lower or upper), optionally Tᵀ · X = b.
    public func solveTriangular(_ b: Matrix, lower: Bool, transpose: Bool = false) throws -> Matrix {
        try requireSquare("triangular solve")
        if b.rows != rows { throw LinearAlgebraError.shape("triangular solve: T is \(rows)x\(cols) but B has \(b.rows) rows") }
        for i in 0..<rows where self[i, i] == 0 { throw LinearAlgebraError.singular(pivot: i + 1) }
        var x = b
        if rows == 0 || b.cols == 0 { return x }
        storage.withUnsafeBufferPointer { t in
            x.storage.withUnsafeMutableBufferPointer { xp in
                cblas_strsm(
                    CblasRowMajor, CblasLeft, lower ? CblasLower : CblasUpper, transpose ? CblasTrans : CblasNoTrans,
                    CblasNonUnit, Int32(rows), Int32(b.cols), 1, t.baseAddress!, Int32(rows), xp.baseAddress!, Int32(b.cols))
            }
        }
        return x
    }

    /// log|det self| and the sign of the determinant.
    public func logDeterminant() throws -> (logAbs: Float, sign: Float) {
        try requireSquare("log-determinant")
        var a = self
        var ipiv = [Int32](repeating: 0, count: Swift.max(rows, 1))
        let n = rows
        return try a.storage.withUnsafeMutableBufferPointer { ap in
            try ipiv.withUnsafeMutableBufferPointer { try LAPACKKernels.logAbsDeterminant(ap.baseAddress!, n: n, ipiv: $0.baseAddress!) }
        }
    }

    /// Eigenvalues (ascending) and eigenvectors (as columns) of a symmetric matrix; reads the lower triangle.
    public func symmetricEigen() throws -> (values: [Float], vectors: Matrix) {
        try requireSquare("symmetric eigendecomposition")
        var a = self
        var w = [Float](repeating: 0, count: rows)
        if rows == 0 { return ([], a) }
        let info = LAPACKE_ssyevd(
            LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "L")), Int32(rows),
            &a.storage, Int32(rows), &w)
        if info > 0 { throw LinearAlgebraError.noConvergence(Int(info)) }
        precondition(info == 0)
        return (w, a)
    }
}
