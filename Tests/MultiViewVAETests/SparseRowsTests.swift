import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVIO
@testable import MVTraining

/// Sparse views held by rows: rows expand to the dense values, a broken structure is refused, and the
/// value checks before training read the stored values and name the row and column of a bad one.
final class SparseRowsTests: XCTestCase {
    // 3 × 4: row 0 = [0, 1, 0, 2], row 1 empty, row 2 = [3, 0, 0, 0].
    func sparse(_ values: [Float] = [1, 2, 3]) throws -> SparseRows {
        try SparseRows(rows: 3, cols: 4, indptr: [0, 2, 2, 3], indices: [1, 3, 0], values: values, origin: "test")
    }

    func testRowsExpandToTheirDenseValues() throws {
        let data = try MultiViewDataset(
            views: [.sparse(try sparse()), .matrix(Matrix(rows: 3, cols: 1))], names: ["a", "b"], labels: nil, labelsOrigin: "", mask: nil)
        var out = [Float](repeating: -1, count: 16)
        out.withUnsafeMutableBufferPointer { data.gather(view: 0, rows: [2, 1, 0, 0], into: $0.baseAddress!) }
        XCTAssertEqual(out, [3, 0, 0, 0] + [0, 0, 0, 0] + [0, 1, 0, 2] + [0, 1, 0, 2])
        XCTAssertEqual(try sparse().density, 0.25)
    }

    func testABrokenStructureIsRefused() {
        XCTAssertThrowsError(try SparseRows(rows: 3, cols: 4, indptr: [0, 2, 1, 3], indices: [1, 3, 0], values: [1, 2, 3], origin: "f")) {
            XCTAssertTrue("\($0)".contains("Sparse array f: indptr does not rise from 0 to the 3 values"), "\($0)")
        }
        XCTAssertThrowsError(try SparseRows(rows: 3, cols: 4, indptr: [0, 2, 2, 3], indices: [1, 4, 0], values: [1, 2, 3], origin: "f")) {
            XCTAssertTrue("\($0)".contains("row 0 has column index 4 outside 0..<4"), "\($0)")
        }
    }

    func testValueChecksNameTheRowAndColumn() throws {
        func check(_ values: [Float], _ likelihood: ModelConfig.Likelihood) throws {
            let data = try MultiViewDataset(
                views: [.sparse(try sparse(values)), .matrix(Matrix(rows: 3, cols: 1))], names: ["a", "b"], labels: nil, labelsOrigin: "",
                mask: nil)
            try ExperimentData.check(data, likelihoods: { _ in likelihood })
        }
        XCTAssertNoThrow(try check([1, 2, 3], .gaussian))
        XCTAssertThrowsError(try check([1, .nan, 3], .gaussian)) { error in
            guard case let .badValue(view, _, row, column, _, _) = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual([view, "\(row)", "\(column)"], ["a", "0", "3"])
        }
        XCTAssertThrowsError(try check([1, 0.5, 3], .bernoulli)) { error in
            guard case let .badValue(_, _, row, column, value, reason) = error as? DataError else { return XCTFail("\(error)") }
            XCTAssertEqual([row, column], [2, 0])
            XCTAssertEqual(value, 3)
            XCTAssertTrue(reason.contains("outside [0, 1]"))
        }
    }
}
