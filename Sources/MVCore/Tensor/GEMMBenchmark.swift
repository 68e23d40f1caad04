import Foundation

/// Times C = A·B through `sgemm` at one shape: the GEMM roofline that training throughput is compared with.
public enum GEMMBenchmark {
    public struct Result {
        public let medianGFLOPS: Double
        public let bestGFLOPS: Double
        public let repetitions: Int
    }

    public static func measure(m: Int, n: Int, k: Int, seconds: Double, transA: Bool = false, transB: Bool = false) -> Result {
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        var rng = RandomStream(seed: 7)
        for i in 0..<(m * k) { a[i] = rng.nextUniform() - 0.5 }
        for i in 0..<(k * n) { b[i] = rng.nextUniform() - 0.5 }
        c.initialize(repeating: 0, count: m * n)
        let flops = 2.0 * Double(m) * Double(n) * Double(k)
        // Batch repetitions so each timed sample lasts ≥ ~5 ms and clock resolution does not matter.
        let batch = Swift.max(1, Int(5e-3 * 20e9 / flops))
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, b: b, beta: 0, c: c)  // warm-up
        var rates: [Double] = []
        let start = monotonicSeconds()
        while monotonicSeconds() - start < seconds || rates.count < 3 {
            let t0 = monotonicSeconds()
            for _ in 0..<batch { sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, b: b, beta: 0, c: c) }
            let dt = monotonicSeconds() - t0
            rates.append(flops * Double(batch) / dt / 1e9)
        }
        rates.sort()
        return Result(medianGFLOPS: rates[rates.count / 2], bestGFLOPS: rates.last!, repetitions: rates.count * batch)
    }
}

extension GEMMBenchmark {
    /// Seconds per pass of running `shapes` back to back (median over repeated passes): the time the
    /// step's matrix products need on their own.
    public static func floor(_ shapes: [GEMMShape], seconds: Double) -> (seconds: Double, flops: Double) {
        let flops = shapes.reduce(0) { $0 + $1.flops }
        guard !shapes.isEmpty else { return (0, 0) }
        let maxA = shapes.map { $0.m * $0.k }.max()!, maxB = shapes.map { $0.k * $0.n }.max()!, maxC = shapes.map { $0.m * $0.n }.max()!
        let a = UnsafeMutablePointer<Float>.allocate(capacity: maxA), b = UnsafeMutablePointer<Float>.allocate(capacity: maxB)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: maxC)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        var rng = RandomStream(seed: 3)
        for i in 0..<maxA { a[i] = rng.nextUniform() - 0.5 }
        for i in 0..<maxB { b[i] = rng.nextUniform() - 0.5 }
        c.initialize(repeating: 0, count: maxC)
        func pass() {
            for s in shapes { sgemm(transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k, alpha: 1, a: a, b: b, beta: 1, c: c) }
        }
        pass()
        var times: [Double] = []
        let start = monotonicSeconds()
        while monotonicSeconds() - start < seconds || times.count < 5 {
            let t0 = monotonicSeconds()
            pass()
            times.append(monotonicSeconds() - t0)
        }
        times.sort()
        return (times[times.count / 2], flops)
    }
}

/// Seconds from a monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
