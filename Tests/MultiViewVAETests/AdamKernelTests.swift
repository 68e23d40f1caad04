import XCTest
@testable import MultiViewVAE

/// The C kernel behind `Adam.update` (AVX-512 body, SSE body, scalar tail) must give the same bits as
/// the plain Swift formula, so checkpoints and resumed runs are unaffected by which path ran.
final class AdamKernelTests: XCTestCase {
    func testKernelMatchesScalarFormulaBitForBit() {
        let count = 1003  // 62 vectors of 16, then 11: every path of the kernel runs
        for (weightDecay, zeroGradients) in [(Float(0), true), (0.01, false)] {
            let adam = Adam(count: count, learningRate: 0.003, weightDecay: weightDecay)
            var rng = RandomStream(seed: 5)
            var params = (0..<count).map { _ in rng.nextUniform() - 0.5 }
            var m = [Float](repeating: 0, count: count), v = m
            var expected = params
            for step in 1...4 {
                // Gradients with zeros, tiny values and large ones.
                let grads = (0..<count).map { i -> Float in i % 7 == 0 ? 0 : (rng.nextUniform() - 0.5) * (i % 3 == 0 ? 1e-6 : 30) }
                let scale: Float = 0.125
                // The reference: the scalar formula the Swift loop used.
                let b1 = adam.beta1, b2 = adam.beta2, eps = adam.epsilon, lr = adam.learningRate
                let c1 = 1 - Float(Foundation.pow(Double(b1), Double(step)))
                let c2 = 1 - Float(Foundation.pow(Double(b2), Double(step)))
                let stepSize = lr / c1, invSqrtC2 = 1 / c2.squareRoot(), decay = 1 - lr * weightDecay
                for i in 0..<count {
                    let g = scale * grads[i]
                    m[i] = b1 * m[i] + (1 - b1) * g
                    v[i] = b2 * v[i] + (1 - b2) * g * g
                    expected[i] = expected[i] * decay - stepSize * m[i] / ((v[i].squareRoot() * invSqrtC2) + eps)
                }
                var g = grads
                params.withUnsafeMutableBufferPointer { p in
                    g.withUnsafeMutableBufferPointer { adam.update(params: p.baseAddress!, grads: $0.baseAddress!, gradScale: scale, zeroGradients: zeroGradients) }
                }
                XCTAssertEqual(params.map(\.bitPattern), expected.map(\.bitPattern), "step \(step), decay \(weightDecay)")
                XCTAssertEqual((0..<count).map { adam.m[$0].bitPattern }, m.map(\.bitPattern))
                XCTAssertEqual((0..<count).map { adam.v[$0].bitPattern }, v.map(\.bitPattern))
                XCTAssertEqual(g.allSatisfy { $0 == 0 }, zeroGradients || grads.allSatisfy { $0 == 0 })
            }
        }
    }
}
