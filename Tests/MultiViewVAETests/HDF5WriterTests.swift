import Foundation
import XCTest
@testable import MVCore
@testable import MVIO

/// AnnData files this tool writes read back through its own reader with the same values (anndata's own
/// reading of them is checked in Tests/cli/anndata.sh), and a failed write leaves nothing behind.
final class HDF5WriterTests: XCTestCase {
    func folder() throws -> String {
        let folder = NSTemporaryDirectory() + "mvvae-hdf5-writer-\(getpid())-\(name.filter(\.isLetter))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: folder) }
        return folder
    }

    func testAnnDataRoundTrip() throws {
        let path = try folder() + "/out.h5ad"
        let obs = AnnDataFrame(
            index: ["c0", "cellule-é", "c2"],
            columns: [
                ("kind", .categorical(codes: [1, -1, 0], categories: ["B", "T"])), ("count", .integers([3, -4, 1 << 40])),
                ("score", .floats([0.5, -1.25, 3])), ("note", .strings(["a", "", "ü"])),
            ])
        var writer = AnnDataWriter(
            obs: obs, variables: AnnDataFrame(index: ["g0", "g1"]), x: Matrix(rows: 3, cols: 2, [1, 2, 3, 4, 5, 6]))
        writer.obsm["X_mvvae"] = Matrix(rows: 3, cols: 1, [7, 8, 9])
        writer.layers["std"] = Matrix(rows: 3, cols: 2, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6])
        writer.uns["mvvae_columns"] = ["z1"]
        try writer.write(to: path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".tmp-\(getpid())"))

        let file = try HDF5File(path: path)
        XCTAssertEqual(file.stringAttribute("encoding-type", of: "/"), "anndata")
        let (back, skipped) = try AnnDataFrame.read(file: file, element: "obs", rows: [2, 0, 1])
        XCTAssertEqual(skipped, [])
        XCTAssertEqual(back.index, ["c2", "c0", "cellule-é"])
        XCTAssertEqual(back.columns.map(\.name), ["kind", "count", "score", "note"])
        guard case .categorical(let codes, let categories) = back.columns[0].values,
            case .integers(let counts) = back.columns[1].values, case .floats(let scores) = back.columns[2].values,
            case .strings(let notes) = back.columns[3].values
        else { return XCTFail("column kinds changed: \(back.columns)") }
        XCTAssertEqual(codes, [0, 1, -1])
        XCTAssertEqual(categories, ["B", "T"])
        XCTAssertEqual(counts, [1 << 40, 3, -4])
        XCTAssertEqual(scores, [3, 0.5, -1.25])
        XCTAssertEqual(notes, ["ü", "a", ""])
        XCTAssertEqual(try file.floatRows("X", 1..<3).storage, [3, 4, 5, 6])
        XCTAssertEqual(try file.floatRows("obsm/X_mvvae", 0..<3).storage, [7, 8, 9])
        XCTAssertEqual(try file.floatRows("layers/std", 2..<3).storage, [0.5, 0.6])
        XCTAssertEqual(try file.strings("uns/mvvae_columns"), ["z1"])
        XCTAssertEqual(try AnnDataFrame.read(file: file, element: "var", rows: [0, 1]).frame.index, ["g0", "g1"])
        XCTAssertEqual(try file.stringArrayAttribute("column-order", of: "var"), [])
        XCTAssertThrowsError(try AnnDataFrame.read(file: file, element: "obs", rows: [3])) { error in
            XCTAssertTrue("\(error)".contains("'obs/_index'"), "\(error)")
        }
    }

    func testFailedWriteLeavesNothing() throws {
        let dir = try folder()
        let path = dir + "/out.h5ad"
        try "keep".write(toFile: path, atomically: true, encoding: .utf8)
        // Two datasets of one name: HDF5 refuses the second, the good file in place stays as it was.
        func failedWrite() throws {
            let writer = try HDF5Writer(path: path)
            try writer.strings("a", ["x"])
            XCTAssertThrowsError(try writer.strings("a", ["y"])) { error in
                XCTAssertTrue("\(error)".contains("'a': cannot create the dataset"), "\(error)")
            }
        }
        try failedWrite()
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "keep")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.h5ad"], "the unfinished file is left behind")
        XCTAssertThrowsError(try HDF5Writer(path: dir + "/no/such/folder/x.h5ad")) { error in
            XCTAssertTrue("\(error)".contains("cannot create the file"), "\(error)")
        }
    }
}
