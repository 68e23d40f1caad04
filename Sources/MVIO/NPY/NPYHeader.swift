/// Element types this package reads from .npy files, with their byte order.
public struct NPYElementType: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case bool, uint8, int32, int64, float32, float64 }
    public let kind: Kind
    /// Multi-byte elements stored big-endian ('>'); numpy writes the machine's order, which is little-endian here.
    public let bigEndian: Bool

    public static let supportedDescriptors = ["|b1", "|u1", "<i4", "<i8", "<f4", "<f8"]

    public var byteWidth: Int {
        switch kind {
        case .bool, .uint8: return 1
        case .int32, .float32: return 4
        case .int64, .float64: return 8
        }
    }

    public var isInteger: Bool { kind == .bool || kind == .uint8 || kind == .int32 || kind == .int64 }

    /// Parses a numpy dtype descriptor such as '<f4' or '|u1'; nil when unsupported.
    /// '=' means native order, which `NPYFile` treats as little-endian (the only hosts this runs on).
    init?(descriptor: String) {
        let chars = Array(descriptor.utf8)
        guard chars.count == 3, let order = chars.first else { return nil }
        let code = String(decoding: chars[1...], as: UTF8.self)
        switch code {
        case "b1": kind = .bool
        case "u1": kind = .uint8
        case "i4": kind = .int32
        case "i8": kind = .int64
        case "f4": kind = .float32
        case "f8": kind = .float64
        default: return nil
        }
        switch order {
        case UInt8(ascii: "<"), UInt8(ascii: "="): bigEndian = false
        case UInt8(ascii: ">"): bigEndian = true
        case UInt8(ascii: "|"):
            // "Not applicable" is only valid for single-byte types.
            guard kind == .bool || kind == .uint8 else { return nil }
            bigEndian = false
        default: return nil
        }
    }

    public var description: String {
        let code: String
        switch kind {
        case .bool: code = "b1"
        case .uint8: code = "u1"
        case .int32: code = "i4"
        case .int64: code = "i8"
        case .float32: code = "f4"
        case .float64: code = "f8"
        }
        return (byteWidth == 1 ? "|" : (bigEndian ? ">" : "<")) + code
    }
}

/// The parsed preamble of a .npy file (NEP 1): magic "\x93NUMPY", version major.minor, a little-endian
/// header length (2 bytes in v1.0, 4 bytes in v2.0/v3.0), then a Python dict literal with the keys
/// 'descr', 'fortran_order' and 'shape', padded with spaces and ended by '\n'. Data follows directly.
struct NPYHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]
    /// Byte offset of the first element.
    var dataOffset: Int

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> NPYHeader {
        guard bytes.count >= 8, bytes.prefix(6).elementsEqual(magic) else {
            throw DataError.npyBadMagic(path: path, found: Array(bytes.prefix(6)))
        }
        let major = bytes[6], minor = bytes[7]
        let lengthBytes: Int
        switch (major, minor) {
        case (1, 0): lengthBytes = 2
        case (2, 0), (3, 0): lengthBytes = 4
        default: throw DataError.npyUnsupportedVersion(path: path, major: major, minor: minor)
        }
        let textStart = 8 + lengthBytes
        guard bytes.count >= textStart else {
            throw DataError.npyBadHeader(path: path, offset: bytes.count, reason: "the file ends inside the header length field")
        }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let dataOffset = textStart + headerLength
        guard bytes.count >= dataOffset else {
            throw DataError.npyBadHeader(
                path: path, offset: bytes.count,
                reason: "the header length field says \(headerLength) bytes but the file ends after \(bytes.count - textStart)")
        }
        var parser = DictParser(
            text: Array(UnsafeRawBufferPointer(rebasing: bytes[textStart..<dataOffset])),
            baseOffset: textStart, path: path)
        var header = try parser.parseHeader()
        header.dataOffset = dataOffset
        return header
    }
}

/// A recursive-descent parser for the small subset of Python literals a .npy header uses:
/// a dict of quoted string keys to strings, True/False, and tuples of non-negative integers.
private struct DictParser {
    let text: [UInt8]
    let baseOffset: Int
    let path: String
    var pos = 0

    init(text: [UInt8], baseOffset: Int, path: String) {
        self.text = text
        self.baseOffset = baseOffset
        self.path = path
    }

    private enum Value {
        case string(String)
        case bool(Bool)
        case tuple([Int])
    }

    private func fail(_ reason: String) -> DataError {
        DataError.npyBadHeader(path: path, offset: baseOffset + pos, reason: reason)
    }

    private var current: UInt8? { pos < text.count ? text[pos] : nil }

    private mutating func skipSpace() {
        while let c = current, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 }
    }

    private mutating func expect(_ ch: Character) throws {
        skipSpace()
        guard let c = current, c == ch.asciiValue! else {
            throw fail("expected '\(ch)' but found \(describeCurrent())")
        }
        pos += 1
    }

    private func describeCurrent() -> String {
        guard let c = current else { return "the end of the header" }
        if c >= 0x20 && c < 0x7F { return "'\(Character(Unicode.Scalar(c)))'" }
        return "byte 0x\(String(c, radix: 16))"
    }

    mutating func parseHeader() throws -> NPYHeader {
        try expect("{")
        var descr: String?, fortran: Bool?, shape: [Int]?
        while true {
            skipSpace()
            if current == UInt8(ascii: "}") { pos += 1; break }
            let keyPos = pos
            guard case let .string(key) = try parseValue() else {
                pos = keyPos
                throw fail("dictionary keys must be quoted strings")
            }
            guard ["descr", "fortran_order", "shape"].contains(key) else {
                pos = keyPos
                throw fail("unexpected key '\(key)' (only 'descr', 'fortran_order' and 'shape' are allowed)")
            }
            try expect(":")
            skipSpace()
            let valuePos = pos
            let value = try parseValue()
            switch (key, value) {
            case ("descr", .string(let s)) where descr == nil: descr = s
            case ("fortran_order", .bool(let b)) where fortran == nil: fortran = b
            case ("shape", .tuple(let t)) where shape == nil: shape = t
            default:
                pos = valuePos
                throw fail("key '\(key)' is repeated or has a value of the wrong kind")
            }
            skipSpace()
            if current == UInt8(ascii: ",") { pos += 1; continue }
            try expect("}")
            break
        }
        skipSpace()
        guard pos == text.count else { throw fail("unexpected text after the closing '}'") }
        guard let d = descr else { throw fail("the key 'descr' is missing") }
        guard let f = fortran else { throw fail("the key 'fortran_order' is missing") }
        guard let s = shape else { throw fail("the key 'shape' is missing") }
        return NPYHeader(descr: d, fortranOrder: f, shape: s, dataOffset: 0)
    }

    private mutating func parseValue() throws -> Value {
        skipSpace()
        guard let c = current else { throw fail("expected a value but the header ended") }
        switch c {
        case UInt8(ascii: "'"), UInt8(ascii: "\""):
            pos += 1
            let start = pos
            while let d = current, d != c {
                guard d >= 0x20 && d < 0x7F && d != UInt8(ascii: "\\") else {
                    throw fail("unsupported character in a string")
                }
                pos += 1
            }
            guard current == c else { throw fail("unterminated string") }
            let s = String(decoding: text[start..<pos], as: UTF8.self)
            pos += 1
            return .string(s)
        case UInt8(ascii: "T"), UInt8(ascii: "F"):
            for (word, value) in [("True", true), ("False", false)] where text[pos...].starts(with: word.utf8) {
                pos += word.utf8.count
                return .bool(value)
            }
            throw fail("expected True or False")
        case UInt8(ascii: "("):
            pos += 1
            var dims: [Int] = []
            while true {
                skipSpace()
                if current == UInt8(ascii: ")") { pos += 1; break }
                dims.append(try parseInteger())
                skipSpace()
                if current == UInt8(ascii: ",") { pos += 1; continue }
                try expect(")")
                break
            }
            return .tuple(dims)
        case UInt8(ascii: "["):
            throw fail("structured (record) dtypes are not supported; save a plain numeric array")
        default:
            throw fail("expected a string, True/False or a tuple but found \(describeCurrent())")
        }
    }

    private mutating func parseInteger() throws -> Int {
        let start = pos
        var value = 0
        while let c = current, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
            guard !o1 && !o2 else { pos = start; throw fail("dimension too large") }
            value = sum
            pos += 1
        }
        guard pos > start else { throw fail("expected a non-negative integer dimension but found \(describeCurrent())") }
        if current == UInt8(ascii: "L") { pos += 1 }  // Python 2 long literals, e.g. (3L, 4L)
        return value
    }
}
