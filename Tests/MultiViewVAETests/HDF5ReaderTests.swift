import Foundation
import XCTest
@testable import MVCore
@testable import MVIO

/// AnnData files as users keep them, written by the reference `anndata` and `h5py` packages
/// (Tests/python/anndata_files.py), read through the HDF5 C library: dense, CSR and CSC arrays of any
/// numeric type give the same rows as NumPy, in any row range; anndata 0.7's layout too; bad elements are
/// named. Needs python3 with anndata and h5py (launch/setup installs them).
final class HDF5ReaderTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/anndata_files.py").path
    static var folder: String?
    struct Missing: Error, CustomStringConvertible { let description: String }

    /// The files, written once for the whole class.
    func files() throws -> String {
        if let folder = Self.folder { return folder }
        let folder = NSTemporaryDirectory() + "mvvae-hdf5-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script, folder]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Missing(
                description: process.terminationStatus == 3
                    ? "python3 lacks anndata/h5py (\(message)); run launch/setup" : "anndata_files.py failed: \(message)")
        }
        Self.folder = folder
        return folder
    }

    func expected(_ name: String) throws -> Matrix { try NPYFile(path: try files() + "/\(name).npy").matrix() }

    func testEveryStorageGivesNumPysRowsInAnyRange() throws {
        let folder = try files()
        let file = try HDF5File(path: folder + "/current.h5ad")
        let cases: [(String, AnnDataArray.Storage, String)] = [
            ("X", .csr, "normalised"), ("layers/counts", .csr, "counts"), ("layers/counts_csc", .csc, "counts"),
            ("layers/dense", .dense, "normalised"), ("obsm/protein_expression", .dense, "protein"), ("obsm/X_latent", .dense, "latent"),
        ]
        for (element, storage, name) in cases {
            let array = try AnnDataArray(file: file, element: element), truth = try expected(name)
            XCTAssertEqual(array.storage, storage, element)
            XCTAssertEqual([array.rows, array.cols], [truth.rows, truth.cols], element)
            for range in [0..<truth.rows, 0..<1, 5..<12, (truth.rows - 3)..<truth.rows, 7..<7] {
                let got = try array.rows(range)
                XCTAssertEqual(got.rows, range.count)
                XCTAssertEqual(got.storage, truth.rows(range).storage, "\(element) rows \(range)")
            }
        }
    }

    func testAnndata07LayoutReads() throws {
        let folder = try files()
        let file = try HDF5File(path: folder + "/old.h5ad")
        let x = try AnnDataArray(file: file, element: "X"), counts = try AnnDataArray(file: file, element: "layers/counts")
        XCTAssertEqual(x.storage, .dense)
        XCTAssertEqual(counts.storage, .csr)
        XCTAssertEqual(try x.rows(3..<9).storage, try expected("normalised").rows(3..<9).storage)
        XCTAssertEqual(try counts.rows(0..<23).storage, try expected("counts").storage)
    }

    func testAttributesChildrenAndStrings() throws {
        let file = try HDF5File(path: try files() + "/current.h5ad")
        XCTAssertEqual(file.stringAttribute("encoding-type", of: "/"), "anndata")
        XCTAssertEqual(file.stringAttribute("encoding-type", of: "obs/cell_type"), "categorical")
        XCTAssertEqual(file.integerAttribute("shape", of: "layers/counts"), [23, 11])
        XCTAssertNil(file.stringAttribute("no-such-attribute", of: "X"))
        XCTAssertEqual(try file.children(of: "obsm"), ["X_latent", "protein_expression"])
        XCTAssertEqual(try file.strings("obs/cell_type/categories"), ["B", "NK", "T"])
        XCTAssertEqual(try file.strings("obs/_index").prefix(3), ["c0", "c1", "c2"])
        let codes = try file.integers("obs/cell_type/codes", 0..<23)
        XCTAssertTrue(codes.allSatisfy { (0..<3).contains($0) })
    }

    func testBadFilesAndElementsAreNamed() throws {
        let folder = try files()
        func message(_ body: () throws -> Any) -> String {
            do {
                _ = try body()
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(message { try HDF5File(path: folder + "/none.h5ad") }, "\(folder)/none.h5ad: file not found")
        XCTAssertTrue(
            message { try HDF5File(path: folder + "/counts.npy") }.hasSuffix("counts.npy: not an HDF5 file (.h5ad and .h5mu files are)"))
        let file = try HDF5File(path: folder + "/current.h5ad")
        XCTAssertEqual(
            message { try AnnDataArray(file: file, element: "layers/missing") }, "\(folder)/current.h5ad: 'layers/missing': not in the file"
        )
        XCTAssertTrue(
            message { try AnnDataArray(file: file, element: "obs") }.contains("'obs': is a group of encoding 'dataframe', not a 2-D array"))
        XCTAssertTrue(message { try AnnDataArray(file: file, element: "obs/batch") }.contains("has 1 dimensions; a view needs a 2-D array"))
        XCTAssertTrue(message { try AnnDataArray(file: file, element: "obs/_index") }.contains("has 1 dimensions"))
        let x = try AnnDataArray(file: file, element: "X")
        XCTAssertTrue(message { try x.rows(20..<24) }.contains("rows 20..<24 asked of 23"))
    }
}
