#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Checkpoint files hold raw little-endian floats copied straight from memory.
#if !_endian(little)
    #error("checkpoint files assume a little-endian host")
#endif

/// Thin POSIX wrappers for checkpoint files: every failure becomes a `CheckpointError.io`
/// naming the file, and short reads/writes and EINTR are handled once, here.
enum FileIO {
    static func errnoMessage(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    static func ioError(_ path: String, _ operation: String, _ code: Int32 = errno) -> CheckpointError {
        CheckpointError(path: path, .io(operation: operation, message: errnoMessage(code)))
    }

    static func openFile(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws -> Int32 {
        while true {
            let fd = open(path, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw ioError(path, "open") }
        }
    }

    /// Writes all `count` bytes or throws.
    static func writeAll(_ fd: Int32, _ base: UnsafeRawPointer?, _ count: Int, path: String) throws {
        guard var p = base else { return }
        var left = count
        while left > 0 {
            let n = write(fd, p, left)
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError(path, "write")
            }
            p += n
            left -= n
        }
    }

    /// Reads up to `count` bytes at `offset`; returns fewer only at end of file.
    static func readAt(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int, at offset: Int, path: String) throws -> Int {
        var done = 0
        while done < count {
            let n = pread(fd, base + done, count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError(path, "read")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    static func fileSize(_ fd: Int32, path: String) throws -> Int {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw ioError(path, "stat") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError(path: path, .io(operation: "open", message: "not a regular file"))
        }
        return Int(st.st_size)
    }

    /// The folder holding `path`, for the fsync that makes a rename durable.
    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Replaces `path` atomically: the bytes go to `<path>.tmp-<pid>`, are fsynced, then renamed
    /// over `path`, and the folder is fsynced so the rename survives a crash. On any failure
    /// before the rename the temporary file is removed and `path` is untouched.
    static func atomicWrite(to path: String, _ body: (_ fd: Int32, _ tempPath: String) throws -> Void) throws {
        let temp = "\(path).tmp-\(getpid())"
        // Only a crashed writer with our pid leaves something at this name: clear it (never a folder).
        var st = stat()
        if lstat(temp, &st) == 0, (st.st_mode & S_IFMT) != S_IFDIR { unlink(temp) }
        // O_EXCL: never write through a symlink someone put at the temporary name meanwhile.
        let fd = try openFile(temp, O_WRONLY | O_CREAT | O_EXCL)
        var renamed = false
        defer { if !renamed { unlink(temp) } }
        do {
            try body(fd, temp)
            guard fsync(fd) == 0 else { throw ioError(temp, "fsync") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw ioError(temp, "close") }
        guard rename(temp, path) == 0 else { throw ioError(path, "rename") }
        renamed = true
        let dir = directory(of: path)
        let dfd = try openFile(dir, O_RDONLY | O_DIRECTORY)
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw ioError(dir, "fsync") }
    }
}
