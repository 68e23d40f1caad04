import MVCore
import MVIO

extension MultiViewDataset {
    /// Views from the modalities of one MuData file (`.h5mu`), rows the file's global cells: a view is a
    /// modality's `X` (`rna`) or another of its arrays (`rna/layers/counts`, `prot/obsm/X_pca`), placed on the
    /// global rows through `obsmap/<modality>` (each global row's 1-based row in the modality, 0 where the
    /// cell lacks it). A cell a modality lacks has that view missing (the mask), as in partially paired data;
    /// cells with none of the chosen views are left out. Labels from a column of the global `obs`.
    public convenience init(muData path: String, views specs: [String], labels column: String?) throws {
        let file = try HDF5File(path: path)
        let (elements, maps, kept) = try Self.muDataCells(file, views: specs)
        let total = maps[0].count
        var sources: [ViewSource] = []
        for (e, map) in zip(elements, maps) {
            let array = try AnnDataArray(file: file, element: e.element)
            if let bad = map.firstIndex(where: { $0 < 0 || $0 > array.rows }) {
                throw file.failure("obsmap/\(e.modality)", "cell \(bad) maps to row \(map[bad]) of \(e.element), which has \(array.rows)")
            }
            sources.append(try Self.globalRows(array, map: map, kept: kept, origin: "\(path):\(e.element)"))
        }
        var mask = [UInt8](repeating: 0, count: kept.count * elements.count)
        for (r, g) in kept.enumerated() { for k in maps.indices where maps[k][g] > 0 { mask[r * maps.count + k] = 1 } }
        var names = elements.map { $0.element.hasSuffix("/X") ? $0.modality : $0.element.split(separator: "/").last.map(String.init)! }
        if Set(names).count < names.count {
            names = elements.map { String($0.element.dropFirst(4)).replacingOccurrences(of: "/", with: "_") }
        }
        let labels = try column.map { c -> [Int32] in
            let codes = try AnnDataColumn.classes(file: file, element: c).codes
            guard codes.count == total else { throw file.failure(c, "has \(codes.count) rows; the file has \(total) cells") }
            return kept.map { codes[$0] }
        }
        try self.init(
            views: sources, names: names, labels: labels, labelsOrigin: column.map { "\(path):\($0)" } ?? "",
            mask: try ViewMask(rows: kept.count, views: elements.count, values: mask, origin: "\(path):obsmap"))
    }

    /// The global cells (rows of the file's `obs`) that observe at least one of the chosen views, in file
    /// order: the rows of the data set `init(muData:)` makes.
    public static func muDataCells(path: String, views specs: [String]) throws -> [Int] {
        try muDataCells(HDF5File(path: path), views: specs).kept
    }

    /// A view's modality and the array's path in the file: `rna` → `mod/rna/X`, `rna/layers/counts` →
    /// `mod/rna/layers/counts` (a leading `mod/` may be given).
    public static func muDataElement(_ spec: String) -> (modality: String, element: String) {
        let parts = spec.split(separator: "/").map(String.init)
        let rest = parts.first == "mod" ? Array(parts.dropFirst()) : parts
        let modality = rest.first ?? spec
        return (modality, "mod/" + ([modality] + (rest.count > 1 ? Array(rest.dropFirst()) : ["X"])).joined(separator: "/"))
    }

    /// Each view's modality and array, its `obsmap` (global cell → 1-based modality row, 0: absent), and the
    /// kept cells.
    static func muDataCells(_ file: HDF5File, views specs: [String]) throws -> (
        elements: [(modality: String, element: String)], maps: [[Int]], kept: [Int]
    ) {
        let elements = specs.map(muDataElement)
        guard let first = elements.first else { throw DataError.noViews }
        let maps = try elements.map { e -> [Int] in
            let map = "obsmap/\(e.modality)"
            guard file.kind(of: map) == .dataset else {
                throw file.failure(map, "not in the file (a MuData file maps its global cells to each modality's rows there)")
            }
            return try file.integers(map, 0..<(try file.shape(of: map)[0])).map { Int($0) }
        }
        let total = maps[0].count
        for (e, map) in zip(elements, maps) where map.count != total {
            throw file.failure("obsmap/\(e.modality)", "maps \(map.count) cells; obsmap/\(first.modality) maps \(total)")
        }
        return (elements, maps, (0..<total).filter { g in maps.contains { $0[g] > 0 } })
    }

    /// A modality's array on the kept global rows (a missing cell's row is empty: it is never read).
    static func globalRows(_ array: AnnDataArray, map: [Int], kept: [Int], origin: String) throws -> ViewSource {
        if array.storage == .dense {
            let local = try array.rows(0..<array.rows)
            var out = Matrix(rows: kept.count, cols: array.cols)
            for (r, g) in kept.enumerated() where map[g] > 0 {
                for c in 0..<array.cols { out[r, c] = local[map[g] - 1, c] }
            }
            return .matrix(out)
        }
        let (indptr, indices, values) = try array.compressedRows()
        var rowStarts = [0], columns: [Int32] = [], stored: [Float] = []
        for g in kept {
            if map[g] > 0 {
                let row = map[g] - 1
                columns.append(contentsOf: indices[indptr[row]..<indptr[row + 1]])
                stored.append(contentsOf: values[indptr[row]..<indptr[row + 1]])
            }
            rowStarts.append(stored.count)
        }
        return .sparse(
            try SparseRows(rows: kept.count, cols: array.cols, indptr: rowStarts, indices: columns, values: stored, origin: origin))
    }
}
