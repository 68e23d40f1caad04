/// Collects named Float tensors and writes them as one `.safetensors` file.
///
/// Layout: 8-byte little-endian header length N, N bytes of JSON header padded with trailing
/// spaces so the data starts 8-byte aligned, then the tensors' F32 bytes in the order they were
/// added, contiguous. The header lists `__metadata__` first (keys sorted; omitted when empty),
/// then the tensors in insertion order, so the same tensors and metadata give the same bytes.
///
/// `add` copies the values, so callers may reuse their buffers at once (and the arena can keep
/// training while a copy is written). Problems with a tensor (duplicate or reserved name, negative
/// dimension, element count not matching the shape) are reported by `write`, naming the file.
public struct SafeTensorsWriter {
    private struct Entry {
        let name: String
        let shape: [Int]
        /// Range of this tensor's values in `values`.
        let start: Int
        let count: Int
    }

    private var entries: [Entry] = []
    private var values: [Float] = []

    public init() {}

    /// Tensor names in the order they will be written.
    public var names: [String] { entries.map(\.name) }

    public mutating func add(name: String, shape: [Int], data: UnsafeBufferPointer<Float>) {
        entries.append(Entry(name: name, shape: shape, start: values.count, count: data.count))
        values.append(contentsOf: data)
    }

    public mutating func add(name: String, shape: [Int], values data: [Float]) {
        data.withUnsafeBufferPointer { add(name: name, shape: shape, data: $0) }
    }

    /// Writes the file atomically (temporary name, fsync, rename, fsync of the folder) and returns
    /// the CRC-32 of the bytes written, which equals `crc32(ofFile: path)`.
    @discardableResult
    public func write(to path: String, metadata: [String: String] = [:]) throws -> UInt32 {
        try validate(path: path)
        let header = encodedHeader(metadata: metadata)
        var prefix = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Array($0) }
        prefix += header
        var crc = prefix.withUnsafeBytes { crc32($0) }
        try values.withUnsafeBytes { data in
            crc = crc32(data, continuing: crc)
            try FileIO.atomicWrite(to: path) { fd, temp in
                try prefix.withUnsafeBytes { try FileIO.writeAll(fd, $0.baseAddress, $0.count, path: temp) }
                try FileIO.writeAll(fd, data.baseAddress, data.count, path: temp)
            }
        }
        return crc
    }

    private func validate(path: String) throws {
        var seen = Set<String>()
        for e in entries {
            func bad(_ problem: String) -> CheckpointError {
                CheckpointError(path: path, .invalidTensor(name: e.name, problem: problem))
            }
            if e.name.isEmpty { throw bad("empty name") }
            if e.name == "__metadata__" { throw bad("the name is reserved for metadata") }
            if !seen.insert(e.name).inserted { throw CheckpointError(path: path, .duplicateName(e.name)) }
            if e.shape.contains(where: { $0 < 0 }) { throw bad("negative dimension in shape \(e.shape)") }
            guard let n = elementCount(e.shape) else { throw bad("shape \(e.shape) overflows") }
            if n != e.count { throw bad("shape \(e.shape) holds \(n) values but \(e.count) were given") }
        }
    }

    /// The JSON header padded with spaces to a multiple of 8 bytes (the length prefix is 8 bytes,
    /// so the data then starts 8-byte aligned).
    func encodedHeader(metadata: [String: String]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { jsonQuoted($0) + ":" + jsonQuoted(metadata[$0]!) }
            parts.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        for e in entries {
            let begin = 4 * e.start, end = 4 * (e.start + e.count)
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append(
                jsonQuoted(e.name)
                    + ":{\"dtype\":\"F32\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}")
        }
        var bytes = Array(("{" + parts.joined(separator: ",") + "}").utf8)
        bytes += repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8)
        return bytes
    }
}

/// Product of the dimensions (1 for a scalar's empty shape), or nil on overflow.
func elementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}
