import CLibFuzzer
import Foundation

/// Runs libFuzzer with this process's arguments, handing each input to `body`.
///
/// `body` sees the input and a scratch file holding the same bytes (the readers under test open
/// paths, as they do for users). An error thrown by `body` is a correct outcome (the reader refused
/// the input); only a trap, a sanitizer report, a leak or a hang is a finding.
public enum FuzzDriver {
    nonisolated(unsafe) private static var body: ((UnsafeRawBufferPointer, String) throws -> Void)?
    nonisolated(unsafe) private static var scratch = ""

    public static func run(fileExtension: String, _ body: @escaping (_ bytes: UnsafeRawBufferPointer, _ path: String) throws -> Void)
        -> Never
    {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        scratch = "\(dir)/mvvae-fuzz-\(getpid()).\(fileExtension)"
        Self.body = body
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        let code = LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            let bytes = UnsafeRawBufferPointer(start: data, count: size)
            FuzzDriver.write(bytes)
            _ = try? FuzzDriver.body?(bytes, FuzzDriver.scratch)
            return 0
        }
        unlink(scratch)
        exit(code)
    }

    private static func write(_ bytes: UnsafeRawBufferPointer) {
        let fd = open(scratch, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        precondition(fd >= 0, "cannot write the scratch file \(scratch)")
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            precondition(n > 0, "cannot write the scratch file \(scratch)")
            done += n
        }
        close(fd)
    }
}
