import CKernels
import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The C kernel behind `Adam.update` (AVX-512 body, portable body, scalar tail) must give the same bits
/// as the plain Swift formula, so checkpoints and resumed runs are unaffected by which path ran.
final class AdamKernelTests: XCTestCase {
    override func tearDown() { mvvae_kernels_force_portable(0) }

    func testKernelMatchesScalarFormulaBitForBit() {
        for portable in [Int32(0), 1] {
            mvvae_kernels_force_portable(portable)
            checkKernelMatchesScalarFormula(path: "\(mvvae_kernel_lanes()) lanes")
        }
    }

    func checkKernelMatchesScalarFormula(path: String) {
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
                    _ = g.withUnsafeMutableBufferPointer {
                        adam.update(params: p.baseAddress!, grads: $0.baseAddress!, gradScale: scale, zeroGradients: zeroGradients)
                    }
                }
                XCTAssertEqual(params.map(\.bitPattern), expected.map(\.bitPattern), "\(path) step \(step), decay \(weightDecay)")
                XCTAssertEqual((0..<count).map { adam.m[$0].bitPattern }, m.map(\.bitPattern))
                XCTAssertEqual((0..<count).map { adam.v[$0].bitPattern }, v.map(\.bitPattern))
                XCTAssertEqual(g.allSatisfy { $0 == 0 }, zeroGradients || grads.allSatisfy { $0 == 0 })
            }
        }
    }

    /// Several gradient buffers (one per rank on a shared-memory node) are summed in buffer order
    /// before the update, and every one is cleared: the result equals one update from the summed buffer.
    func testSummedSourcesEqualOneSummedBuffer() {
        let count = 1003
        for portable in [Int32(0), 1] {
            mvvae_kernels_force_portable(portable)
            let a = Adam(count: count, learningRate: 0.01), b = Adam(count: count, learningRate: 0.01)
            var pa = uniform(1, count, seed: 1).storage, pb = pa
            let g0 = uniform(1, count, seed: 2).storage, g1 = uniform(1, count, seed: 3).storage, g2 = uniform(1, count, seed: 4).storage
            var summed = (0..<count).map { (g0[$0] + g1[$0]) + g2[$0] }
            XCTAssertEqual(pa.withUnsafeMutableBufferPointer { a.update(params: $0.baseAddress!, grads: &summed, gradScale: 0.5) }, 0)
            let s0 = UnsafeMutablePointer<Float>.allocate(capacity: count), s1 = UnsafeMutablePointer<Float>.allocate(capacity: count),
                s2 = UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { s0.deallocate(); s1.deallocate(); s2.deallocate() }
            s0.update(from: g0, count: count); s1.update(from: g1, count: count); s2.update(from: g2, count: count)
            var sources: [UnsafeMutablePointer<Float>?] = [s0, s1, s2]
            let skipped = pb.withUnsafeMutableBufferPointer { p in
                b.update(
                    shard: 0..<count, params: p.baseAddress!, gradientSources: &sources, sourceCount: 3, gradScale: 0.5, zeroGradients: true
                )
            }
            XCTAssertEqual(skipped, 0)
            XCTAssertEqual(pb.map(\.bitPattern), pa.map(\.bitPattern), "portable \(portable)")
            XCTAssertEqual((0..<count).map { b.v[$0].bitPattern }, (0..<count).map { a.v[$0].bitPattern })
            XCTAssertTrue((0..<count).allSatisfy { s0[$0] == 0 && s1[$0] == 0 && s2[$0] == 0 })
        }
    }

    /// A NaN or ±inf gradient (or one that overflows when scaled) leaves its coordinate's parameter and
    /// moments unchanged, is counted, and does not disturb the other coordinates.
    func testNonFiniteGradientsAreCountedAndLeftOut() {
        let count = 37
        for portable in [Int32(0), 1] {
            mvvae_kernels_force_portable(portable)
            let clean = Adam(count: count), dirty = Adam(count: count)
            let start = uniform(1, count, seed: 9).storage
            var pc = start, pd = start
            var gc = uniform(1, count, seed: 10).storage
            var gd = gc
            let bad: [Int: Float] = [0: .nan, 5: .infinity, 16: -.infinity, 33: 3e38]  // 3e38 · 2 overflows
            for (i, x) in bad { gd[i] = x; gc[i] = 0 }
            _ = pc.withUnsafeMutableBufferPointer { clean.update(params: $0.baseAddress!, grads: &gc, gradScale: 2) }
            let skipped = pd.withUnsafeMutableBufferPointer { dirty.update(params: $0.baseAddress!, grads: &gd, gradScale: 2) }
            XCTAssertEqual(skipped, bad.count, "portable \(portable)")
            for i in 0..<count {
                if bad[i] != nil {
                    XCTAssertEqual(pd[i], start[i]); XCTAssertEqual(dirty.m[i], 0); XCTAssertEqual(dirty.v[i], 0)
                } else {
                    XCTAssertEqual(pd[i].bitPattern, pc[i].bitPattern, "coordinate \(i)")
                }
            }
        }
    }
}
