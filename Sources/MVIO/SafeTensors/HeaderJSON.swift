/// A small strict JSON parser for safetensors headers.
///
/// Foundation's JSONSerialization keeps only one of two equal keys and forgets where values sat;
/// the header check needs both (duplicate tensor names are an error, and errors carry byte
/// offsets), so the header is parsed here. Objects keep their keys in file order.
struct JSONNode {
    indirect enum Value {
        case object([(key: String, node: JSONNode)])
        case array([JSONNode])
        case string(String)
        /// The number's text as written; callers convert only what they need.
        case number(String)
        case bool(Bool)
        case null
    }

    /// Byte offset of the value's first character within the parsed bytes.
    let offset: Int
    let value: Value

    /// The value as a non-negative integer that fits `UInt64`, else nil.
    var unsignedInteger: UInt64? {
        guard case let .number(text) = value, !text.isEmpty,
            text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return UInt64(text)
    }
}

struct JSONSyntaxError: Error {
    let offset: Int
    let message: String
}

struct HeaderJSONParser {
    /// Deep nesting is never legitimate in a header and would exhaust the stack.
    static let maxDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var pos = 0

    /// Parses one JSON value at the start of `bytes`; only whitespace may follow it.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONNode {
        var parser = HeaderJSONParser(bytes: bytes)
        parser.skipWhitespace()
        let node = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.pos != bytes.count {
            throw JSONSyntaxError(offset: parser.pos, message: "unexpected data after the top-level value")
        }
        return node
    }

    private init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    private var current: UInt8? { pos < bytes.count ? bytes[pos] : nil }

    private func fail(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(offset: offset ?? pos, message: message)
    }

    private mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { pos += 1 }
    }

    private mutating func expect(_ c: UInt8) throws(JSONSyntaxError) {
        guard current == c else {
            throw fail(
                current == nil
                    ? "unexpected end, expected '\(Character(Unicode.Scalar(c)))'"
                    : "expected '\(Character(Unicode.Scalar(c)))'")
        }
        pos += 1
    }

    private mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONNode {
        guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        let start = pos
        guard let c = current else { throw fail("unexpected end, expected a value") }
        switch c {
        case UInt8(ascii: "{"): return JSONNode(offset: start, value: try parseObject(depth: depth))
        case UInt8(ascii: "["): return JSONNode(offset: start, value: try parseArray(depth: depth))
        case UInt8(ascii: "\""): return JSONNode(offset: start, value: .string(try parseString()))
        case UInt8(ascii: "t"): try parseLiteral("true"); return JSONNode(offset: start, value: .bool(true))
        case UInt8(ascii: "f"): try parseLiteral("false"); return JSONNode(offset: start, value: .bool(false))
        case UInt8(ascii: "n"): try parseLiteral("null"); return JSONNode(offset: start, value: .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(offset: start, value: .number(try parseNumber()))
        default:
            throw fail("unexpected character")
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> JSONNode.Value {
        try expect(UInt8(ascii: "{"))
        var members: [(key: String, node: JSONNode)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") { pos += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            if current == UInt8(ascii: ",") { pos += 1; continue }
            try expect(UInt8(ascii: "}"))
            return .object(members)
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> JSONNode.Value {
        try expect(UInt8(ascii: "["))
        var elements: [JSONNode] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") { pos += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if current == UInt8(ascii: ",") { pos += 1; continue }
            try expect(UInt8(ascii: "]"))
            return .array(elements)
        }
    }

    private mutating func parseLiteral(_ word: StaticString) throws(JSONSyntaxError) {
        let start = pos
        let text = UnsafeRawBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for b in text {
            guard current == b else { throw fail("invalid literal", at: start) }
            pos += 1
        }
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = pos
        func isDigit(_ c: UInt8?) -> Bool { c.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        if current == UInt8(ascii: "-") { pos += 1 }
        guard isDigit(current) else { throw fail("invalid number", at: start) }
        if current == UInt8(ascii: "0") {
            pos += 1
            if isDigit(current) { throw fail("leading zero in number", at: start) }
        } else {
            while isDigit(current) { pos += 1 }
        }
        if current == UInt8(ascii: ".") {
            pos += 1
            guard isDigit(current) else { throw fail("invalid fraction", at: start) }
            while isDigit(current) { pos += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            pos += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { pos += 1 }
            guard isDigit(current) else { throw fail("invalid exponent", at: start) }
            while isDigit(current) { pos += 1 }
        }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self)
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current else { throw fail("unexpected end in \\u escape") }
            let d: UInt8
            switch c {
            case 0x30...0x39: d = c - 0x30
            case 0x41...0x46: d = c - 0x41 + 10
            case 0x61...0x66: d = c - 0x61 + 10
            default: throw fail("invalid hex digit in \\u escape")
            }
            v = v << 4 | UInt32(d)
            pos += 1
        }
        return v
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = pos
        try expect(UInt8(ascii: "\""))
        var out: [UInt8] = []
        while true {
            guard let c = current else { throw fail("unterminated string", at: start) }
            pos += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw fail("string is not valid UTF-8", at: start)
                }
                return s
            case UInt8(ascii: "\\"):
                guard let e = current else { throw fail("unterminated escape") }
                pos += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    let escapeStart = pos - 2
                    var code = try parseHex4()
                    if (0xD800...0xDBFF).contains(code) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard current == UInt8(ascii: "\\") else { throw fail("lone surrogate", at: escapeStart) }
                        pos += 1
                        guard current == UInt8(ascii: "u") else { throw fail("lone surrogate", at: escapeStart) }
                        pos += 1
                        let low = try parseHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate", at: escapeStart) }
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(code) else { throw fail("lone surrogate", at: escapeStart) }
                    out.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw fail("invalid escape", at: pos - 2)
                }
            case 0x00..<0x20:
                throw fail("control character in string", at: pos - 1)
            default:
                out.append(c)
            }
        }
    }
}

/// JSON text for `s`, quoted and escaped; non-ASCII stays raw UTF-8 as JSON allows.
func jsonQuoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case let c where c.value < 0x20:
            let hex = String(c.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
