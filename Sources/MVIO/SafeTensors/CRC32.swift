import CZlib
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) through zlib, which the package links
// anyway: it catches bit rot and truncation in checkpoints. Not a cryptographic hash.

/// CRC-32 of `bytes`; pass a previous result as `crc` to checksum data that arrives in pieces.
public func crc32(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
    guard var p = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
    var value = UInt(crc)
    var left = bytes.count
    // zlib takes a 32-bit length.
    while left > 0 {
        let n = min(left, 1 << 30)
        value = CZlib.crc32(value, p, UInt32(n))
        p += n
        left -= n
    }
    return UInt32(truncatingIfNeeded: value)
}

public func crc32(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
    bytes.withUnsafeBytes { crc32($0, continuing: crc) }
}

/// CRC-32 of a whole file, read in 1 MiB chunks so large checkpoints need no large buffer.
public func crc32(ofFile path: String) throws -> UInt32 {
    let fd = try FileIO.openFile(path, O_RDONLY)
    defer { close(fd) }
    let chunk = 1 << 20
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
    defer { buffer.deallocate() }
    var crc: UInt32 = 0
    var offset = 0
    while true {
        let n = try FileIO.readAt(fd, buffer, chunk, at: offset, path: path)
        if n == 0 { return crc }
        crc = crc32(UnsafeRawBufferPointer(start: buffer, count: n), continuing: crc)
        offset += n
    }
}
