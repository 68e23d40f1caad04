import CZlib

/// gzip decompression through zlib's streaming `inflate` API.
enum Gzip {
    /// Whether `bytes` start with the gzip magic 1F 8B. (IDX files start with 00 00, so the two never clash.)
    static func isGzip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// Inflates all gzip members in `input` (concatenated members are valid gzip, as `gzip -d` accepts them).
    /// Anything else after the last member, a truncated stream, or a failed CRC is an error naming `path`.
    static func decompress(_ input: UnsafeRawBufferPointer, path: String) throws -> [UInt8] {
        guard let inBase = input.baseAddress, input.count > 0 else {
            throw DataError.gzipTruncated(path: path, compressedBytes: 0, decompressedBytes: 0)
        }
        var stream = z_stream()
        // windowBits 15 + 32: the largest window, with automatic gzip/zlib header detection.
        // inflateInit2 is a C macro, so call the function it expands to.
        let initCode = inflateInit2_(&stream, MAX_WBITS + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard initCode == Z_OK else {
            throw DataError.gzipCorrupt(path: path, offset: 0, zlibMessage: "inflateInit2 failed with code \(initCode)")
        }
        defer { inflateEnd(&stream) }

        // zlib counts in 32-bit units, so feed and drain at most 1 GiB per call.
        let chunk = 1 << 30
        var out = [UInt8](repeating: 0, count: initialCapacity(input))
        var inPos = 0
        var produced = 0

        while true {
            if produced == out.count {
                out.append(contentsOf: repeatElement(0, count: max(out.count, 1 << 16)))
            }
            stream.next_in = UnsafeMutablePointer(mutating: inBase.assumingMemoryBound(to: UInt8.self) + inPos)
            stream.avail_in = UInt32(min(input.count - inPos, chunk))
            let code: Int32 = out.withUnsafeMutableBufferPointer { ob in
                let outBase = ob.baseAddress!
                stream.next_out = outBase + produced
                stream.avail_out = UInt32(min(ob.count - produced, chunk))
                let code = inflate(&stream, Z_NO_FLUSH)
                produced = stream.next_out - outBase
                return code
            }
            inPos = UnsafeRawPointer(stream.next_in) - inBase

            switch code {
            case Z_OK:
                continue
            case Z_STREAM_END:
                if inPos == input.count {
                    out.removeLast(out.count - produced)
                    return out
                }
                let rest = UnsafeRawBufferPointer(rebasing: input[inPos...])
                guard isGzip(rest) else { throw DataError.gzipTrailingData(path: path, offset: inPos) }
                inflateReset(&stream)
            case Z_BUF_ERROR where inPos == input.count:
                // No progress with all input consumed: the stream stops before its end marker.
                throw DataError.gzipTruncated(path: path, compressedBytes: input.count, decompressedBytes: produced)
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "error code \(code)"
                throw DataError.gzipCorrupt(path: path, offset: inPos, zlibMessage: message)
            }
        }
    }

    /// The gzip trailer stores the uncompressed size mod 2^32; use it as a first guess, capped by the
    /// largest ratio deflate can reach so a corrupt trailer cannot demand gigabytes.
    private static func initialCapacity(_ input: UnsafeRawBufferPointer) -> Int {
        guard input.count >= 18 else { return 1 << 16 }
        let n = input.count
        let isize = Int(input[n - 4]) | Int(input[n - 3]) << 8 | Int(input[n - 2]) << 16 | Int(input[n - 1]) << 24
        return max(1 << 16, min(isize, n * 1032))
    }
}
