import ArgumentParser
import Foundation
import MultiViewVAE

/// Proves the collectives work on this launch: every rank contributes rank+1 to an allreduce and a
/// vector allreduce, rank 0 broadcasts a payload, and every rank checks the results.
struct CheckMPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-mpi",
        abstract: "Check that the ranks of this launch can allreduce and broadcast (run under mpirun).")

    @Option(help: "Length of the float vector allreduced.")
    var count: Int = 1000

    func run() throws {
        let comm = try makeCommunicator()
        let n = comm.size
        let total = try comm.sum(Double(comm.rank + 1))
        let expected = Double(n * (n + 1) / 2)
        var vector = [Float](repeating: Float(comm.rank + 1), count: count)
        try vector.withUnsafeMutableBufferPointer { try comm.allreduceSum($0.baseAddress!, count: $0.count) }
        var highest = [Float(comm.rank), -Float(comm.rank)]
        try highest.withUnsafeMutableBufferPointer { try comm.allreduceMax($0.baseAddress!, count: 2) }
        var payload: [Float] = comm.rank == 0 ? [3.5, -1, 42] : [0, 0, 0]
        try payload.withUnsafeMutableBufferPointer { try comm.broadcast($0.baseAddress!, count: 3, root: 0) }
        let maxRank = try comm.max(Double(comm.rank))
        let ok = total == expected && vector.allSatisfy { Double($0) == expected } && payload == [3.5, -1, 42]
            && highest == [Float(n - 1), 0] && maxRank == Double(n - 1)
        let okAll = try comm.sum(ok ? 0 : 1) == 0
        try comm.barrier()
        if comm.rank == 0 {
            print(okAll ? "check-mpi: \(n) rank(s) agree: allreduce sum \(Int(total)) (expected \(Int(expected))), max, broadcast ok"
                        : "check-mpi: FAILED: ranks disagree (allreduce sum \(total), expected \(expected))")
        }
        if !okAll { throw ExitCode(1) }
    }
}
