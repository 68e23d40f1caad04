import Foundation

/// Scalars for TensorBoard: one event file (`events.out.tfevents.<time>.<host>`) of TFRecord-framed
/// `Event` protocol buffers, appended as training goes. Only two messages are needed (an Event holding
/// either the file version or a Summary of `simple_value` scalars), so they are encoded here by hand
/// rather than through swift-protobuf and its generated code: about forty lines against a dependency.
///
/// Wire format (tensorflow/core/util/event.proto, summary.proto): Event { double wall_time = 1;
/// int64 step = 2; string file_version = 3; Summary summary = 5; }, Summary { repeated Value value = 1; },
/// Value { string tag = 1; float simple_value = 2; }. A TFRecord is: length (UInt64 LE), masked CRC-32C
/// of the length, the bytes, masked CRC-32C of the bytes.
public final class TensorBoardWriter {
    public let path: String
    private let handle: FileHandle

    /// Creates `folder` if needed and a new event file in it (TensorBoard reads every file of a folder,
    /// so a resumed run adds one beside the old).
    public init(folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let host = ProcessInfo.processInfo.hostName.isEmpty ? "localhost" : ProcessInfo.processInfo.hostName
        var name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host)"
        var n = 1
        while FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(name)) {
            name = "events.out.tfevents.\(Int(Date().timeIntervalSince1970)).\(host).\(n)"
            n += 1
        }
        path = (folder as NSString).appendingPathComponent(name)
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw CheckpointError(path: path, .io(operation: "create", message: "cannot create the TensorBoard event file"))
        }
        handle = h
        var event = ProtoWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.bytes(3, Array("brain.Event:2".utf8))
        try write(record: event.buffer)
    }

    deinit { try? handle.close() }

    /// One event at `step` with the named scalars (tags such as "train/loss").
    public func scalars(_ values: [(tag: String, value: Double)], step: Int) throws {
        var summary = ProtoWriter()
        for (tag, value) in values where value.isFinite {
            var v = ProtoWriter()
            v.bytes(1, Array(tag.utf8))
            v.float(2, Float(value))
            summary.bytes(1, v.buffer)
        }
        var event = ProtoWriter()
        event.double(1, Date().timeIntervalSince1970)
        event.varint(2, UInt64(bitPattern: Int64(step)))
        event.bytes(5, summary.buffer)
        try write(record: event.buffer)
    }

    private func write(record data: [UInt8]) throws {
        var out: [UInt8] = []
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Array($0) }
        out += length
        out += withUnsafeBytes(of: Self.maskedCRC32C(length).littleEndian) { Array($0) }
        out += data
        out += withUnsafeBytes(of: Self.maskedCRC32C(data).littleEndian) { Array($0) }
        do { try handle.write(contentsOf: out) } catch {
            throw CheckpointError(path: path, .io(operation: "write", message: "\(error)"))
        }
    }

    /// TFRecord's checksum: CRC-32C (Castagnoli), rotated right by 15 and offset, as TensorFlow masks it.
    static func maskedCRC32C(_ bytes: [UInt8]) -> UInt32 {
        let crc = crc32c(bytes)
        return ((crc >> 15) | (crc << 17)) &+ 0xA282_EAD8
    }

    static func crc32c(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes { crc = crc32cTable[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }

    private static let crc32cTable: [UInt32] = (0..<256).map { i in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? 0x82F6_3B78 ^ (c >> 1) : c >> 1 }
        return c
    }
}

/// The protocol-buffer wire encoding of the few field kinds the event file needs.
struct ProtoWriter {
    var buffer: [UInt8] = []

    mutating func rawVarint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { buffer.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        buffer.append(UInt8(v))
    }
    mutating func varint(_ field: Int, _ v: UInt64) { rawVarint(UInt64(field << 3)); rawVarint(v) }
    mutating func double(_ field: Int, _ v: Double) {
        rawVarint(UInt64(field << 3 | 1))
        buffer += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
    }
    mutating func float(_ field: Int, _ v: Float) {
        rawVarint(UInt64(field << 3 | 5))
        buffer += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) }
    }
    mutating func bytes(_ field: Int, _ v: [UInt8]) {
        rawVarint(UInt64(field << 3 | 2))
        rawVarint(UInt64(v.count))
        buffer += v
    }
}
