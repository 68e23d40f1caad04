import Foundation
import XCTest
@testable import MVCore
@testable import MVData
@testable import MVIO

/// Views as .csv/.tsv tables: headers (named, or pandas' 0…n−1) and index columns found, quotes and CRLF
/// read, and every malformed table refused naming the file and line.
final class DelimitedTableTests: XCTestCase {
    func write(_ text: String, _ name: String) throws -> String {
        let folder = NSTemporaryDirectory() + "mvvae-table-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        let path = "\(folder)/\(name)"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testHeadersIndexesQuotesAndLineEnds() throws {
        // pandas' to_csv: an empty index header, named columns, a quoted name with a comma, CRLF endings.
        let a = try DelimitedTable(path: try write(",g1,\"g,2\"\r\nc0,1.5,-2\r\nc1,3e2,0\r\n", "a.csv"))
        XCTAssertEqual(a.values.storage, [1.5, -2, 300, 0])
        XCTAssertEqual(a.columnNames, ["g1", "g,2"])
        XCTAssertEqual(a.rowNames, ["c0", "c1"])
        // No header, no index; blank lines ignored.
        let b = try DelimitedTable(path: try write("1,2,3\n\n4,5,6\n", "b.csv"))
        XCTAssertEqual(b.values.rows, 2)
        XCTAssertNil(b.columnNames)
        XCTAssertNil(b.rowNames)
        // Tab-separated with pandas' default column names 0…n−1 and no index.
        let c = try DelimitedTable(path: try write("0\t1\n0.5\t1\n2\t3\n", "c.tsv"))
        XCTAssertEqual(c.values.storage, [0.5, 1, 2, 3])
        XCTAssertEqual(c.columnNames, ["0", "1"])
        // A named index column under a header.
        let d = try DelimitedTable(path: try write("cell,a,b\nx,1,2\ny,3,4\n", "d.csv"))
        XCTAssertEqual(d.rowNames, ["x", "y"])
        XCTAssertEqual(d.columnNames, ["a", "b"])
        XCTAssertEqual(d.values.storage, [1, 2, 3, 4])
    }

    func testMalformedTablesAreNamed() throws {
        let cases: [(String, String)] = [
            ("a,b\n1,2\n3\n", "line 3: has 1 fields; line 2 has 2"),
            ("a,b\n1,NA\n", "line 2: column 2 ('b') holds 'NA', not a finite number"),
            ("1,2\n3,inf\n", "line 2: column 2 holds 'inf', not a finite number"),
            ("a,\"b\n1,2\n", "line 1: a quoted field is not closed"),
            ("a,b,c\n1,2\n", "line 1: the header has 3 fields; the rows have 2"),
            ("a,b\n", "has a header and no rows"),
            ("\n\n", "holds no rows"),
            ("name\nx\ny\n", "has no value columns"),
        ]
        for (i, (text, expected)) in cases.enumerated() {
            let path = try write(text, "bad\(i).csv")
            XCTAssertThrowsError(try DelimitedTable(path: path), text) { error in
                XCTAssertTrue("\(error)".contains(path) && "\(error)".contains(expected), "\(error) lacks '\(expected)'")
            }
        }
        XCTAssertThrowsError(try DelimitedTable(path: "/nonexistent/x.csv")) { XCTAssertTrue("\($0)".contains("/nonexistent/x.csv")) }
    }

    /// A data set of a .csv and a .tsv view names them by file and says which file disagrees.
    func testViewsFromTables() throws {
        let a = try write(",f\nr0,1\nr1,2\nr2,3\n", "left.csv"), b = try write("0\t1\n1\t2\n3\t4\n5\t6\n", "right.tsv")
        let data = try MultiViewDataset(npyViews: [a, b])
        XCTAssertEqual(data.names, ["left", "right"])
        XCTAssertEqual(data.dimensions, [1, 2])
        let short = try write("1,2\n", "short.csv")
        XCTAssertThrowsError(try MultiViewDataset(npyViews: [a, short])) { XCTAssertTrue("\($0)".contains(short), "\($0)") }
    }
}
