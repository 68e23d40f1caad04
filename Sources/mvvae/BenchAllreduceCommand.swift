import ArgumentParser
import Foundation
import MultiViewVAE

/// Allreduce latency and bandwidth on this launch (α–β model), and what they predict for weak
/// scaling of a training step on larger clusters with the ring algorithm.
struct BenchAllreduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-allreduce",
        abstract: "Sweep allreduce message sizes under mpirun, fit T = a + b·bytes, project ring-allreduce scaling.",
        discussion: """
            Ring allreduce of n bytes over P ranks: T(P) = 2(P−1)·α + 2(P−1)/P · n·β. From the fit on this
            launch (P ranks) α = a / (2(P−1)) and β = b / (2(P−1)/P). The weak-scaling efficiency of a step
            that computes for --compute-ms and reduces --gradient-floats is compute / (compute + T(P)).
            """)

    @Option(help: "Largest message in floats (the sweep doubles from 256).")
    var maxFloats: Int = 1 << 22

    @Option(help: "Seconds per message size.")
    var seconds: Double = 0.3

    @Option(help: "Gradient size in floats for the projection (default: the JPVAE-MLP workload's buffer, 1 918 016 floats + 5 control).")
    var gradientFloats: Int = 1_918_021

    @Option(help: "Single-rank compute time of one step (ms) for the projection.")
    var computeMs: Double = 15

    func run() throws {
        let comm = try makeCommunicator()
        guard comm.size >= 2 else {
            throw ValidationError("run under mpirun with at least 2 ranks, e.g. launch/mpi -np 2 mvvae bench-allreduce")
        }
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: maxFloats)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: maxFloats)
        var points: [(bytes: Double, seconds: Double)] = []
        var n = 256
        if comm.rank == 0 { print("| floats | bytes | median µs | GB/s (algorithmic) |\n|---|---|---|---|") }
        while n <= maxFloats {
            try comm.allreduceSum(buffer, count: n)  // warm-up
            var times: [Double] = []
            let start = monotonicSeconds()
            var keepGoing = 1.0
            while keepGoing > 0 {
                try comm.barrier()
                let t0 = monotonicSeconds()
                try comm.allreduceSum(buffer, count: n)
                times.append(monotonicSeconds() - t0)
                // Rank 0 decides when to stop so every rank runs the same number of collectives.
                keepGoing = comm.rank == 0 && (monotonicSeconds() - start < seconds || times.count < 5) ? 1 : 0
                keepGoing = try comm.max(keepGoing)
            }
            times.sort()
            let median = try comm.max(times[times.count / 2])
            let bytes = Double(n * MemoryLayout<Float>.stride)
            points.append((bytes, median))
            if comm.rank == 0 { print(String(format: "| %d | %.0f | %.1f | %.2f |", n, bytes, median * 1e6, bytes / median / 1e9)) }
            n *= 2
        }
        guard comm.rank == 0 else { return }
        // Least squares T = a + b·bytes.
        let k = Double(points.count)
        let sx = points.reduce(0) { $0 + $1.bytes }, sy = points.reduce(0) { $0 + $1.seconds }
        let sxx = points.reduce(0) { $0 + $1.bytes * $1.bytes }, sxy = points.reduce(0) { $0 + $1.bytes * $1.seconds }
        let b = (k * sxy - sx * sy) / (k * sxx - sx * sx), a = (sy - b * sx) / k
        let p = Double(comm.size)
        let alpha = a / (2 * (p - 1)), beta = b / (2 * (p - 1) / p)
        print(
            String(
                format: "\nfit on %d ranks: T = %.2f µs + bytes / %.2f GB/s  →  α = %.2f µs, β = %.4f ns/byte (%.2f GB/s)",
                comm.size, a * 1e6, 1 / b / 1e9, alpha * 1e6, beta * 1e9, 1 / beta / 1e9))
        let bytes = Double(gradientFloats * MemoryLayout<Float>.stride)
        print(String(format: "\nweak scaling, ring allreduce of %.1f MB per step, %.1f ms compute per step:\n", bytes / 1e6, computeMs))
        print("| ranks | allreduce ms | step ms | efficiency |\n|---|---|---|---|")
        for ranks in [2, 8, 64, 512] {
            let r = Double(ranks)
            let t = 2 * (r - 1) * alpha + 2 * (r - 1) / r * bytes * beta
            print(
                String(
                    format: "| %d | %.2f | %.2f | %.1f%% |", ranks, t * 1e3, computeMs + t * 1e3, 100 * computeMs / (computeMs + t * 1e3)))
        }
    }
}
