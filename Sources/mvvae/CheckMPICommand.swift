import ArgumentParser
import Foundation
import MultiViewVAE

/// Proves the collectives work on this launch: every rank contributes rank+1 to an allreduce and a
/// vector allreduce, rank 0 broadcasts a payload, and every rank checks the results. Under MPI it also
/// checks the ring collectives the trainer uses against OpenMPI's own (see `RingCheck`).
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
        var ringProblems: [String] = []
        if let mpi = comm as? MPICommunicator, !mpi.usesLibraryCollectives {
            ringProblems = try RingCheck(comm: mpi).run(counts: [1, 5, 2 * n + 1, count, 1_000_003])
            for p in ringProblems { print("check-mpi: rank \(comm.rank): \(p)") }
        }
        let ok =
            total == expected && vector.allSatisfy { Double($0) == expected } && payload == [3.5, -1, 42]
            && highest == [Float(n - 1), 0] && maxRank == Double(n - 1) && ringProblems.isEmpty
        let okAll = try comm.sum(ok ? 0 : 1) == 0
        try comm.barrier()
        if comm.rank == 0 {
            print(
                okAll
                    ? "check-mpi: \(n) rank(s) agree: allreduce sum \(Int(total)) (expected \(Int(expected))), max, broadcast ok"
                        + (comm is MPICommunicator ? "; ring reduce-scatter, allgather and allreduce match OpenMPI's" : "")
                    : "check-mpi: FAILED: allreduce sum \(total) (expected \(expected)); any ring collective that disagrees with "
                        + "OpenMPI's is listed above"
            )
        }
        if !okAll { throw ExitCode(1) }
    }
}

/// The ring collectives of `MPICommunicator` against OpenMPI's own, at several lengths and block layouts
/// (even, uneven, with an empty block). Integer-valued floats sum exactly in any order, so those results
/// must be equal bit for bit; fractional values must agree to rounding (exactly at two ranks, where a sum
/// has one order) and, above all, be bit-identical on every rank.
struct RingCheck {
    let comm: MPICommunicator

    func run(counts: [Int]) throws -> [String] {
        var problems: [String] = []
        let p = comm.size, r = comm.rank
        for count in counts {
            var layouts = [(0..<p).map { rankSlice(count: count, rank: $0, size: p) }]
            if p > 1 {  // rank 0's block empty, rank 1 one element (at three or more ranks), the last rank the rest
                let sizes = (0..<p).map { b in
                    b == 0 ? 0 : b == p - 1 ? count - Swift.min(count, p > 2 ? 1 : 0) : b == 1 ? Swift.min(count, 1) : 0
                }
                var start = 0
                layouts.append(
                    sizes.map { n in
                        defer { start += n }; return start..<(start + n)
                    })
            }
            for (l, blocks) in layouts.enumerated() {
                let name = "count \(count), layout \(l)"
                for integers in [true, false] {
                    let send = (0..<count).map { i -> Float in
                        integers ? Float((i * 7 + r * 13) % 101 - 50) : Float(sin(Double(i) * 0.37 + Double(r) * 1.3)) * 3.7
                    }
                    let mine = blocks[r]
                    var ring = [Float](repeating: .nan, count: Swift.max(mine.count, 1))
                    var library = ring
                    try send.withUnsafeBufferPointer { s in
                        try ring.withUnsafeMutableBufferPointer {
                            try comm.reduceScatterSum(s.baseAddress!, into: $0.baseAddress!, blocks: blocks)
                        }
                        try library.withUnsafeMutableBufferPointer {
                            try comm.libraryReduceScatterSum(s.baseAddress!, into: $0.baseAddress!, blocks: blocks)
                        }
                    }
                    let exact = integers || p <= 2
                    if !agree(ring.prefix(mine.count), library.prefix(mine.count), exact: exact) {
                        problems.append("\(name): ring reduce-scatter differs from MPI_Reduce_scatter (integers: \(integers))")
                    }
                    // Allgather the ring's blocks: every rank must then hold the same full vector.
                    var full = [Float](repeating: .nan, count: Swift.max(count, 1))
                    for (i, v) in ring.prefix(mine.count).enumerated() { full[mine.lowerBound + i] = v }
                    try full.withUnsafeMutableBufferPointer { try comm.allgather($0.baseAddress!, blocks: blocks) }
                    if try !identicalOnAllRanks(Array(full.prefix(count))) {
                        problems.append("\(name): ranks hold different vectors after the ring allgather")
                    }
                }
            }
            // Allreduce (sum, max) in place, against MPI_Allreduce.
            var sum = (0..<count).map { i in Float((i * 3 + r * 5) % 17 - 8) }
            var reference = sum
            try sum.withUnsafeMutableBufferPointer { try comm.allreduceSum($0.baseAddress!, count: count) }
            try reference.withUnsafeMutableBufferPointer { try comm.libraryAllreduceSum($0.baseAddress!, count: count) }
            if sum != reference { problems.append("count \(count): ring allreduce sum differs from MPI_Allreduce") }
            var highest = (0..<count).map { i in Float(sin(Double(i + 31 * r))) }
            let expected = (0..<count).map { i in (0..<p).map { Float(sin(Double(i + 31 * $0))) }.max()! }
            try highest.withUnsafeMutableBufferPointer { try comm.allreduceMax($0.baseAddress!, count: count) }
            if highest != expected { problems.append("count \(count): ring allreduce max is wrong") }
            var doubles = (0..<count).map { i in Double(i % 11) + 0.25 * Double(r) }
            let doubleExpected = (0..<count).map { i in Double(p) * Double(i % 11) + 0.25 * Double(p * (p - 1) / 2) }
            try doubles.withUnsafeMutableBufferPointer { try comm.allreduceSum($0.baseAddress!, count: count) }
            if doubles != doubleExpected { problems.append("count \(count): ring allreduce of doubles is wrong") }
        }
        return problems
    }

    func agree(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, exact: Bool) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in exact ? x.bitPattern == y.bitPattern : abs(x - y) <= 1e-5 * Swift.max(1, abs(y)) }
    }

    /// Rank 0's vector is broadcast and compared bit for bit on every rank.
    func identicalOnAllRanks(_ v: [Float]) throws -> Bool {
        var root = v
        try root.withUnsafeMutableBufferPointer { if $0.count > 0 { try comm.broadcast($0.baseAddress!, count: $0.count, root: 0) } }
        let same = zip(root, v).allSatisfy { $0.bitPattern == $1.bitPattern }
        return try comm.sum(same ? 0 : 1) == 0
    }
}
