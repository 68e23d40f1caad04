import Foundation
import MVCore

/// A NumPy .npy array (format v1.0, v2.0 or v3.0) memory-mapped and viewed as a `rows × cols` matrix.
///
/// Shapes: (n,) is read as n×1, (n, d) as n×d, and (n, d1, d2, …) as n × (d1·d2·…), so an image
/// stack (n, 28, 28) becomes n×784 rows of pixels. Only C order is supported. Elements are converted to
/// `Float` as they are copied out, so the file is never loaded whole and never converted twice.
public final class NPYFile: @unchecked Sendable {  // immutable after init; the mapping is read-only
    public let path: String
    public let elementType: NPYElementType
    /// The shape as stored in the file.
    public let shape: [Int]
    public let rows: Int
    public let cols: Int

    private let file: MappedFile
    private let data: UnsafeRawPointer?

    public init(path: String) throws {
        let file = try MappedFile(path: path)
        let header = try file.withBytes { try NPYHeader.parse($0, path: path) }
        guard let type = NPYElementType(descriptor: header.descr) else {
            throw DataError.npyUnsupportedDType(path: path, descr: header.descr, allowed: NPYElementType.supportedDescriptors)
        }
        if header.fortranOrder { throw DataError.npyFortranOrder(path: path) }
        guard let first = header.shape.first else {
            throw DataError.npyBadShape(
                path: path, shape: header.shape,
                reason: "a 0-d (scalar) array has no rows; save at least a 1-d array")
        }
        var width = 1
        for d in header.shape.dropFirst() {
            let (w, overflow) = width.multipliedReportingOverflow(by: d)
            guard !overflow else { throw DataError.npyBadShape(path: path, shape: header.shape, reason: "the size overflows") }
            width = w
        }
        let (elements, o1) = first.multipliedReportingOverflow(by: width)
        let (expected, o2) = elements.multipliedReportingOverflow(by: type.byteWidth)
        guard !o1 && !o2 else { throw DataError.npyBadShape(path: path, shape: header.shape, reason: "the size overflows") }
        let actual = file.count - header.dataOffset
        if actual < expected {
            throw DataError.truncatedPayload(path: path, dataOffset: header.dataOffset, expectedBytes: expected, actualBytes: actual)
        }
        if actual > expected {
            throw DataError.trailingBytes(path: path, dataOffset: header.dataOffset, expectedBytes: expected, actualBytes: actual)
        }
        self.path = path
        self.file = file
        self.elementType = type
        self.shape = header.shape
        self.rows = first
        self.cols = header.shape.count == 1 ? 1 : width
        self.data = file.baseAddress.map { $0 + header.dataOffset }
    }

    /// Copies row `i` into `out[0..<cols]`, converting to Float.
    @inline(__always)
    public func copyRow(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(i >= 0 && i < rows, "row \(i) out of range 0..<\(rows) in \(path)")
        convert(from: i * cols, count: cols, into: out)
    }

    /// Copies rows `range` into `out`, row-major (`range.count × cols` floats).
    public func copyRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "rows \(range) out of range 0..<\(rows) in \(path)")
        convert(from: range.lowerBound * cols, count: range.count * cols, into: out)
    }

    /// Rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        var m = Matrix(rows: range.count, cols: cols)
        m.storage.withUnsafeMutableBufferPointer { copyRows(range, into: $0.baseAddress!) }
        return m
    }

    /// The whole array as a matrix.
    public func matrix() -> Matrix { rows(0..<rows) }

    /// Element `index` (flat, row-major) as Double — exact for integers up to 2^53 — for validating
    /// small integer arrays such as labels and masks.
    package func doubleValue(at index: Int) -> Double {
        let o = index * elementType.byteWidth
        let p = data!
        let big = elementType.bigEndian
        switch elementType.kind {
        case .bool, .uint8: return Double(p.load(fromByteOffset: o, as: UInt8.self))
        case .int32:
            let raw = p.loadUnaligned(fromByteOffset: o, as: Int32.self)
            return Double(big ? Int32(bigEndian: raw) : Int32(littleEndian: raw))
        case .int64:
            let raw = p.loadUnaligned(fromByteOffset: o, as: Int64.self)
            return Double(big ? Int64(bigEndian: raw) : Int64(littleEndian: raw))
        case .float32:
            let raw = p.loadUnaligned(fromByteOffset: o, as: UInt32.self)
            return Double(Float(bitPattern: big ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)))
        case .float64:
            let raw = p.loadUnaligned(fromByteOffset: o, as: UInt64.self)
            return Double(bitPattern: big ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw))
        }
    }

    /// Converts `count` consecutive elements starting at flat index `first`. One switch per call, then a
    /// tight loop; little-endian float32 (the common case) is a plain memcpy.
    private func convert(from first: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        guard count > 0, let data else { return }
        let src = data + first * elementType.byteWidth
        let big = elementType.bigEndian
        switch elementType.kind {
        case .bool, .uint8:
            let b = src.assumingMemoryBound(to: UInt8.self)
            for j in 0..<count { out[j] = Float(b[j]) }
        case .float32:
            if !big && UInt32(1).littleEndian == 1 {
                memcpy(out, src, count * 4)
            } else {
                for j in 0..<count {
                    let raw = src.loadUnaligned(fromByteOffset: 4 * j, as: UInt32.self)
                    out[j] = Float(bitPattern: big ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw))
                }
            }
        case .float64:
            for j in 0..<count {
                let raw = src.loadUnaligned(fromByteOffset: 8 * j, as: UInt64.self)
                out[j] = Float(Double(bitPattern: big ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)))
            }
        case .int32:
            for j in 0..<count {
                let raw = src.loadUnaligned(fromByteOffset: 4 * j, as: Int32.self)
                out[j] = Float(big ? Int32(bigEndian: raw) : Int32(littleEndian: raw))
            }
        case .int64:
            for j in 0..<count {
                let raw = src.loadUnaligned(fromByteOffset: 8 * j, as: Int64.self)
                out[j] = Float(big ? Int64(bigEndian: raw) : Int64(littleEndian: raw))
            }
        }
    }
}
