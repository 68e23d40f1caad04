import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The Matrix-level LAPACK wrappers (row-major data through column-major LAPACK) and their errors.
final class LinearAlgebraTests: XCTestCase {
    /// A symmetric positive-definite test matrix: M Mᵀ + I.
    private func spd(_ n: Int, seed: UInt64) -> Matrix {
        let m = uniform(n, n, seed: seed)
        return m.matmul(m, transposeOther: true) + Matrix.identity(n)
    }

    private func assertClose(
        _ a: Matrix, _ b: Matrix, _ tol: Float = 1e-4, _ what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(a.rows, b.rows, what, file: file, line: line)
        XCTAssertEqual(a.cols, b.cols, what, file: file, line: line)
        guard a.rows == b.rows && a.cols == b.cols else { return }
        XCTAssertLessThanOrEqual(a.maxAbsDifference(b), tol, "\(what)\n\(a)\nvs\n\(b)", file: file, line: line)
    }

    /// Asserts that `body` throws exactly the error matched by `matches`.
    private func assertThrows<T>(
        _ what: String, _ body: () throws -> T, matches: (LinearAlgebraError) -> Bool,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try body()
            XCTFail("\(what) did not throw", file: file, line: line)
        } catch let e as LinearAlgebraError {
            XCTAssertTrue(matches(e), "\(what) threw the wrong error: \(e)", file: file, line: line)
        } catch {
            XCTFail("\(what) threw a non-LinearAlgebraError: \(error)", file: file, line: line)
        }
    }

    private static func isSingular(_ e: LinearAlgebraError) -> Bool { if case .singular = e { return true }; return false }
    private static func isNotPD(_ e: LinearAlgebraError) -> Bool { if case .notPositiveDefinite = e { return true }; return false }

    /// Singular in exact binary arithmetic: the second row is twice the first.
    private let singular = Matrix([[1, 2, 3], [2, 4, 6], [0, 1, 5]])
    /// Symmetric but indefinite: eigenvalues 3 and −1, so the order-2 leading minor fails.
    private let indefinite = Matrix([[1, 2], [2, 1]])

    func testCholeskyReconstructsAndIsLowerTriangular() throws {
        let a = spd(4, seed: 1)
        let l = try a.cholesky()
        for i in 0..<4 { for j in (i + 1)..<4 { XCTAssertEqual(l[i, j], 0, "upper triangle must be zero") } }
        for i in 0..<4 { XCTAssertGreaterThan(l[i, i], 0) }
        assertClose(l.matmul(l, transposeOther: true), a, 1e-4, "L Lᵀ = A")
    }

    func testInverse() throws {
        let a = wellConditioned(4, seed: 2)
        let inv = try a.inverse()
        assertClose(inv * a, Matrix.identity(4), 1e-5, "A⁻¹ A = I")
        assertClose(a * inv, Matrix.identity(4), 1e-5, "A A⁻¹ = I")
    }

    func testSolve() throws {
        let a = wellConditioned(4, seed: 3), b = uniform(4, 3, seed: 4)
        let x = try a.solve(b)
        assertClose(a * x, b, 1e-5, "A X = B")
    }

    func testSolveTriangular() throws {
        let l = try spd(4, seed: 5).cholesky()
        let u = l.transposed
        let b = uniform(4, 2, seed: 6)
        assertClose(l * (try l.solveTriangular(b, lower: true)), b, 1e-4, "L X = B")
        assertClose(u * (try u.solveTriangular(b, lower: false)), b, 1e-4, "U X = B")
        assertClose(u * (try l.solveTriangular(b, lower: true, transpose: true)), b, 1e-4, "Lᵀ X = B")
        assertThrows(
            "solveTriangular with a zero diagonal", { try Matrix([[1, 0], [1, 0]]).solveTriangular(b.rows(0..<2), lower: true) },
            matches: Self.isSingular)
    }

    func testLogDeterminantMatchesEigenvalues() throws {
        let a = spd(4, seed: 7)
        let (values, _) = try a.symmetricEigen()
        let expected = values.reduce(0) { $0 + Foundation.log(Double($1)) }
        let (logAbs, sign) = try a.logDeterminant()
        XCTAssertEqual(Double(logAbs), expected, accuracy: 1e-4)
        XCTAssertEqual(sign, 1)
    }

    func testLogDeterminantSign() throws {
        // diag(2, 3, 4) with its first two rows swapped: det = −24, so LU must count the pivot swap.
        let a = Matrix([[0, 3, 0], [2, 0, 0], [0, 0, 4]])
        let (logAbs, sign) = try a.logDeterminant()
        XCTAssertEqual(logAbs, Float(Foundation.log(24.0)), accuracy: 1e-5)
        XCTAssertEqual(sign, -1)
        let (logAbs2, sign2) = try Matrix([[-2, 0], [0, 5]]).logDeterminant()
        XCTAssertEqual(logAbs2, Float(Foundation.log(10.0)), accuracy: 1e-5)
        XCTAssertEqual(sign2, -1)
    }

    func testSymmetricEigenReconstructs() throws {
        let a = spd(4, seed: 8)
        let (values, v) = try a.symmetricEigen()
        XCTAssertEqual(values, values.sorted(), "eigenvalues ascending")
        var d = Matrix(rows: 4, cols: 4)
        for i in 0..<4 { d[i, i] = values[i] }
        assertClose(v * d * v.transposed, a, 1e-4, "V Λ Vᵀ = A")
        assertClose(v.transposed * v, Matrix.identity(4), 1e-5, "Vᵀ V = I")
        // Each column is an eigenvector: A v = λ v.
        for j in 0..<4 { assertClose(a * v.columns(j..<(j + 1)), values[j] * v.columns(j..<(j + 1)), 1e-4, "A v\(j) = λ v\(j)") }
    }

    func testFailuresThrow() {
        assertThrows("cholesky of an indefinite matrix", { try indefinite.cholesky() }) {
            $0 == .notPositiveDefinite(order: 2)
        }
        assertThrows("inverse of a singular matrix", { try singular.inverse() }, matches: Self.isSingular)
        assertThrows(
            "solve with a singular matrix", { try singular.solve(Matrix(rows: 3, cols: 1, repeating: 1)) },
            matches: Self.isSingular)
        assertThrows("logDeterminant of a singular matrix", { try singular.logDeterminant() }, matches: Self.isSingular)
        assertThrows("cholesky of a non-square matrix", { try Matrix(rows: 2, cols: 3).cholesky() }) {
            if case .shape = $0 { return true }; return false
        }
    }

    func testTapeOpsThrow() {
        let tape = Tape()
        assertThrows("Tape.cholesky of an indefinite matrix", { try tape.cholesky(tape.variable(indefinite)) }, matches: Self.isNotPD)
        assertThrows("Tape.inverse of a singular matrix", { try tape.inverse(tape.variable(singular)) }, matches: Self.isSingular)
        assertThrows(
            "Tape.solve with a singular matrix",
            {
                try tape.solve(tape.variable(singular), tape.constant(Matrix(rows: 3, cols: 1, repeating: 1)))
            }, matches: Self.isSingular)
        assertThrows(
            "Tape.logDeterminant of a singular matrix", { try tape.logDeterminant(tape.variable(singular)) },
            matches: Self.isSingular)
    }
}
