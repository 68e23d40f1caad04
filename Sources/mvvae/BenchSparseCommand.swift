import ArgumentParser
import Foundation
import MultiViewVAE

/// Times a view's first layer on sparse data both ways: over the non-zeros (`Tape.linear`'s sparse path) and
/// through the GEMMs, forward and weight gradient, on the same batch.
struct BenchSparseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-sparse",
        abstract: "Time a first layer on sparse data: over its non-zeros against the dense GEMMs.")

    @Option(help: "Rows of the batch.")
    var rows: Int = 128

    @Option(help: "Features of the view (the layer's inputs).")
    var features: Int = 20_000

    @Option(help: "The layer's outputs.")
    var hidden: Int = 256

    @Option(help: "Shares of non-zeros to time, comma-separated.")
    var densities: String = "0.02,0.05,0.1,0.15,0.25"

    @Option(help: "Seconds per measurement.")
    var seconds: Double = 2

    func run() throws {
        let shares = densities.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard !shares.isEmpty, shares.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw ValidationError("--densities takes shares in (0, 1], e.g. 0.02,0.1; got '\(densities)'")
        }
        guard rows > 0, features >= 256, hidden > 0, seconds > 0 else {
            throw ValidationError("--rows, --hidden and --seconds must be > 0 and --features ≥ 256 (the sparse path's minimum)")
        }
        BLASThreads.set(1)
        print("first layer \(rows)×\(features) → \(hidden), forward + weight gradient, one thread (OpenBLAS \(BLASKernel.coreName))")
        print("| density | sparse path ms | GEMMs ms | GEMMs / sparse |")
        print("|---|---|---|---|")
        // The weights live in an arena, as in training (no copy per step; their gradients accumulate there).
        let arena = ParameterArena()
        let w = arena.register("w", rows: features, cols: hidden, initializer: .kaimingNormal(fanIn: features))
        let b = arena.register("b", rows: 1, cols: hidden, initializer: .zeros)
        arena.materialize(seed: 2)
        for share in shares {
            let u = Matrix.randomUniform(rows: rows, cols: features, seed: 1)
            var x = Matrix(rows: rows, cols: features)
            for q in x.storage.indices where u.storage[q] < share { x.storage[q] = Float(1 + q % 7) }
            let sparse = time(x, w, b, arena, limit: 1), dense = time(x, w, b, arena, limit: 0)
            print(String(format: "| %.2f | %.2f | %.2f | %.2f× |", share, sparse * 1e3, dense * 1e3, dense / sparse))
        }
    }

    /// Median seconds of one forward + backward of the layer (the batch copied in as the trainer does).
    func time(_ x: Matrix, _ w: ParameterView, _ b: ParameterView, _ arena: ParameterArena, limit: Float) -> Double {
        let tape = Tape()
        tape.sparseInputLimit = limit
        var samples: [Double] = []
        let end = monotonicSeconds() + seconds
        while monotonicSeconds() < end || samples.count < 5 {
            tape.reset()
            let start = monotonicSeconds()
            let input = x.storage.withUnsafeBufferPointer { data in
                tape.input(rows: x.rows, cols: x.cols) { $0.update(from: data.baseAddress!, count: data.count) }
            }
            let y = tape.linear(input, weight: tape.parameter(w, in: arena), bias: tape.parameter(b, in: arena), activation: .relu)
            tape.backward(tape.sum(y))
            samples.append(monotonicSeconds() - start)
        }
        return samples.sorted()[samples.count / 2]
    }
}
