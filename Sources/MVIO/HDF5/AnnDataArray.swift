import MVCore

/// A 2-D array of an AnnData file (`X`, `layers/<name>`, `obsm/<name>`, or a MuData modality's), read by
/// row ranges into dense Float rows. Stored as (`../shared/anndata-on-disk.md`):
/// - a dense dataset (any numeric type);
/// - a sparse group: anndata ≥ 0.8 writes `encoding-type` = `csr_matrix` / `csc_matrix` and a `shape`
///   attribute, anndata 0.7 `h5sparse_format` = `csr` / `csc` and `h5sparse_shape`; both hold `data`,
///   `indices` and `indptr`.
/// A CSR row range reads only its rows' entries (`indptr[r0…r1]` first); a CSC array is read whole once and
/// kept by rows (its columns would otherwise each have to be searched for every batch).
public final class AnnDataArray {
    public enum Storage: String, Equatable { case dense, csr, csc }

    public let file: HDF5File
    public let element: String
    public let storage: Storage
    public let rows: Int
    public let cols: Int
    /// CSC arrays turned into rows: (indptr, column indices, values).
    private var byRows: (indptr: [Int], indices: [Int32], values: [Float])?

    public init(file: HDF5File, element: String) throws {
        self.file = file
        self.element = element
        switch file.kind(of: element) {
        case nil:
            throw file.failure(element, "not in the file")
        case .dataset?:
            let shape = try file.shape(of: element)
            guard shape.count == 2 else { throw file.failure(element, "has \(shape.count) dimensions; a view needs a 2-D array") }
            guard try !file.holdsStrings(element) else { throw file.failure(element, "holds strings, not numbers") }
            (storage, rows, cols) = (.dense, shape[0], shape[1])
        case .group?:
            let encoding = file.stringAttribute("encoding-type", of: element) ?? file.stringAttribute("h5sparse_format", of: element)
            let shape = file.integerAttribute("shape", of: element) ?? file.integerAttribute("h5sparse_shape", of: element)
            switch encoding {
            case "csr_matrix", "csr": storage = .csr
            case "csc_matrix", "csc": storage = .csc
            default:
                let what = encoding.map { "of encoding '\($0)'" } ?? "without an encoding"
                throw file.failure(element, "is a group \(what), not a 2-D array (dense, CSR or CSC)")
            }
            guard let shape, shape.count == 2, shape.allSatisfy({ $0 >= 0 }) else {
                throw file.failure(element, "a sparse array without a valid 2-entry shape attribute")
            }
            (rows, cols) = (shape[0], shape[1])
            for part in ["data", "indices", "indptr"] where file.kind(of: element + "/" + part) != .dataset {
                throw file.failure(element, "a sparse array without its '\(part)' array")
            }
            let outer = storage == .csr ? rows : cols
            let indptr = try file.shape(of: element + "/indptr")
            guard indptr == [outer + 1] else {
                throw file.failure(element, "indptr has shape \(indptr); a \(storage.rawValue) array of shape \(shape) needs \(outer + 1)")
            }
        }
    }

    /// Rows `range` as a dense rows × cols matrix.
    public func rows(_ range: Range<Int>) throws -> Matrix {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw file.failure(element, "rows \(range.lowerBound)..<\(range.upperBound) asked of \(rows)")
        }
        switch storage {
        case .dense:
            return try file.floatRows(element, range)
        case .csr:
            let indptr = try file.integers(element + "/indptr", range.lowerBound..<(range.upperBound + 1)).map { Int($0) }
            let first = indptr.first ?? 0, last = indptr.last ?? 0
            guard zip(indptr, indptr.dropFirst()).allSatisfy({ $0 <= $1 }), first >= 0 else {
                throw file.failure(element, "indptr decreases within rows \(range.lowerBound)..<\(range.upperBound)")
            }
            let entries = try file.shape(of: element + "/data")[0]
            guard last <= entries else { throw file.failure(element, "indptr points past the \(entries) stored values") }
            let indices = try file.integers(element + "/indices", first..<last)
            let values = try file.floatRows(element + "/data", first..<last).storage
            var out = Matrix(rows: range.count, cols: cols)
            for r in 0..<range.count {
                for q in indptr[r]..<indptr[r + 1] {
                    let c = Int(indices[q - first])
                    guard c >= 0, c < cols else {
                        throw file.failure(element, "row \(range.lowerBound + r) has column index \(c) outside 0..<\(cols)")
                    }
                    out[r, c] += values[q - first]
                }
            }
            return out
        case .csc:
            let (indptr, indices, values) = try cscByRows()
            var out = Matrix(rows: range.count, cols: cols)
            for (r, row) in range.enumerated() {
                for q in indptr[row]..<indptr[row + 1] { out[r, Int(indices[q])] += values[q] }
            }
            return out
        }
    }

    /// A sparse array's entries by rows (CSR as stored; CSC regrouped), read whole: for holding a view in
    /// memory at the size of its non-zeros.
    public func compressedRows() throws -> (indptr: [Int], indices: [Int32], values: [Float]) {
        switch storage {
        case .dense:
            throw file.failure(element, "is dense, not sparse")
        case .csc:
            return try cscByRows()
        case .csr:
            let indptr = try file.integers(element + "/indptr", 0..<(rows + 1)).map { Int($0) }
            let entries = try file.shape(of: element + "/data")[0]
            guard indptr.first == 0, zip(indptr, indptr.dropFirst()).allSatisfy({ $0 <= $1 }), let last = indptr.last, last <= entries
            else { throw file.failure(element, "a CSR indptr that does not rise from 0 to at most the \(entries) stored values") }
            let indices = try file.integers(element + "/indices", 0..<last).map { Int32(clamping: $0) }
            return (indptr, indices, try file.floatRows(element + "/data", 0..<last).storage)
        }
    }

    /// The CSC array's entries regrouped by row (a counting sort over row indices), read once.
    private func cscByRows() throws -> (indptr: [Int], indices: [Int32], values: [Float]) {
        if let byRows { return byRows }
        let colptr = try file.integers(element + "/indptr", 0..<(cols + 1)).map { Int($0) }
        let entries = try file.shape(of: element + "/data")[0]
        guard colptr.first == 0, zip(colptr, colptr.dropFirst()).allSatisfy({ $0 <= $1 }), let last = colptr.last, last <= entries else {
            throw file.failure(element, "a CSC indptr that does not rise from 0 to at most the \(entries) stored values")
        }
        let rowIndex = try file.integers(element + "/indices", 0..<last)
        let stored = try file.floatRows(element + "/data", 0..<last).storage
        var counts = [Int](repeating: 0, count: rows + 1)
        for r in rowIndex {
            guard r >= 0, Int(r) < rows else { throw file.failure(element, "row index \(r) outside 0..<\(rows)") }
            counts[Int(r) + 1] += 1
        }
        for r in 0..<rows { counts[r + 1] += counts[r] }
        var next = counts, indices = [Int32](repeating: 0, count: last), values = [Float](repeating: 0, count: last)
        for c in 0..<cols {
            for q in colptr[c]..<colptr[c + 1] {
                let r = Int(rowIndex[q])
                indices[next[r]] = Int32(c)
                values[next[r]] = stored[q]
                next[r] += 1
            }
        }
        byRows = (counts, indices, values)
        return (counts, indices, values)
    }
}
