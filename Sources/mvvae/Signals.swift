import Foundation

/// SIGINT/SIGTERM/SIGUSR1 handling for training: the first signal asks for a clean stop at the next
/// step boundary (checkpoint, exit 0); a second one exits at once, leaving the last good checkpoint as
/// it was. SIGUSR1 is what launch/mpi sends, because mpirun forwards it to every rank unchanged.
enum StopSignals {
    nonisolated(unsafe) static var received: Int32 = 0
    nonisolated(unsafe) static var count: Int32 = 0

    static func install() {
        let handler: @convention(c) (Int32) -> Void = { sig in
            StopSignals.count += 1
            StopSignals.received = sig
            if StopSignals.count >= 2 {
                let msg = "mvvae: second signal, exiting now without saving\n"
                _ = msg.withCString { write(2, $0, strlen($0)) }
                _exit(128 + sig)
            }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        signal(SIGUSR1, handler)
    }

    static var stopRequested: Bool { count > 0 }
}
