import ArgumentParser
import Foundation
import MultiViewVAE

/// Measures sgemm throughput at given shapes: the roofline that training speed is judged against.
struct BenchGEMMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-gemm",
        abstract: "Measure single-precision GEMM GFLOP/s through the linked BLAS.")

    @Option(name: .customLong("shape"), help: "MxNxK (C[M×N] = A[M×K]·B[K×N]); repeatable. Default: 128x512x392 and 1024x1024x1024.")
    var shapes: [String] = []

    @Option(help: "BLAS threads (default 1, as for one MPI rank).")
    var threads: Int = 1

    @Option(help: "Seconds to spend per shape.")
    var seconds: Double = 2

    func run() throws {
        BLASThreads.set(threads)
        let list = shapes.isEmpty ? ["128x512x392", "1024x1024x1024"] : shapes
        print("OpenBLAS kernels: \(BLASKernel.coreName)")
        print("| shape (M×N×K) | threads | median GFLOP/s | best GFLOP/s | reps |")
        print("|---|---|---|---|---|")
        for s in list {
            let parts = s.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else {
                throw ValidationError("--shape must look like 128x512x392 (three positive integers), got '\(s)'")
            }
            let r = GEMMBenchmark.measure(m: parts[0], n: parts[1], k: parts[2], seconds: seconds)
            print(
                String(
                    format: "| %dx%dx%d | %d | %.1f | %.1f | %d |", parts[0], parts[1], parts[2], threads,
                    r.medianGFLOPS, r.bestGFLOPS, r.repetitions))
        }
    }
}
