import CLinearAlgebra
import Foundation

/// A dense row-major matrix of `Double` for the reference computations of the linear-Gaussian
/// experiment (exact log-likelihoods, covariances, eigen-, QR and singular value decompositions),
/// where `Matrix`'s Float would lose digits: a log-likelihood of 5000 rows × 300 features sums
/// ~10⁶ terms, and relative log-likelihood gaps of 10⁻⁴ are what the experiment reports.
///
/// LAPACK is called through LAPACKE's row-major interface (it transposes internally; the matrices
/// here are at most a few hundred on a side, so the copies do not matter).
package struct DoubleMatrix: Equatable {
    package var rows: Int
    package var cols: Int
    /// Element (i, j) is `storage[i * cols + j]`.
    package var storage: [Double]

    package init(rows: Int, cols: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && cols >= 0, "negative matrix shape")
        self.rows = rows
        self.cols = cols
        storage = [Double](repeating: value, count: rows * cols)
    }

    package init(rows: Int, cols: Int, _ values: [Double]) {
        precondition(values.count == rows * cols, "DoubleMatrix(\(rows)x\(cols)) needs \(rows * cols) values, got \(values.count)")
        self.rows = rows
        self.cols = cols
        storage = values
    }

    /// The Float matrix widened to Double.
    package init(_ m: Matrix) {
        self.init(rows: m.rows, cols: m.cols, m.storage.map(Double.init))
    }

    package static func identity(_ n: Int) -> DoubleMatrix {
        var m = DoubleMatrix(rows: n, cols: n)
        for i in 0..<n { m.storage[i * n + i] = 1 }
        return m
    }

    /// A diagonal matrix with `values` on the diagonal.
    package static func diagonal(_ values: [Double]) -> DoubleMatrix {
        var m = DoubleMatrix(rows: values.count, cols: values.count)
        for (i, v) in values.enumerated() { m.storage[i * values.count + i] = v }
        return m
    }

    package subscript(i: Int, j: Int) -> Double {
        get { storage[i * cols + j] }
        set { storage[i * cols + j] = newValue }
    }

    /// Rounded to Float.
    package var floatMatrix: Matrix { Matrix(rows: rows, cols: cols, storage.map { Float($0) }) }

    package var transposed: DoubleMatrix {
        var t = DoubleMatrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t.storage[j * rows + i] = storage[i * cols + j] } }
        return t
    }

    package var diagonalElements: [Double] { (0..<Swift.min(rows, cols)).map { self[$0, $0] } }

    /// Columns `range` as a new matrix.
    package func columns(_ range: Range<Int>) -> DoubleMatrix {
        var out = DoubleMatrix(rows: rows, cols: range.count)
        for i in 0..<rows {
            for (k, j) in range.enumerated() { out.storage[i * range.count + k] = storage[i * cols + j] }
        }
        return out
    }

    /// The given rows, in the given order, as a new matrix.
    package func selectingRows(_ indices: [Int]) -> DoubleMatrix {
        var out = DoubleMatrix(rows: indices.count, cols: cols)
        for (k, i) in indices.enumerated() {
            for j in 0..<cols { out.storage[k * cols + j] = storage[i * cols + j] }
        }
        return out
    }

    /// The square submatrix with the given rows and columns.
    package func selecting(rows rowIndices: [Int], cols colIndices: [Int]) -> DoubleMatrix {
        var out = DoubleMatrix(rows: rowIndices.count, cols: colIndices.count)
        for (a, i) in rowIndices.enumerated() {
            for (b, j) in colIndices.enumerated() { out.storage[a * colIndices.count + b] = storage[i * cols + j] }
        }
        return out
    }

    /// Column means.
    package var columnMeans: [Double] {
        var m = [Double](repeating: 0, count: cols)
        if rows == 0 { return m }
        for i in 0..<rows { for j in 0..<cols { m[j] += storage[i * cols + j] } }
        return m.map { $0 / Double(rows) }
    }

    /// Subtracts `v[j]` from every element of column j.
    package func subtractingFromColumns(_ v: [Double]) -> DoubleMatrix {
        precondition(v.count == cols, "vector of \(v.count) for \(cols) columns")
        var out = self
        for i in 0..<rows { for j in 0..<cols { out.storage[i * cols + j] -= v[j] } }
        return out
    }

    /// op(self) · op(other) through BLAS (dgemm).
    package func matmul(_ other: DoubleMatrix, transposeSelf: Bool = false, transposeOther: Bool = false) -> DoubleMatrix {
        let m = transposeSelf ? cols : rows
        let k = transposeSelf ? rows : cols
        let k2 = transposeOther ? other.cols : other.rows
        let n = transposeOther ? other.rows : other.cols
        precondition(k == k2, "matmul inner dimensions differ: \(k) vs \(k2)")
        var out = DoubleMatrix(rows: m, cols: n)
        if m == 0 || n == 0 || k == 0 { return out }
        storage.withUnsafeBufferPointer { a in
            other.storage.withUnsafeBufferPointer { b in
                out.storage.withUnsafeMutableBufferPointer { c in
                    cblas_dgemm(
                        CblasRowMajor, transposeSelf ? CblasTrans : CblasNoTrans,
                        transposeOther ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), Int32(k),
                        1, a.baseAddress!, Int32(cols), b.baseAddress!, Int32(other.cols),
                        0, c.baseAddress!, Int32(n))
                }
            }
        }
        return out
    }

    package static func * (lhs: DoubleMatrix, rhs: DoubleMatrix) -> DoubleMatrix { lhs.matmul(rhs) }

    package static func + (lhs: DoubleMatrix, rhs: DoubleMatrix) -> DoubleMatrix {
        precondition(lhs.rows == rhs.rows && lhs.cols == rhs.cols, "shape mismatch")
        var out = lhs
        for i in 0..<out.storage.count { out.storage[i] += rhs.storage[i] }
        return out
    }

    package static func - (lhs: DoubleMatrix, rhs: DoubleMatrix) -> DoubleMatrix {
        precondition(lhs.rows == rhs.rows && lhs.cols == rhs.cols, "shape mismatch")
        var out = lhs
        for i in 0..<out.storage.count { out.storage[i] -= rhs.storage[i] }
        return out
    }

    /// Largest absolute elementwise difference; shapes must match.
    package func maxAbsDifference(_ other: DoubleMatrix) -> Double {
        precondition(rows == other.rows && cols == other.cols, "shape mismatch")
        var d = 0.0
        for i in 0..<storage.count { d = Swift.max(d, abs(storage[i] - other.storage[i])) }
        return d
    }

    private func requireSquare(_ what: String) throws {
        if rows != cols { throw LinearAlgebraError.shape("\(what) needs a square matrix, got \(rows)x\(cols)") }
    }

    // MARK: LAPACK

    /// Lower-triangular L with self = L Lᵀ (dpotrf; only the lower triangle of self is read).
    package func cholesky() throws -> DoubleMatrix {
        try requireSquare("cholesky")
        var l = self
        if rows == 0 { return l }
        let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(rows), &l.storage, Int32(rows))
        if info > 0 { throw LinearAlgebraError.notPositiveDefinite(order: Int(info)) }
        precondition(info == 0, "dpotrf argument \(-info) invalid")
        for i in 0..<rows { for j in (i + 1)..<Swift.max(i + 1, rows) { l.storage[i * rows + j] = 0 } }
        return l
    }

    /// For lower-triangular self = L: X with L X = b, or Lᵀ X = b with `transpose` (dtrsm).
    package func solveLower(_ b: DoubleMatrix, transpose: Bool = false) -> DoubleMatrix {
        precondition(rows == cols && b.rows == rows, "solveLower: L is \(rows)x\(cols), B is \(b.rows)x\(b.cols)")
        var x = b
        if rows == 0 || b.cols == 0 { return x }
        storage.withUnsafeBufferPointer { l in
            x.storage.withUnsafeMutableBufferPointer { xp in
                cblas_dtrsm(
                    CblasRowMajor, CblasLeft, CblasLower, transpose ? CblasTrans : CblasNoTrans, CblasNonUnit,
                    Int32(rows), Int32(b.cols), 1, l.baseAddress!, Int32(rows), xp.baseAddress!, Int32(b.cols))
            }
        }
        return x
    }

    /// For lower-triangular L = `lower` (n×n) and self = B (m×n): B L⁻ᵀ, whose row i is (L⁻¹ bᵢ)ᵀ.
    /// With L the Cholesky factor of a covariance C, the squared norm of row i is bᵢᵀ C⁻¹ bᵢ.
    package func whitenedRows(by lower: DoubleMatrix) -> DoubleMatrix {
        precondition(lower.rows == lower.cols && lower.rows == cols, "whitenedRows: L is \(lower.rows)x\(lower.cols), rows have \(cols)")
        var y = self
        if rows == 0 || cols == 0 { return y }
        lower.storage.withUnsafeBufferPointer { l in
            y.storage.withUnsafeMutableBufferPointer { yp in
                // Solves Y Lᵀ = B.
                cblas_dtrsm(
                    CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit,
                    Int32(rows), Int32(cols), 1, l.baseAddress!, Int32(cols), yp.baseAddress!, Int32(cols))
            }
        }
        return y
    }

    /// Eigenvalues (ascending) and eigenvectors (columns) of a symmetric matrix (dsyevd; reads the lower triangle).
    package func symmetricEigen() throws -> (values: [Double], vectors: DoubleMatrix) {
        try requireSquare("symmetric eigendecomposition")
        var a = self
        var w = [Double](repeating: 0, count: rows)
        if rows == 0 { return ([], a) }
        let info = LAPACKE_dsyevd(
            LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "L")), Int32(rows),
            &a.storage, Int32(rows), &w)
        if info > 0 { throw LinearAlgebraError.noConvergence(Int(info)) }
        precondition(info == 0, "dsyevd argument \(-info) invalid")
        return (w, a)
    }

    /// The thin QR decomposition self = Q R of an m×n matrix with m ≥ n: Q is m×n with orthonormal
    /// columns and R is n×n upper triangular with a non-negative diagonal. Computed by Householder
    /// reflections (dgeqrf, Q formed by dorgqr), then each column j of Q and row j of R is negated
    /// where LAPACK's R has R_jj < 0. With full column rank this Q R is unique: Q is the Gram–Schmidt
    /// orthonormalisation of self's columns.
    package func thinQR() -> (q: DoubleMatrix, r: DoubleMatrix) {
        precondition(rows >= cols, "thinQR needs rows ≥ cols, got \(rows)x\(cols)")
        let m = rows, n = cols
        if n == 0 { return (DoubleMatrix(rows: m, cols: 0), DoubleMatrix(rows: 0, cols: 0)) }
        var a = self
        var tau = [Double](repeating: 0, count: n)
        var info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), &a.storage, Int32(n), &tau)
        precondition(info == 0, "dgeqrf failed: \(info)")
        var r = DoubleMatrix(rows: n, cols: n)
        for i in 0..<n { for j in i..<n { r[i, j] = a[i, j] } }
        info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), &a.storage, Int32(n), &tau)
        precondition(info == 0, "dorgqr failed: \(info)")
        for j in 0..<n where r[j, j] < 0 {
            for i in 0..<m { a[i, j] = -a[i, j] }
            for k in j..<n { r[j, k] = -r[j, k] }
        }
        return (a, r)
    }

    /// The thin singular value decomposition self = U diag(s) Vᵀ (dgesvd): U is m×k, s descending
    /// (k = min(m, n)), Vᵀ is k×n.
    package func singularValueDecomposition() throws -> (u: DoubleMatrix, s: [Double], vt: DoubleMatrix) {
        let m = rows, n = cols, k = Swift.min(rows, cols)
        if k == 0 { return (DoubleMatrix(rows: m, cols: 0), [], DoubleMatrix(rows: 0, cols: n)) }
        var a = self
        var s = [Double](repeating: 0, count: k)
        var u = DoubleMatrix(rows: m, cols: k)
        var vt = DoubleMatrix(rows: k, cols: n)
        var superb = [Double](repeating: 0, count: Swift.max(k - 1, 1))
        let info = LAPACKE_dgesvd(
            LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "S")), Int8(UInt8(ascii: "S")),
            Int32(m), Int32(n), &a.storage, Int32(n), &s, &u.storage, Int32(k),
            &vt.storage, Int32(n), &superb)
        if info > 0 { throw LinearAlgebraError.noConvergence(Int(info)) }
        precondition(info == 0, "dgesvd argument \(-info) invalid")
        return (u, s, vt)
    }
}
