import CHDF5
import Foundation
import MVCore

/// A new HDF5 file written through the HDF5 C library: groups, numeric and string datasets, and the
/// string and integer attributes AnnData's encoding uses. It is written under a temporary name beside
/// `path` and renamed into place by `finish()`, so a failed or interrupted write never leaves a half file
/// where the user looks (nor replaces a good one). Every failure names the file and the element.
public final class HDF5Writer {
    public let path: String
    private let temporary: String
    private var file: hid_t

    public init(path: String) throws {
        self.path = path
        temporary = path + ".tmp-\(getpid())"
        mvvae_h5_silence()
        file = H5Fcreate(temporary, mvvae_h5_truncate(), mvvae_h5_default(), mvvae_h5_default())
        guard file >= 0 else { throw HDF5File.Failure(path: path, element: "", reason: "cannot create the file (is the folder writable?)") }
    }

    deinit {
        if file >= 0 {
            H5Fclose(file)
            unlink(temporary)
        }
    }

    /// Closes the file and moves it to `path`.
    public func finish() throws {
        guard H5Fclose(file) >= 0 else {
            file = -1
            unlink(temporary)
            throw failure("", "HDF5 could not finish writing it (disk full?)")
        }
        file = -1
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw failure("", "cannot move it into place: \(reason)")
        }
    }

    private func failure(_ element: String, _ reason: String) -> HDF5File.Failure {
        HDF5File.Failure(path: path, element: element, reason: reason)
    }

    /// A group (its parents must exist).
    public func group(_ element: String, attributes: [String: String] = [:]) throws {
        let g = H5Gcreate2(file, element, mvvae_h5_default(), mvvae_h5_default(), mvvae_h5_default())
        guard g >= 0 else { throw failure(element, "cannot create the group") }
        H5Gclose(g)
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try attribute(name, value, of: element) }
    }

    /// A rows × cols float32 dataset.
    public func floats(_ element: String, _ m: Matrix, attributes: [String: String] = [:]) throws {
        try dataset(element, dims: [m.rows, m.cols], type: mvvae_h5_float(), attributes: attributes) { d in
            m.storage.withUnsafeBufferPointer {
                H5Dwrite(d, mvvae_h5_float(), mvvae_h5_all(), mvvae_h5_all(), mvvae_h5_default(), $0.baseAddress)
            }
        }
    }

    /// A 1-D float32 dataset (a dataframe's column).
    public func floats(_ element: String, _ values: [Float], attributes: [String: String] = [:]) throws {
        try dataset(element, dims: [values.count], type: mvvae_h5_float(), attributes: attributes) { d in
            values.withUnsafeBufferPointer {
                H5Dwrite(d, mvvae_h5_float(), mvvae_h5_all(), mvvae_h5_all(), mvvae_h5_default(), $0.baseAddress)
            }
        }
    }

    /// A 1-D int64 dataset.
    public func integers(_ element: String, _ values: [Int64], attributes: [String: String] = [:]) throws {
        try dataset(element, dims: [values.count], type: mvvae_h5_int64(), attributes: attributes) { d in
            values.withUnsafeBufferPointer {
                H5Dwrite(d, mvvae_h5_int64(), mvvae_h5_all(), mvvae_h5_all(), mvvae_h5_default(), $0.baseAddress)
            }
        }
    }

    /// A 1-D int32 dataset (a categorical column's codes).
    public func codes(_ element: String, _ values: [Int32], attributes: [String: String] = [:]) throws {
        try dataset(element, dims: [values.count], type: mvvae_h5_int32(), attributes: attributes) { d in
            values.withUnsafeBufferPointer {
                H5Dwrite(d, mvvae_h5_int32(), mvvae_h5_all(), mvvae_h5_all(), mvvae_h5_default(), $0.baseAddress)
            }
        }
    }

    /// A 1-D dataset of variable-length UTF-8 strings.
    public func strings(_ element: String, _ values: [String], attributes: [String: String] = [:]) throws {
        let type = Self.stringType()
        defer { H5Tclose(type) }
        try dataset(element, dims: [values.count], type: type, attributes: attributes) { d in
            Self.withCStrings(values) { H5Dwrite(d, type, mvvae_h5_all(), mvvae_h5_all(), mvvae_h5_default(), $0) }
        }
    }

    /// A scalar variable-length UTF-8 string dataset.
    public func string(_ element: String, _ value: String, attributes: [String: String] = [:]) throws {
        let type = Self.stringType(), space = H5Screate(H5S_SCALAR)
        defer {
            H5Tclose(type)
            H5Sclose(space)
        }
        let d = H5Dcreate2(file, element, type, space, mvvae_h5_default(), mvvae_h5_default(), mvvae_h5_default())
        guard d >= 0 else { throw failure(element, "cannot create the dataset") }
        defer { H5Dclose(d) }
        let status = Self.withCStrings([value]) { H5Dwrite(d, type, mvvae_h5_all(), mvvae_h5_all(), mvvae_h5_default(), $0) }
        guard status >= 0 else { throw failure(element, "cannot write the string") }
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try attribute(name, value, of: element) }
    }

    /// A scalar string attribute.
    public func attribute(_ name: String, _ value: String, of element: String) throws {
        try writeAttribute(name, of: element, type: Self.stringType(), dims: nil) { a, type in
            Self.withCStrings([value]) { H5Awrite(a, type, $0) }
        }
    }

    /// A 1-D string-array attribute (a dataframe's `column-order`; may be empty).
    public func attribute(_ name: String, _ values: [String], of element: String) throws {
        try writeAttribute(name, of: element, type: Self.stringType(), dims: [values.count]) { a, type in
            Self.withCStrings(values) { H5Awrite(a, type, $0) }
        }
    }

    /// A scalar integer attribute (a categorical's `ordered`, 0 or 1).
    public func attribute(_ name: String, _ value: Int64, of element: String) throws {
        try writeAttribute(name, of: element, type: H5Tcopy(mvvae_h5_int64()), dims: nil) { a, type in
            withUnsafePointer(to: value) { H5Awrite(a, type, $0) }
        }
    }

    /// Creates `element` of `type` and shape `dims`, then writes it with `write` (HDF5's status).
    private func dataset(
        _ element: String, dims: [Int], type: hid_t, attributes: [String: String], write: (hid_t) -> herr_t
    ) throws {
        let sizes = dims.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(sizes.count), sizes, nil)
        defer { H5Sclose(space) }
        let d = H5Dcreate2(file, element, type, space, mvvae_h5_default(), mvvae_h5_default(), mvvae_h5_default())
        guard d >= 0 else { throw failure(element, "cannot create the dataset") }
        defer { H5Dclose(d) }
        if dims.allSatisfy({ $0 > 0 }) {
            guard write(d) >= 0 else { throw failure(element, "cannot write the dataset (disk full?)") }
        }
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) { try attribute(name, value, of: element) }
    }

    /// Creates attribute `name` on `element` (nil dims: a scalar) and writes it; `type` is closed after.
    private func writeAttribute(_ name: String, of element: String, type: hid_t, dims: [Int]?, write: (hid_t, hid_t) -> herr_t) throws {
        defer { H5Tclose(type) }
        let space = dims.map { d in H5Screate_simple(Int32(d.count), d.map { hsize_t($0) }, nil) } ?? H5Screate(H5S_SCALAR)
        defer { H5Sclose(space) }
        let a = H5Acreate_by_name(file, element, name, type, space, mvvae_h5_default(), mvvae_h5_default(), mvvae_h5_default())
        guard a >= 0 else { throw failure(element, "cannot create the attribute '\(name)'") }
        defer { H5Aclose(a) }
        if dims?.contains(0) == true { return }
        guard write(a, type) >= 0 else { throw failure(element, "cannot write the attribute '\(name)'") }
    }

    private static func stringType() -> hid_t {
        let type = H5Tcopy(mvvae_h5_c_string())
        H5Tset_size(type, mvvae_h5_variable())
        H5Tset_cset(type, H5T_CSET_UTF8)
        return type
    }

    /// `values` as an array of C string pointers, valid during `body`.
    private static func withCStrings<T>(_ values: [String], _ body: (UnsafeRawPointer) -> T) -> T {
        let pointers = values.map { strdup($0) }
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body(UnsafeRawPointer($0.baseAddress!)) }
    }
}
