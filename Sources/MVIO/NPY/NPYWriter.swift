#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
import MVCore

/// Writes 2-D Float32 arrays as .npy (format v1.0, or v2.0 if the header would not fit), readable by
/// `numpy.load`. The file is written under a temporary name, fsynced and renamed into place, so a
/// crash or a full disk never leaves a half-written file where a good one was.
public enum NPYWriter {
    public static func write(_ matrix: Matrix, to path: String) throws {
        try matrix.storage.withUnsafeBufferPointer {
            try write(rows: matrix.rows, cols: matrix.cols, values: $0, to: path)
        }
    }

    /// Writes `values` (row-major, `rows × cols`) with dtype '<f4' and shape (rows, cols).
    public static func write(rows: Int, cols: Int, values: UnsafeBufferPointer<Float>, to path: String) throws {
        try write(shape: [rows, cols], values: values, to: path)
    }

    /// Matrices of one shape stacked along a first axis: shape (matrices.count, rows, cols).
    public static func write(stack matrices: [Matrix], to path: String) throws {
        let rows = matrices.first?.rows ?? 0, cols = matrices.first?.cols ?? 0
        precondition(matrices.allSatisfy { $0.rows == rows && $0.cols == cols }, "NPYWriter: stacked matrices differ in shape")
        try matrices.flatMap(\.storage).withUnsafeBufferPointer { try write(shape: [matrices.count, rows, cols], values: $0, to: path) }
    }

    /// Writes `values` (row-major) with dtype '<f4' and `shape`.
    public static func write(shape: [Int], values: UnsafeBufferPointer<Float>, to path: String) throws {
        precondition(
            shape.allSatisfy { $0 >= 0 } && values.count == shape.reduce(1, *),
            "NPYWriter: \(values.count) values do not fill an array of shape \(shape)")
        let header = headerBytes(descr: "<f4", shape: shape)
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DataError.writeFailed(path: path, reason: errnoText(errno)) }
        var closed = false
        do {
            try header.withUnsafeBytes { try writeAll(fd, $0, path: path) }
            if UInt32(1).littleEndian == 1 {
                try writeAll(fd, UnsafeRawBufferPointer(values), path: path)
            } else {
                let swapped = values.map { $0.bitPattern.littleEndian }
                try swapped.withUnsafeBytes { try writeAll(fd, $0, path: path) }
            }
            guard fsync(fd) == 0 else { throw DataError.writeFailed(path: path, reason: "fsync: \(errnoText(errno))") }
            closed = true
            guard close(fd) == 0 else { throw DataError.writeFailed(path: path, reason: "close: \(errnoText(errno))") }
            guard rename(temporary, path) == 0 else {
                throw DataError.writeFailed(path: path, reason: "rename from \(temporary): \(errnoText(errno))")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
    }

    /// Magic, version, header length and the dict literal, space-padded and ended by '\n' so the data
    /// starts on a 64-byte boundary (what the format asks for, so the data can be mapped aligned).
    static func headerBytes(descr: String, shape: [Int]) -> [UInt8] {
        let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
        let dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        var text = Array(dict.utf8)
        func paddedLength(prefix: Int) -> Int { (prefix + text.count + 1 + 63) / 64 * 64 - prefix }
        // v1.0 stores the header length in 2 bytes; longer headers (very many dimensions) need v2.0.
        let lengthBytes = paddedLength(prefix: 10) <= 65535 ? 2 : 4
        let headerLength = paddedLength(prefix: 8 + lengthBytes)
        text += [UInt8](repeating: 0x20, count: headerLength - text.count - 1)
        text.append(0x0A)
        var out = NPYHeader.magic + [lengthBytes == 2 ? 1 : 2, 0]
        for i in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: text.count >> (8 * i))) }
        return out + text
    }

    private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError.writeFailed(path: path, reason: errnoText(errno))
            }
            offset += n
        }
    }
}

// Outside the enum so `write` resolves to the C function, not to `NPYWriter.write`.
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    write(fd, p, n)
}
