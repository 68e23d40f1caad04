#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A `.safetensors` file opened for reading, its header fully checked.
///
/// `init` reads only the header and validates all of it against the file size: JSON syntax,
/// every tensor entry, the dtypes (see `SafeTensorsDType` for what is readable), and that the
/// tensors tile the data buffer exactly with no overlap, gap or missing tail. Tensor data is then
/// read on demand with positioned reads straight into the caller's memory, so loading a
/// checkpoint costs no second copy. The file stays open until the object is released; reads are
/// safe from several threads.
public final class SafeTensorsFile: Sendable {
    public struct TensorInfo: Equatable, Sendable {
        public let name: String
        public let dtype: SafeTensorsDType
        public let shape: [Int]
        public let elementCount: Int
        /// Byte range in the data buffer (relative to `dataStart`, as in the header).
        public let dataOffsets: Range<Int>
        /// Absolute offset of the tensor's entry in the header, for error messages.
        let headerOffset: Int
    }

    /// Headers above this size are taken as a corrupt length (the reference implementation uses
    /// the same bound).
    public static let maxHeaderLength = 100_000_000

    public let path: String
    /// The `__metadata__` strings; empty when the file has none.
    public let metadata: [String: String]
    /// Tensor names in header order (for files from `SafeTensorsWriter`, the order of `add`).
    public let names: [String]
    public let fileSize: Int
    /// Absolute offset of the data buffer: 8 + header length.
    public let dataStart: Int
    private let tensors: [String: TensorInfo]
    private let fd: Int32

    public init(path: String) throws {
        self.path = path
        let fd = try FileIO.openFile(path, O_RDONLY)
        do {
            let size = try FileIO.fileSize(fd, path: path)
            let header = try Self.parseHeader(fd: fd, path: path, fileSize: size)
            self.fileSize = size
            self.dataStart = header.dataStart
            self.metadata = header.metadata
            self.names = header.infos.map(\.name)
            self.tensors = Dictionary(uniqueKeysWithValues: header.infos.map { ($0.name, $0) })
        } catch {
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { close(fd) }

    public func info(_ name: String) -> TensorInfo? { tensors[name] }
    public func shape(_ name: String) -> [Int]? { tensors[name]?.shape }
    public func dtype(_ name: String) -> SafeTensorsDType? { tensors[name]?.dtype }

    /// Reads tensor `name` as `count` Floats into `destination`. `count` must equal the tensor's
    /// element count; with `expectedShape` the shape must match exactly too.
    public func read(
        _ name: String, into destination: UnsafeMutablePointer<Float>, count: Int,
        expectedShape: [Int]? = nil
    ) throws {
        let info = try lookup(name, expectedShape: expectedShape)
        guard count == info.elementCount else {
            throw CheckpointError(
                path: path, offset: info.headerOffset,
                .countMismatch(tensor: name, expected: count, found: info.elementCount))
        }
        let fileOffset = dataStart + info.dataOffsets.lowerBound
        if info.dtype == .f32 {
            let got = try FileIO.readAt(fd, destination, info.dataOffsets.count, at: fileOffset, path: path)
            try checkComplete(got, info)
            return
        }
        // Other dtypes are converted through a bounded scratch buffer.
        let chunkElements = 1 << 16, size = info.dtype.byteSize
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: chunkElements * size, alignment: 16)
        defer { scratch.deallocate() }
        var done = 0
        while done < count {
            let n = min(chunkElements, count - done)
            let got = try FileIO.readAt(fd, scratch, n * size, at: fileOffset + done * size, path: path)
            try checkComplete(done * size + got, info, wanted: (done + n) * size)
            info.dtype.convert(scratch, count: n, into: destination + done)
            done += n
        }
    }

    /// Reads tensor `name` into a new array, checking `expectedShape` when given.
    public func tensor(_ name: String, expectedShape: [Int]? = nil) throws -> (shape: [Int], values: [Float]) {
        let info = try lookup(name, expectedShape: expectedShape)
        let values = try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            if let base = buffer.baseAddress {
                try read(name, into: base, count: info.elementCount)
            }
            initialized = info.elementCount
        }
        return (info.shape, values)
    }

    private func lookup(_ name: String, expectedShape: [Int]?) throws -> TensorInfo {
        guard let info = tensors[name] else { throw CheckpointError(path: path, .tensorNotFound(name)) }
        if let expected = expectedShape, expected != info.shape {
            throw CheckpointError(
                path: path, offset: info.headerOffset,
                .shapeMismatch(tensor: name, expected: expected, found: info.shape))
        }
        return info
    }

    /// The file was validated at open; a short read now means it shrank since.
    private func checkComplete(_ got: Int, _ info: TensorInfo, wanted: Int? = nil) throws {
        let wanted = wanted ?? info.dataOffsets.count
        if got < wanted {
            let available = info.dataOffsets.lowerBound + got
            throw CheckpointError(
                path: path, offset: dataStart + available,
                .truncatedData(
                    neededBytes: info.dataOffsets.lowerBound + wanted,
                    availableBytes: available))
        }
    }
}

// MARK: - Header validation

extension SafeTensorsFile {
    struct Header {
        var dataStart: Int
        var metadata: [String: String]
        var infos: [TensorInfo]
    }

    static func parseHeader(fd: Int32, path: String, fileSize: Int) throws -> Header {
        func fail(_ offset: Int?, _ reason: CheckpointError.Reason) -> CheckpointError {
            CheckpointError(path: path, offset: offset, reason)
        }
        guard fileSize >= 8 else { throw fail(0, .fileTooShort(size: fileSize)) }
        var lengthLE: UInt64 = 0
        _ = try withUnsafeMutableBytes(of: &lengthLE) {
            try FileIO.readAt(fd, $0.baseAddress!, 8, at: 0, path: path)
        }
        let length = UInt64(littleEndian: lengthLE)
        guard length <= UInt64(maxHeaderLength) else {
            throw fail(0, .headerTooLarge(length: length, limit: maxHeaderLength))
        }
        guard length <= UInt64(fileSize - 8) else {
            throw fail(0, .headerBeyondFile(length: length, fileSize: fileSize))
        }
        let n = Int(length)
        var bytes = [UInt8](repeating: 0, count: n)
        let got = try bytes.withUnsafeMutableBytes { try FileIO.readAt(fd, $0.baseAddress!, n, at: 8, path: path) }
        guard got == n else { throw fail(0, .headerBeyondFile(length: length, fileSize: 8 + got)) }
        // The format requires the header to open with '{' (no leading whitespace).
        guard bytes.first == UInt8(ascii: "{") else { throw fail(8, .headerNotObject) }
        let root: JSONNode
        do {
            root = try bytes.withUnsafeBytes { try HeaderJSONParser.parse($0) }
        } catch let e as JSONSyntaxError {
            throw fail(8 + e.offset, .headerNotJSON(e.message))
        }
        guard case let .object(members) = root.value else { throw fail(8, .headerNotObject) }

        var metadata: [String: String]? = nil
        var infos: [TensorInfo] = []
        var seen = Set<String>()
        for (key, node) in members {
            let at = 8 + node.offset
            if key == "__metadata__" {
                guard metadata == nil else { throw fail(at, .invalidMetadata("appears more than once")) }
                metadata = try parseMetadata(node, fail: fail)
                continue
            }
            guard seen.insert(key).inserted else { throw fail(at, .duplicateName(key)) }
            infos.append(try parseEntry(key, node, bufferSize: fileSize - 8 - n, fail: fail))
        }
        let dataStart = 8 + n
        try checkLayout(infos, bufferSize: fileSize - dataStart, dataStart: dataStart, fail: fail)
        return Header(dataStart: dataStart, metadata: metadata ?? [:], infos: infos)
    }

    private static func parseMetadata(
        _ node: JSONNode, fail: (Int?, CheckpointError.Reason) -> CheckpointError
    ) throws -> [String: String] {
        guard case let .object(pairs) = node.value else {
            throw fail(8 + node.offset, .invalidMetadata("not an object"))
        }
        var out: [String: String] = [:]
        for (key, value) in pairs {
            guard case let .string(s) = value.value else {
                throw fail(8 + value.offset, .invalidMetadata("value of '\(key)' is not a string"))
            }
            guard out.updateValue(s, forKey: key) == nil else {
                throw fail(8 + value.offset, .invalidMetadata("key '\(key)' appears more than once"))
            }
        }
        return out
    }

    private static func parseEntry(
        _ name: String, _ node: JSONNode, bufferSize: Int,
        fail: (Int?, CheckpointError.Reason) -> CheckpointError
    ) throws -> TensorInfo {
        let at = 8 + node.offset
        guard case let .object(pairs) = node.value else {
            throw fail(at, .invalidField(tensor: name, field: "(entry)", problem: "not an object"))
        }
        // Unknown keys are ignored (forward compatibility); known ones must appear once.
        var fields: [String: JSONNode] = [:]
        for (key, value) in pairs {
            guard fields.updateValue(value, forKey: key) == nil else {
                throw fail(8 + value.offset, .invalidField(tensor: name, field: key, problem: "appears more than once"))
            }
        }
        func field(_ key: String) throws -> JSONNode {
            guard let v = fields[key] else { throw fail(at, .missingField(tensor: name, field: key)) }
            return v
        }
        func invalid(_ key: String, _ node: JSONNode, _ problem: String) -> CheckpointError {
            fail(8 + node.offset, .invalidField(tensor: name, field: key, problem: problem))
        }

        let dtypeNode = try field("dtype")
        guard case let .string(dtypeText) = dtypeNode.value else { throw invalid("dtype", dtypeNode, "not a string") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeText) else {
            throw fail(8 + dtypeNode.offset, .unsupportedDtype(tensor: name, dtype: dtypeText))
        }

        let shapeNode = try field("shape")
        guard case let .array(dims) = shapeNode.value else { throw invalid("shape", shapeNode, "not an array") }
        var shape: [Int] = []
        for d in dims {
            guard let v = d.unsignedInteger, v <= UInt64(Int.max) else {
                throw invalid("shape", d, "dimensions must be non-negative integers")
            }
            shape.append(Int(v))
        }
        guard let count = elementCount(shape),
            case (let bytes, false) = count.multipliedReportingOverflow(by: dtype.byteSize)
        else { throw invalid("shape", shapeNode, "\(shape) is too large") }

        let offsetsNode = try field("data_offsets")
        guard case let .array(pair) = offsetsNode.value, pair.count == 2,
            let begin = pair[0].unsignedInteger, let end = pair[1].unsignedInteger
        else { throw invalid("data_offsets", offsetsNode, "must be two non-negative integers [begin, end]") }
        guard begin <= end, end <= UInt64(Int.max) else {
            throw fail(8 + offsetsNode.offset, .offsetsOutOfRange(tensor: name, begin: begin, end: end, bufferSize: bufferSize))
        }
        let range = Int(begin)..<Int(end)
        guard range.count == bytes else {
            throw fail(8 + offsetsNode.offset, .sizeMismatch(tensor: name, expectedBytes: bytes, offsetBytes: range.count))
        }
        return TensorInfo(
            name: name, dtype: dtype, shape: shape, elementCount: count,
            dataOffsets: range, headerOffset: at)
    }

    /// The tensors must cover [0, bufferSize) exactly: sorted by offset, each starts where the
    /// previous one ended. A valid tiling that runs past the file is a truncated file; any other
    /// tensor past the end has offsets that are simply wrong.
    private static func checkLayout(
        _ infos: [TensorInfo], bufferSize: Int, dataStart: Int,
        fail: (Int?, CheckpointError.Reason) -> CheckpointError
    ) throws {
        let sorted = infos.sorted {
            ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound)
        }
        var cursor = 0
        var previous: String? = nil
        var tilingError: CheckpointError? = nil
        for info in sorted {
            let r = info.dataOffsets
            if tilingError == nil {
                if r.lowerBound < cursor, let other = previous {
                    tilingError = fail(dataStart + r.lowerBound, .overlappingData(tensor: info.name, other: other))
                } else if r.lowerBound > cursor {
                    tilingError = fail(dataStart + cursor, .unindexedData(begin: cursor, end: r.lowerBound))
                }
            }
            if r.upperBound >= cursor { previous = info.name }
            cursor = max(cursor, r.upperBound)
        }
        if cursor > bufferSize {
            guard tilingError != nil else {
                throw fail(dataStart + bufferSize, .truncatedData(neededBytes: cursor, availableBytes: bufferSize))
            }
            let info = sorted.first { $0.dataOffsets.upperBound > bufferSize }!
            throw fail(
                info.headerOffset,
                .offsetsOutOfRange(
                    tensor: info.name, begin: UInt64(info.dataOffsets.lowerBound),
                    end: UInt64(info.dataOffsets.upperBound), bufferSize: bufferSize))
        }
        if let e = tilingError { throw e }
        if cursor < bufferSize {
            throw fail(dataStart + cursor, .unindexedData(begin: cursor, end: bufferSize))
        }
    }
}
