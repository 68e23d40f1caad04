/// An AnnData dataframe (`obs` or `var`): the row names and the columns this tool reads and writes —
/// categorical, integer, floating point (kept as float32) and string columns. Read with a choice of rows,
/// so the cells an embedding holds carry their own annotations back out.
public struct AnnDataFrame {
    public enum Column {
        case categorical(codes: [Int32], categories: [String])
        case integers([Int64])
        case floats([Float])
        case strings([String])

        var count: Int {
            switch self {
            case .categorical(let codes, _): return codes.count
            case .integers(let v): return v.count
            case .floats(let v): return v.count
            case .strings(let v): return v.count
            }
        }

        func subset(_ rows: [Int]) -> Column {
            switch self {
            case .categorical(let codes, let categories): return .categorical(codes: rows.map { codes[$0] }, categories: categories)
            case .integers(let v): return .integers(rows.map { v[$0] })
            case .floats(let v): return .floats(rows.map { v[$0] })
            case .strings(let v): return .strings(rows.map { v[$0] })
            }
        }
    }

    public var index: [String]
    public var columns: [(name: String, values: Column)]

    public init(index: [String], columns: [(name: String, values: Column)] = []) {
        self.index = index
        self.columns = columns
    }

    /// Rows `rows` of the dataframe at `element` (anndata ≥ 0.8's encoding: the index dataset named by the
    /// `_index` attribute, the columns by `column-order`). Columns of other kinds (booleans, nullable
    /// integers, …) and columns of another length are left out and named in `skipped`; a file without that encoding (anndata 0.7) gives
    /// the row numbers as names.
    public static func read(file: HDF5File, element: String, rows: [Int]) throws -> (frame: AnnDataFrame, skipped: [String]) {
        guard file.kind(of: element) == .group, let indexName = file.stringAttribute("_index", of: element) else {
            return (AnnDataFrame(index: rows.map(String.init)), [])
        }
        let names = try file.strings("\(element)/\(indexName)"), total = names.count
        if let bad = rows.first(where: { $0 < 0 || $0 >= total }) {
            throw file.failure("\(element)/\(indexName)", "names \(total) rows; row \(bad) of the data is not among them")
        }
        var frame = AnnDataFrame(index: rows.map { names[$0] })
        var skipped: [String] = []
        for name in try columnOrder(file, element) {
            let path = "\(element)/\(name)"
            guard let column = try readColumn(file, path), column.count == total else {
                skipped.append(name)
                continue
            }
            frame.columns.append((name, column.subset(rows)))
        }
        return (frame, skipped)
    }

    private static func columnOrder(_ file: HDF5File, _ element: String) throws -> [String] {
        let listed = try file.stringArrayAttribute("column-order", of: element) ?? []
        return listed.filter { file.kind(of: "\(element)/\($0)") != nil }
    }

    private static func readColumn(_ file: HDF5File, _ path: String) throws -> Column? {
        switch file.kind(of: path) {
        case .group?:
            guard file.stringAttribute("encoding-type", of: path) == "categorical" else { return nil }
            let (codes, categories) = try AnnDataColumn.categorical(file: file, element: path)
            return .categorical(codes: codes, categories: categories)
        case .dataset?:
            let shape = try file.shape(of: path)
            guard shape.count == 1 else { return nil }
            switch try file.values(of: path) {
            case .integers: return .integers(try file.integers(path, 0..<shape[0]))
            case .floats: return .floats(try file.floatRows(path, 0..<shape[0]).storage)
            case .strings: return .strings(try file.strings(path))
            case .other: return nil
            }
        case nil:
            return nil
        }
    }
}
