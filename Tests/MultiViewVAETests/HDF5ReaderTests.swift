import Foundation
import XCTest
@testable import MVCore
@testable import MVData
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

    /// `data.source: anndata`: a CSR, a CSC and a dense array of one file as views, rows as NumPy's (a batch
    /// gathers arbitrary rows), the categorical obs column as labels, the sparse views held by their non-zeros.
    func testAnAnnDataFileIsADataSet() throws {
        let folder = try files()
        let data = try MultiViewDataset(
            annData: folder + "/current.h5ad", views: ["layers/counts", "layers/counts_csc", "obsm/protein_expression"],
            labels: "obs/cell_type")
        XCTAssertEqual(data.names, ["counts", "counts_csc", "protein_expression"])
        XCTAssertEqual(data.count, 23)
        guard case .sparse(let counts) = data.views[0], case .sparse = data.views[1], case .matrix = data.views[2] else {
            return XCTFail("sparse arrays are held sparse, dense ones dense: \(data.views)")
        }
        XCTAssertEqual(counts.values.count, try expected("counts").storage.filter { $0 != 0 }.count)
        let rows = [22, 0, 5, 5, 13]
        for (k, name) in [(0, "counts"), (1, "counts"), (2, "protein")] {
            var out = [Float](repeating: 0, count: rows.count * data.views[k].cols)
            out.withUnsafeMutableBufferPointer { data.gather(view: k, rows: rows, into: $0.baseAddress!) }
            let truth = try expected(name)
            XCTAssertEqual(out, rows.flatMap { truth.row($0) }, data.names[k])
        }
        let file = try HDF5File(path: folder + "/current.h5ad")
        let categories = try file.strings("obs/cell_type/categories"), codes = try file.integers("obs/cell_type/codes", 0..<23)
        XCTAssertEqual(data.labels, codes.map { Int32($0) })
        XCTAssertEqual(categories, ["B", "NK", "T"])
        XCTAssertEqual(try AnnDataColumn.classes(file: file, element: "obs/batch").codes.count, 23)
        XCTAssertThrowsError(try MultiViewDataset(annData: folder + "/current.h5ad", views: ["X", "obs"], labels: nil)) {
            XCTAssertTrue("\($0)".contains("'obs': is a group of encoding 'dataframe'"), "\($0)")
        }
    }

    /// `data.source: mudata`, partially paired: RNA for cells 0–19, proteins for every third cell, ATAC (not
    /// chosen) for the last three. The rows are the global cells with RNA or proteins, in the file's order; a
    /// view a cell lacks is missing in the mask; observed rows equal NumPy's; labels follow the kept rows.
    func testAMuDataFileIsAPartiallyPairedDataSet() throws {
        let folder = try files()
        let data = try MultiViewDataset(muData: folder + "/paired.h5mu", views: ["rna", "prot"], labels: "obs/cell_type")
        XCTAssertEqual(data.names, ["rna", "prot"])
        let order = try expected("paired_order").storage.map { Int($0) }
        let kept = order.filter { $0 < 20 || $0 % 3 == 0 }
        XCTAssertEqual(data.count, kept.count)
        let counts = try expected("counts"), protein = try expected("protein")
        let mask = try XCTUnwrap(data.mask)
        for (r, cell) in kept.enumerated() {
            XCTAssertEqual(mask.isObserved(row: r, view: 0), cell < 20, "cell \(cell) RNA")
            XCTAssertEqual(mask.isObserved(row: r, view: 1), cell % 3 == 0, "cell \(cell) proteins")
            for (k, truth) in [(0, counts), (1, protein)] where mask.isObserved(row: r, view: k) {
                var out = [Float](repeating: 0, count: truth.cols)
                out.withUnsafeMutableBufferPointer { data.gather(view: k, rows: [r], into: $0.baseAddress!) }
                XCTAssertEqual(out, truth.row(cell), "cell \(cell) view \(k)")
            }
        }
        guard case .sparse = data.views[0], case .matrix = data.views[1] else { return XCTFail("\(data.views)") }
        let file = try HDF5File(path: folder + "/paired.h5mu")
        let codes = try file.integers("obs/cell_type/codes", 0..<order.count)
        let keptGlobal = order.indices.filter { order[$0] < 20 || order[$0] % 3 == 0 }
        XCTAssertEqual(data.labels, keptGlobal.map { Int32(codes[$0]) })
        XCTAssertThrowsError(try MultiViewDataset(muData: folder + "/paired.h5mu", views: ["rna", "dna"], labels: nil)) {
            XCTAssertTrue("\($0)".contains("'obsmap/dna': not in the file"), "\($0)")
        }
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
