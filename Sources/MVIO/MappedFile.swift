#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A whole file mapped read-only into memory; unmapped when the last reference goes away.
///
/// Mapping instead of reading lets a 10 GB .npy be opened instantly and lets the kernel page rows in
/// on demand (and share them between ranks on one node). The file must not be truncated by someone
/// else while it is mapped (reading a vanished page raises SIGBUS) — data files are treated as immutable.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// Size of the file in bytes.
    public let count: Int
    /// Start of the mapping; nil for an empty file (mmap cannot map zero bytes).
    private let base: UnsafeRawPointer?

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT { throw DataError.fileNotFound(path: path) }
            throw DataError.fileUnreadable(path: path, reason: errnoText(code))
        }
        defer { close(fd) }  // the mapping stays valid after the descriptor is closed

        var info = stat()
        if fstat(fd, &info) != 0 { throw DataError.fileUnreadable(path: path, reason: errnoText(errno)) }
        if (info.st_mode & S_IFMT) != S_IFREG {
            throw DataError.fileUnreadable(path: path, reason: "not a regular file")
        }
        count = Int(info.st_size)
        if count == 0 {
            base = nil
            return
        }
        guard let p = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw DataError.fileUnreadable(path: path, reason: "mmap failed: \(errnoText(errno))")
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// The mapped bytes; valid only inside `body` (and while `self` is alive).
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// Raw start of the mapping for readers that keep `self` alive alongside the pointer.
    var baseAddress: UnsafeRawPointer? { base }
}

func errnoText(_ code: Int32) -> String {
    String(cString: strerror(code))
}
