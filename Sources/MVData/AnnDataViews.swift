import MVCore
import MVIO

extension MultiViewDataset {
    /// Views from arrays of one AnnData file, rows aligned by construction (the file's cells): a sparse
    /// array (CSR or CSC) is held by rows at the size of its non-zeros (`SparseRows`), a dense one as a
    /// matrix. Labels from an `obs` column (`AnnDataColumn`). View names are the arrays' last path
    /// component (`X`, `counts`, `protein_expression`), made unique with the rest of the path if needed.
    public convenience init(annData path: String, views elements: [String], labels column: String?) throws {
        let file = try HDF5File(path: path)
        let sources = try elements.map { element -> ViewSource in
            let array = try AnnDataArray(file: file, element: element)
            let origin = "\(path):\(element)"
            guard array.storage != .dense else { return .matrix(try array.rows(0..<array.rows)) }
            let (indptr, indices, values) = try array.compressedRows()
            return .sparse(
                try SparseRows(rows: array.rows, cols: array.cols, indptr: indptr, indices: indices, values: values, origin: origin))
        }
        var names = elements.map { String($0.split(separator: "/").last ?? Substring($0)) }
        if Set(names).count < names.count { names = elements.map { $0.replacingOccurrences(of: "/", with: "_") } }
        let labels = try column.map { try AnnDataColumn.classes(file: file, element: $0).codes }
        try self.init(views: sources, names: names, labels: labels, labelsOrigin: column.map { "\(path):\($0)" } ?? "", mask: nil)
    }
}
