/// Element types of the IDX format (the MNIST file format), keyed by the third magic byte.
public enum IDXDataType: UInt8, Sendable {
    case uint8 = 0x08
    case int8 = 0x09
    case int16 = 0x0B
    case int32 = 0x0C
    case float32 = 0x0D
    case float64 = 0x0E

    public var byteWidth: Int {
        switch self {
        case .uint8, .int8: return 1
        case .int16: return 2
        case .int32, .float32: return 4
        case .float64: return 8
        }
    }
}

/// One IDX file: magic 00 00 <type> <ndims>, then `ndims` big-endian UInt32 dimensions, then the
/// elements in row-major order, big-endian. Read whole, gzip-compressed (`.gz`) or raw.
public struct IDXFile: Sendable {
    public let path: String
    public let dataType: IDXDataType
    public let dimensions: [Int]
    /// The element bytes exactly as stored (big-endian for multi-byte types). For `.uint8` these are the values.
    public let payload: [UInt8]

    /// Number of elements (the product of the dimensions).
    public var count: Int { dimensions.reduce(1, *) }

    /// Reads and validates `path`; the payload must be exactly as long as the dimensions say.
    public static func read(_ path: String) throws -> IDXFile {
        let file = try MappedFile(path: path)
        return try file.withBytes { raw in
            if Gzip.isGzip(raw) {
                var inflated = try Gzip.decompress(raw, path: path)
                // Offsets in errors then count decompressed bytes; say so in the name.
                let label = path + " (after gzip decompression)"
                let (type, dims, headerSize) = try inflated.withUnsafeBytes { try parseHeader($0, path: label) }
                inflated.removeFirst(headerSize)  // a memmove; cheaper than a second 47 MB allocation
                return IDXFile(path: path, dataType: type, dimensions: dims, payload: inflated)
            }
            return try parse(raw, path: path)
        }
    }

    /// Parses an uncompressed IDX image held in memory; `path` is only used in error messages.
    public static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> IDXFile {
        let (type, dims, headerSize) = try parseHeader(bytes, path: path)
        let payload = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[headerSize...]))
        return IDXFile(path: path, dataType: type, dimensions: dims, payload: payload)
    }

    /// Validates the header and that the payload after it has exactly the promised length.
    private static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws
        -> (type: IDXDataType, dims: [Int], headerSize: Int)
    {
        guard bytes.count >= 4, bytes[0] == 0, bytes[1] == 0 else {
            throw DataError.idxBadMagic(path: path, found: Array(bytes.prefix(4)))
        }
        guard let type = IDXDataType(rawValue: bytes[2]) else {
            throw DataError.idxUnsupportedType(path: path, typeCode: bytes[2])
        }
        let ndims = Int(bytes[3])
        guard ndims >= 1 else {
            throw DataError.idxBadHeader(path: path, offset: 3, reason: "the number of dimensions is 0")
        }
        let headerSize = 4 + 4 * ndims
        guard bytes.count >= headerSize else {
            throw DataError.idxBadHeader(
                path: path, offset: bytes.count,
                reason:
                    "the file ends inside the dimension list (\(ndims) dimensions need \(headerSize) header bytes, the file has "
                    + "\(bytes.count))"
            )
        }
        var dims = [Int]()
        dims.reserveCapacity(ndims)
        var expected = type.byteWidth
        for d in 0..<ndims {
            let o = 4 + 4 * d
            let dim = Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
            dims.append(dim)
            let (product, overflow) = expected.multipliedReportingOverflow(by: dim)
            guard !overflow else {
                throw DataError.idxBadHeader(path: path, offset: o, reason: "the dimensions \(dims) overflow the addressable size")
            }
            expected = product
        }
        let actual = bytes.count - headerSize
        if actual < expected {
            throw DataError.truncatedPayload(path: path, dataOffset: headerSize, expectedBytes: expected, actualBytes: actual)
        }
        if actual > expected {
            throw DataError.trailingBytes(path: path, dataOffset: headerSize, expectedBytes: expected, actualBytes: actual)
        }
        return (type, dims, headerSize)
    }

    /// All elements converted to `Float` (big-endian decoded), in row-major order.
    public func floatValues() -> [Float] {
        let n = count
        let width = dataType.byteWidth
        return [Float](unsafeUninitializedCapacity: n) { out, initialized in
            payload.withUnsafeBytes { raw in
                for i in 0..<n {
                    let o = i * width
                    switch dataType {
                    case .uint8: out[i] = Float(raw[o])
                    case .int8: out[i] = Float(Int8(bitPattern: raw[o]))
                    case .int16: out[i] = Float(Int16(bigEndian: raw.loadUnaligned(fromByteOffset: o, as: Int16.self)))
                    case .int32: out[i] = Float(Int32(bigEndian: raw.loadUnaligned(fromByteOffset: o, as: Int32.self)))
                    case .float32:
                        out[i] = Float(bitPattern: UInt32(bigEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
                    case .float64:
                        out[i] = Float(Double(bitPattern: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))))
                    }
                }
            }
            initialized = n
        }
    }
}
