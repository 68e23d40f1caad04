import CHDF5
import Foundation
import MVCore

/// A read-only HDF5 file through the HDF5 C library (AnnData's `.h5ad`, MuData's `.h5mu`): which
/// elements exist, their string and integer attributes, dataset shapes, row ranges of numeric datasets
/// converted to Float (HDF5 converts every integer and floating type), integer ranges and string arrays.
/// Every failure names the file and the element.
public final class HDF5File {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let element: String
        public let reason: String
        public var description: String { element.isEmpty ? "\(path): \(reason)" : "\(path): '\(element)': \(reason)" }
    }

    public enum Kind: Equatable { case group, dataset }

    public let path: String
    private let file: hid_t

    public init(path: String) throws {
        self.path = path
        mvvae_h5_silence()
        guard FileManager.default.fileExists(atPath: path) else { throw Failure(path: path, element: "", reason: "file not found") }
        guard H5Fis_hdf5(path) > 0 else { throw Failure(path: path, element: "", reason: "not an HDF5 file (.h5ad and .h5mu files are)") }
        let id = H5Fopen(path, mvvae_h5_read_only(), mvvae_h5_default())
        guard id >= 0 else { throw Failure(path: path, element: "", reason: "HDF5 could not open it") }
        file = id
    }

    deinit { H5Fclose(file) }

    /// Returns the blocks HDF5 keeps on its free lists to the system (they are reused, not leaked; a leak
    /// checker that looks after each file, as the fuzz harness does, would otherwise report them).
    public static func releaseLibraryMemory() { H5garbage_collect() }

    /// An error naming this file and `element`.
    public func failure(_ element: String, _ reason: String) -> Failure { Failure(path: path, element: element, reason: reason) }

    /// Whether `element` (a path such as "layers/counts") exists, each component checked in turn (HDF5
    /// refuses to look up a link under a missing group).
    public func exists(_ element: String) -> Bool {
        var prefix = ""
        for part in element.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            guard H5Lexists(file, prefix, mvvae_h5_default()) > 0 else { return false }
        }
        return !prefix.isEmpty
    }

    /// A group or a dataset; nil when absent.
    public func kind(of element: String) -> Kind? {
        guard exists(element) else { return nil }
        let object = H5Oopen(file, element, mvvae_h5_default())
        guard object >= 0 else { return nil }
        defer { H5Oclose(object) }
        switch H5Iget_type(object) {
        case H5I_GROUP: return .group
        case H5I_DATASET: return .dataset
        default: return nil
        }
    }

    /// The names directly under a group, in HDF5's name order.
    public func children(of group: String) throws -> [String] {
        guard kind(of: group) == .group else { throw failure(group, "no such group") }
        let g = H5Gopen2(file, group, mvvae_h5_default())
        defer { H5Gclose(g) }
        var info = H5G_info_t()
        guard H5Gget_info(g, &info) >= 0 else { throw failure(group, "cannot list the group") }
        return (0..<info.nlinks).compactMap { i -> String? in
            let size = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, mvvae_h5_default())
            guard size >= 0 else { return nil }
            var buffer = [CChar](repeating: 0, count: Int(size) + 1)
            H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, buffer.count, mvvae_h5_default())
            return String(cString: buffer)
        }
    }

    /// A scalar (or one-element) string attribute, variable or fixed length; nil when absent or not a string.
    public func stringAttribute(_ name: String, of element: String) -> String? {
        withAttribute(name, of: element) { attribute, type, _ in
            guard H5Tget_class(type) == H5T_STRING else { return nil }
            return Self.readStrings(type, count: 1) { H5Aread(attribute, $0, $1) }?.first
        }
    }

    /// A 1-D string-array attribute (a dataframe's `column-order`); an empty attribute of any type gives
    /// []; nil when absent or not strings.
    public func stringArrayAttribute(_ name: String, of element: String) throws -> [String]? {
        var unreadable = false
        let values = withAttribute(name, of: element) { attribute, type, space -> [String]? in
            let count = Int(H5Sget_simple_extent_npoints(space))
            if count == 0 { return [] }
            guard count > 0, H5Tget_class(type) == H5T_STRING else { return nil }
            let values = Self.readStrings(type, count: count) { H5Aread(attribute, $0, $1) }
            unreadable = values == nil
            return values
        }
        if unreadable { throw failure(element, "cannot read the attribute '\(name)'") }
        return values
    }

    /// An integer attribute's values (e.g. a sparse array's `shape`); nil when absent or not numeric.
    public func integerAttribute(_ name: String, of element: String) -> [Int]? {
        withAttribute(name, of: element) { attribute, type, space in
            guard H5Tget_class(type) == H5T_INTEGER else { return nil }
            let count = Int(H5Sget_simple_extent_npoints(space))
            guard count >= 0 else { return nil }
            var values = [Int64](repeating: 0, count: count)
            guard H5Aread(attribute, mvvae_h5_int64(), &values) >= 0 else { return nil }
            return values.map { Int($0) }
        }
    }

    /// Runs `body` on attribute `name` of `element` with its type and dataspace, all closed after; nil when absent.
    private func withAttribute<T>(_ name: String, of element: String, _ body: (hid_t, hid_t, hid_t) -> T?) -> T? {
        guard exists(element) || element == "/", H5Aexists_by_name(file, element, name, mvvae_h5_default()) > 0 else { return nil }
        let attribute = H5Aopen_by_name(file, element, name, mvvae_h5_default(), mvvae_h5_default())
        guard attribute >= 0 else { return nil }
        let type = H5Aget_type(attribute), space = H5Aget_space(attribute)
        defer {
            H5Tclose(type)
            H5Sclose(space)
            H5Aclose(attribute)
        }
        return body(attribute, type, space)
    }

    /// `count` strings of file type `type` (variable or fixed length) through `read(memoryType, buffer)` (an
    /// H5Aread or H5Dread); nil when the read fails. Variable-length strings are freed once copied.
    private static func readStrings(_ type: hid_t, count: Int, read: (hid_t, UnsafeMutableRawPointer) -> herr_t) -> [String]? {
        guard count > 0 else { return [] }
        if H5Tis_variable_str(type) > 0 {
            let memory = H5Tcopy(mvvae_h5_c_string())
            defer { H5Tclose(memory) }
            H5Tset_size(memory, mvvae_h5_variable())
            H5Tset_cset(memory, H5Tget_cset(type))
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard pointers.withUnsafeMutableBytes({ read(memory, $0.baseAddress!) }) >= 0 else { return nil }
            defer { for case let p? in pointers { H5free_memory(p) } }
            return pointers.map { $0.map { String(cString: $0) } ?? "" }
        }
        let size = H5Tget_size(type)
        var buffer = [CChar](repeating: 0, count: count * size + 1)
        guard buffer.withUnsafeMutableBytes({ read(type, $0.baseAddress!) }) >= 0 else { return nil }
        return (0..<count).map { i in
            String(decoding: buffer[(i * size)..<((i + 1) * size)].prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// A dataset's dimensions.
    public func shape(of dataset: String) throws -> [Int] {
        try withDataset(dataset) { d, space in
            return try dimensions(space, dataset)
        }
    }

    /// What a dataset's values are.
    public enum Values: Equatable { case integers, floats, strings, other(String) }

    public func values(of dataset: String) throws -> Values {
        try withDataset(dataset) { d, space in
            let type = H5Dget_type(d)
            defer { H5Tclose(type) }
            switch H5Tget_class(type) {
            case H5T_INTEGER: return .integers
            case H5T_FLOAT: return .floats
            case H5T_STRING: return .strings
            default: return .other(typeName(d))
            }
        }
    }

    /// Whether a dataset holds strings (a string array: obs names, categories).
    public func holdsStrings(_ dataset: String) throws -> Bool { try values(of: dataset) == .strings }

    /// Rows `rows` of a 1-D or 2-D numeric dataset as Float (rows × columns; a 1-D dataset is one column).
    public func floatRows(_ dataset: String, _ rows: Range<Int>) throws -> Matrix {
        try withDataset(dataset) { d, space in
            let dims = try dimensions(space, dataset)
            guard dims.count == 1 || dims.count == 2 else { throw failure(dataset, "has \(dims.count) dimensions; a view needs 1 or 2") }
            guard rows.lowerBound >= 0, rows.upperBound <= dims[0] else {
                throw failure(dataset, "rows \(rows.lowerBound)..<\(rows.upperBound) asked of \(dims[0])")
            }
            let cols = dims.count == 2 ? dims[1] : 1
            var out = Matrix(rows: rows.count, cols: cols)
            guard rows.count > 0, cols > 0 else { return out }
            try select(space, rows, dims, dataset)
            let counts: [hsize_t] = dims.count == 2 ? [hsize_t(rows.count), hsize_t(cols)] : [hsize_t(rows.count)]
            let memory = H5Screate_simple(Int32(counts.count), counts, nil)
            defer { H5Sclose(memory) }
            let status = out.storage.withUnsafeMutableBufferPointer {
                H5Dread(d, mvvae_h5_float(), memory, space, mvvae_h5_default(), $0.baseAddress)
            }
            guard status >= 0 else { throw failure(dataset, "cannot be read as numbers (\(typeName(d)))") }
            return out
        }
    }

    /// Entries `range` of a 1-D integer dataset (a sparse array's `indptr` or `indices`, category codes).
    public func integers(_ dataset: String, _ range: Range<Int>) throws -> [Int64] {
        try withDataset(dataset) { d, space in
            let dims = try dimensions(space, dataset)
            guard dims.count == 1 else { throw failure(dataset, "has \(dims.count) dimensions; expected a 1-D array") }
            guard range.lowerBound >= 0, range.upperBound <= dims[0] else {
                throw failure(dataset, "entries \(range.lowerBound)..<\(range.upperBound) asked of \(dims[0])")
            }
            var out = [Int64](repeating: 0, count: range.count)
            guard !range.isEmpty else { return out }
            try select(space, range, dims, dataset)
            var count = hsize_t(range.count)
            let memory = H5Screate_simple(1, &count, nil)
            defer { H5Sclose(memory) }
            let status = out.withUnsafeMutableBufferPointer {
                H5Dread(d, mvvae_h5_int64(), memory, space, mvvae_h5_default(), $0.baseAddress)
            }
            guard status >= 0 else { throw failure(dataset, "cannot be read as integers (\(typeName(d)))") }
            return out
        }
    }

    /// Every entry of a 1-D string dataset (variable or fixed length).
    public func strings(_ dataset: String) throws -> [String] {
        try withDataset(dataset) { d, space in
            let dims = try dimensions(space, dataset)
            guard dims.count == 1 else { throw failure(dataset, "has \(dims.count) dimensions; expected a 1-D string array") }
            let type = H5Dget_type(d)
            defer { H5Tclose(type) }
            guard H5Tget_class(type) == H5T_STRING else { throw failure(dataset, "holds \(typeName(d)), not strings") }
            let strings = Self.readStrings(type, count: dims[0]) {
                H5Dread(d, $0, mvvae_h5_all(), mvvae_h5_all(), mvvae_h5_default(), $1)
            }
            guard let strings else { throw failure(dataset, "cannot be read as strings") }
            return strings
        }
    }

    /// Runs `body` on the dataset and its dataspace, both closed after.
    private func withDataset<T>(_ dataset: String, _ body: (hid_t, hid_t) throws -> T) throws -> T {
        guard let k = kind(of: dataset) else { throw failure(dataset, "not in the file") }
        guard k == .dataset else { throw failure(dataset, "is a group, not an array") }
        let d = H5Dopen2(file, dataset, mvvae_h5_default())
        guard d >= 0 else { throw failure(dataset, "cannot be opened") }
        defer { H5Dclose(d) }
        let space = H5Dget_space(d)
        guard space >= 0 else { throw failure(dataset, "has no dataspace") }
        defer { H5Sclose(space) }
        return try body(d, space)
    }

    private func dimensions(_ space: hid_t, _ dataset: String) throws -> [Int] {
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { throw failure(dataset, "has no simple shape") }
        var dims = [hsize_t](repeating: 0, count: rank)
        H5Sget_simple_extent_dims(space, &dims, nil)
        return dims.map { Int($0) }
    }

    /// Selects `rows` (the first dimension) and every column.
    private func select(_ space: hid_t, _ rows: Range<Int>, _ dims: [Int], _ dataset: String) throws {
        var start = [hsize_t](repeating: 0, count: dims.count), count = dims.map { hsize_t($0) }
        start[0] = hsize_t(rows.lowerBound)
        count[0] = hsize_t(rows.count)
        guard H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nil, count, nil) >= 0 else {
            throw failure(dataset, "cannot select rows \(rows.lowerBound)..<\(rows.upperBound)")
        }
    }

    private func typeName(_ d: hid_t) -> String {
        let type = H5Dget_type(d)
        defer { H5Tclose(type) }
        switch H5Tget_class(type) {
        case H5T_INTEGER: return "integers"
        case H5T_FLOAT: return "floating point"
        case H5T_STRING: return "strings"
        case H5T_ENUM: return "an enum (booleans?)"
        case H5T_COMPOUND: return "records"
        default: return "a type of class \(H5Tget_class(type).rawValue)"
        }
    }
}
