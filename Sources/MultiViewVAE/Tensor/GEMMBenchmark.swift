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

/// Seconds from a monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}
