import Foundation

/// SIGINT/SIGTERM/SIGHUP/SIGUSR1 handling for training: the first signal asks for a clean stop at the next
/// step boundary (checkpoint, exit 0); a second one exits at once, leaving the last good checkpoint as
/// it was. SIGUSR1 is what launch/mpi sends, because mpirun forwards it to every rank unchanged; SIGHUP
/// (a closed terminal or ssh session) is a stop like SIGTERM. Before training starts (config, data, model)
/// there is nothing to save: any of them exits at once — a start-up that is stuck must not outlive the
/// signal. SIGPIPE is ignored: `mvvae train | head` keeps training once the reader has gone.
///
/// A cluster often signals every process of a job at once (the rank gets SIGTERM directly and the
/// SIGUSR1 that launch/mpi relays), so only a SIGINT/SIGTERM arriving more than `grace` seconds after
/// the first signal counts as "second": a person pressing Ctrl-C again.
enum StopSignals {
    nonisolated(unsafe) static var received: Int32 = 0
    nonisolated(unsafe) static var count: Int32 = 0
    nonisolated(unsafe) static var firstAt: Int = 0
    /// Set (by `trainingStarts`) once the trainer runs; until then a signal ends the process.
    nonisolated(unsafe) static var started: Int32 = 0
    static let grace = 3

    static func install() {
        let handler: @convention(c) (Int32) -> Void = { sig in
            if StopSignals.started == 0 {
                // (No interpolation: nothing that allocates in a signal handler.)
                let msg: StaticString = "mvvae: stop signal before training started; nothing to save, exiting\n"
                _ = write(2, msg.utf8Start, msg.utf8CodeUnitCount)
                _exit(128 + sig)
            }
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
        signal(SIGHUP, handler)
        signal(SIGUSR1, handler)
        signal(SIGPIPE, SIG_IGN)
    }

    /// From here on a first signal stops the run cleanly at a step boundary.
    static func trainingStarts() { started = 1 }

    static var stopRequested: Bool { count > 0 }
}
