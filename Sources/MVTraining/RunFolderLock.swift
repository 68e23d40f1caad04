import Foundation

/// One training run per run folder: an exclusive advisory lock (`flock`) on `<run>/.mvvae.lock`, held for the
/// whole run and released by the kernel on any exit — `kill -9` and a node crash included, so no stale lock
/// outlives its holder. A second `mvvae train` on the folder is refused naming the holder (pid, host, start),
/// before it writes or cleans anything. Under MPI, rank 0 holds it for the job. The file itself is left in
/// place (deleting it would let a third run lock a fresh file while the second still holds the old one).
public final class RunFolderLock {
    public struct Busy: Error, CustomStringConvertible {
        public let run: String
        public let holder: String
        public var description: String {
            "run folder \(run) is in use by another mvvae train (\(holder.isEmpty ? "holder unknown" : holder)); wait for it to "
                + "finish or stop it, or choose another --run"
        }
    }

    public static let fileName = ".mvvae.lock"
    private let descriptor: Int32

    /// Takes the lock of the existing folder `run`, or throws `Busy` at once (no waiting).
    public init(run: String) throws {
        let path = (run as NSString).appendingPathComponent(Self.fileName)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CocoaError(
                .fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            var bytes = [UInt8](repeating: 0, count: 512)
            let n = pread(fd, &bytes, bytes.count, 0)
            close(fd)
            guard code == EWOULDBLOCK else {
                throw CocoaError(
                    .fileLocking, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(code))])
            }
            let holder = String(decoding: bytes.prefix(max(n, 0)), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw Busy(run: run, holder: holder)
        }
        descriptor = fd
        // Who holds it, for the refusal a second run prints.
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName), since \(stamp)\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
