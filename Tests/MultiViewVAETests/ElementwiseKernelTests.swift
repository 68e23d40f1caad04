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

/// The C elementwise kernels (Sources/CKernels) on both of their paths — sixteen lanes (AVX-512, where
/// this CPU has it) and the portable width — against double-precision references, at sizes with
/// vector tails.
final class ElementwiseKernelTests: XCTestCase {
    override func tearDown() { mvvae_kernels_force_portable(0) }

    /// Runs `body` once per kernel path this CPU offers.
    func forEachPath(_ body: (String) throws -> Void) rethrows {
        for portable in [0, 1] {
            mvvae_kernels_force_portable(Int32(portable))
            try body("\(mvvae_kernel_lanes()) lanes")
        }
        mvvae_kernels_force_portable(0)
    }

    func values(_ n: Int, seed: UInt64, _ low: Float, _ high: Float) -> [Float] {
        uniform(1, n, seed: seed, low, high).storage
    }

    func testBCERowSumAndSigmoidMatchDoublePrecision() {
        forEachPath { path in
            for (rows, cols) in [(3, 37), (2, 16), (1, 5), (4, 392)] {
                var logits = values(rows * cols, seed: 1, -30, 30)
                logits[0] = 0; logits[1] = -100; logits[2] = 100  // σ's saturated ends and the kink of |l|
                let targets = values(rows * cols, seed: 2, 0, 1)
                var sigma = [Float](repeating: .nan, count: rows * cols), sums = [Float](repeating: .nan, count: rows)
                mvvae_bce_rowsum(logits, targets, &sigma, &sums, rows, cols)
                for r in 0..<rows {
                    var expected = 0.0
                    for j in 0..<cols {
                        let l = Double(logits[r * cols + j]), t = Double(targets[r * cols + j])
                        expected += Swift.max(l, 0) - l * t + Foundation.log1p(Foundation.exp(-abs(l)))
                        XCTAssertEqual(Double(sigma[r * cols + j]), 1 / (1 + Foundation.exp(-l)), accuracy: 1e-6, "\(path) σ")
                    }
                    XCTAssertEqual(
                        Double(sums[r]), expected, accuracy: 2e-6 * Swift.max(1, abs(expected)), "\(path) \(rows)x\(cols) row \(r)")
                }
                // The VJP: logitGrad += rowGrad ⊙ (σ − t), accumulated onto what is there.
                let rowGrad = values(rows, seed: 3, -2, 2)
                var grad = [Float](repeating: 0.25, count: rows * cols)
                mvvae_bce_rowsum_backward(sigma, targets, rowGrad, &grad, rows, cols)
                for q in 0..<(rows * cols) {
                    let want = 0.25 + Double(rowGrad[q / cols]) * (Double(sigma[q]) - Double(targets[q]))
                    XCTAssertEqual(Double(grad[q]), want, accuracy: 1e-6, "\(path) backward")
                }
            }
        }
    }

    func testBiasActivationAndReluBackward() {
        forEachPath { path in
            for (rows, cols) in [(3, 37), (2, 512), (5, 3), (9, 37), (8, 16)] {
                let y0 = values(rows * cols, seed: 4, -1, 1), bias = values(cols, seed: 5, -0.5, 0.5)
                for relu in [0, 1] {
                    var y = y0
                    mvvae_bias_activation(&y, bias, rows, cols, Int32(relu))
                    for q in 0..<(rows * cols) {
                        let z = y0[q] + bias[q % cols]
                        XCTAssertEqual(y[q], relu == 1 ? Swift.max(z, 0) : z, "\(path) relu=\(relu)")
                    }
                }
                let out = y0.map { Swift.max($0, 0) }, g = values(rows * cols, seed: 6, -1, 1)
                var dz = [Float](repeating: .nan, count: rows * cols), gb = [Float](repeating: 1, count: cols)
                mvvae_relu_backward(out, g, &dz, rows, cols, &gb)
                var sums = [Double](repeating: 1, count: cols)
                for q in 0..<(rows * cols) {
                    XCTAssertEqual(dz[q], out[q] > 0 ? g[q] : 0, "\(path) dz")
                    sums[q % cols] += Double(dz[q])
                }
                for j in 0..<cols { XCTAssertEqual(Double(gb[j]), sums[j], accuracy: 1e-5, "\(path) bias gradient") }
                // Without a bias gradient the mask alone; column sums on their own.
                var dz2 = [Float](repeating: .nan, count: rows * cols)
                mvvae_relu_backward(out, g, &dz2, rows, cols, nil)
                XCTAssertEqual(dz2, dz)
                // In place (dz = g), as the linear op's VJP calls it.
                var inPlace = g, gb2 = [Float](repeating: 1, count: cols)
                inPlace.withUnsafeMutableBufferPointer { mvvae_relu_backward(out, $0.baseAddress!, $0.baseAddress!, rows, cols, &gb2) }
                XCTAssertEqual(inPlace, dz, "\(path) in place")
                XCTAssertEqual(gb2, gb, "\(path) in place, bias gradient")
                var cs = [Float](repeating: -1, count: cols)
                mvvae_column_sums_add(g, rows, cols, &cs)
                for j in 0..<cols {
                    let want = (0..<rows).reduce(-1.0) { $0 + Double(g[$1 * cols + j]) }
                    XCTAssertEqual(Double(cs[j]), want, accuracy: 1e-5, "\(path) column sums")
                }
            }
        }
    }

    /// A NaN pre-activation stays NaN through ReLU (as max(NaN, 0) does) and passes its gradient on, so
    /// a diverging run is not silently turned finite.
    func testReluKeepsNaN() {
        forEachPath { path in
            var y: [Float] = [.nan, -1, 2, .nan, 0, 3, -.infinity, .infinity] + [Float](repeating: 1, count: 9)
            let bias = [Float](repeating: 0, count: y.count)
            mvvae_bias_activation(&y, bias, 1, y.count, 1)
            XCTAssertTrue(y[0].isNaN && y[3].isNaN, path)
            XCTAssertEqual(Array(y[4...7]), [0, 3, 0, .infinity], path)
            let g = [Float](repeating: 2, count: y.count)
            var dz = [Float](repeating: -1, count: y.count)
            mvvae_relu_backward(y, g, &dz, 1, y.count, nil)
            XCTAssertEqual(Array(dz[0...7]), [2, 0, 2, 2, 0, 2, 0, 2], path)
        }
    }

    /// The node's block sum before the cross-node ring: sources added in order, then cleared.
    func testSumSourcesAddsInOrderAndClears() {
        forEachPath { path in
            let n = 37
            let a = values(n, seed: 11, -1, 1), b = values(n, seed: 12, -1e3, 1e3), c = values(n, seed: 13, -1e-3, 1e-3)
            let sources = [a, b, c].map { x -> UnsafeMutablePointer<Float> in
                let p = UnsafeMutablePointer<Float>.allocate(capacity: n)
                p.initialize(from: x, count: n)
                return p
            }
            defer { sources.forEach { $0.deallocate() } }
            var table: [UnsafeMutablePointer<Float>?] = sources
            var dst = [Float](repeating: .nan, count: n)
            mvvae_sum_sources(&dst, &table, 3, n, 0)
            XCTAssertEqual(dst.map(\.bitPattern), (0..<n).map { ((a[$0] + b[$0]) + c[$0]).bitPattern }, path)
            XCTAssertEqual(sources[1][5], b[5], "\(path): sources kept")
            mvvae_sum_sources(&dst, &table, 2, n, 1)
            XCTAssertEqual(dst.map(\.bitPattern), (0..<n).map { (a[$0] + b[$0]).bitPattern }, path)
            XCTAssertTrue((0..<n).allSatisfy { sources[0][$0] == 0 && sources[1][$0] == 0 }, "\(path): sources cleared")
            XCTAssertEqual(sources[2][5], c[5], "\(path): a source beyond n untouched")
        }
    }

    func testFusedOpGradientsOnThePortablePath() {
        mvvae_kernels_force_portable(1)
        for act in [Activation.relu, .identity] {
            GradientCheck([uniform(4, 3, seed: 21), uniform(3, 37, seed: 22), uniform(1, 37, seed: 23)])
                .run("linear(\(act)), portable kernels") { t, v in t.linear(v[0], weight: v[1], bias: v[2], activation: act) }
        }
        GradientCheck([uniform(3, 37, seed: 5, -6, 6), uniform(3, 37, seed: 6, 0, 1)])
            .run("bceWithLogitsRowSum, portable kernels") { t, v in t.bceWithLogitsRowSum(v[0], targets: v[1]) }
    }
}
