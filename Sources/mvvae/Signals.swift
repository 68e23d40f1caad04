import Foundation

/// SIGINT/SIGTERM/SIGUSR1 handling for training: the first signal asks for a clean stop at the next
/// step boundary (checkpoint, exit 0); a second one exits at once, leaving the last good checkpoint as
/// it was. SIGUSR1 is what launch/mpi sends, because mpirun forwards it to every rank unchanged.
///
/// A cluster often signals every process of a job at once (the rank gets SIGTERM directly and the
/// SIGUSR1 that launch/mpi relays), so only a SIGINT/SIGTERM arriving more than `grace` seconds after
/// the first signal counts as "second": a person pressing Ctrl-C again.
enum StopSignals {
    nonisolated(unsafe) static var received: Int32 = 0
    nonisolated(unsafe) static var count: Int32 = 0
    nonisolated(unsafe) static var firstAt: Int = 0
    static let grace = 3

    static func install() {
        let handler: @convention(c) (Int32) -> Void = { sig in
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)  // async-signal-safe
            StopSignals.count += 1
            if StopSignals.count == 1 {
                StopSignals.received = sig
                StopSignals.firstAt = Int(now.tv_sec)
                return
            }
            guard sig != SIGUSR1, Int(now.tv_sec) - StopSignals.firstAt >= StopSignals.grace else { return }
            let msg = "mvvae: second signal, exiting now without saving\n"
            _ = msg.withCString { write(2, $0, strlen($0)) }
            _exit(128 + sig)
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        signal(SIGUSR1, handler)
    }

    static var stopRequested: Bool { count > 0 }
}
