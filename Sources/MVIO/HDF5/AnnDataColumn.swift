/// A column of an AnnData file's `obs` as class labels (`data.labels: obs/<column>`): a categorical
/// column (anndata ≥ 0.8: a group of `codes` and `categories`), integer codes (anndata 0.7 keeps a
/// categorical's codes as a dataset, its categories under `obs/__categories/<column>`), non-negative
/// integers, or strings (classes in sorted order). A row without a class (code −1) is refused, named.
public enum AnnDataColumn {
    public static func classes(file: HDF5File, element: String) throws -> (codes: [Int32], names: [String]) {
        switch file.kind(of: element) {
        case nil:
            throw file.failure(element, "not in the file")
        case .group?:
            guard file.kind(of: element + "/codes") == .dataset, file.kind(of: element + "/categories") == .dataset else {
                throw file.failure(element, "a group that is not a categorical column (no codes and categories)")
            }
            let names = try file.strings(element + "/categories")
            return (try codes(file, element + "/codes", classes: names.count, column: element), names)
        case .dataset?:
            if try file.holdsStrings(element) {
                let values = try file.strings(element), names = Array(Set(values)).sorted()
                let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, Int32($0)) })
                return (values.map { index[$0]! }, names)
            }
            let parts = element.split(separator: "/")
            let old = parts.count == 2 ? "\(parts[0])/__categories/\(parts[1])" : ""
            let names = file.kind(of: old) == .dataset ? try file.strings(old) : []
            let codes = try codes(file, element, classes: names.isEmpty ? nil : names.count, column: element)
            return (codes, names.isEmpty ? (0..<Int(codes.max().map { $0 + 1 } ?? 0)).map(String.init) : names)
        }
    }

    /// A categorical column's codes as stored (−1: no category) and its categories.
    public static func categorical(file: HDF5File, element: String) throws -> (codes: [Int32], categories: [String]) {
        guard file.kind(of: element + "/codes") == .dataset, file.kind(of: element + "/categories") == .dataset else {
            throw file.failure(element, "a group that is not a categorical column (no codes and categories)")
        }
        let categories = try file.strings(element + "/categories"), codes = element + "/codes"
        let shape = try file.shape(of: codes)
        guard shape.count == 1 else { throw file.failure(codes, "has \(shape.count) dimensions; a column has 1") }
        let values = try file.integers(codes, 0..<shape[0])
        if let bad = values.firstIndex(where: { $0 < -1 || $0 >= Int64(categories.count) }) {
            throw file.failure(element, "row \(bad) has code \(values[bad]), outside the \(categories.count) categories")
        }
        return (values.map { Int32($0) }, categories)
    }

    private static func codes(_ file: HDF5File, _ dataset: String, classes: Int?, column: String) throws -> [Int32] {
        let shape = try file.shape(of: dataset)
        guard shape.count == 1 else { throw file.failure(dataset, "has \(shape.count) dimensions; a column has 1") }
        let values = try file.integers(dataset, 0..<shape[0])
        for (row, v) in values.enumerated() where v < 0 || v > Int64(Int32.max) || classes.map({ v >= $0 }) == true {
            throw file.failure(
                column,
                v < 0
                    ? "row \(row) has no class (code \(v)); drop such rows or choose another column"
                    : "row \(row) has class code \(v), outside the \(classes ?? 0) categories")
        }
        return values.map { Int32($0) }
    }
}
