import XCTest
@testable import MVCore

/// 2-D convolution and its transpose (channels-last images, `ConvolutionGeometry`): against a direct loop
/// on random shapes, strides and paddings; the transpose as the convolution's adjoint; finite-difference
/// gradient checks of every operand; replays that allocate nothing; geometries a config could give wrongly.
final class ConvolutionTests: XCTestCase {
    /// y[b, oy, ox, o] = bias[o] + Σ_{ky, kx, c} W[(ky·kw + kx)·C + c, o] · x[b, oy·s − p + ky, ox·s − p + kx, c].
    func directConvolution(_ x: Matrix, _ w: Matrix, _ bias: Matrix, _ g: ConvolutionGeometry) -> Matrix {
        var y = Matrix(rows: x.rows, cols: g.outputSize)
        for b in 0..<x.rows {
            for oy in 0..<g.outHeight {
                for ox in 0..<g.outWidth {
                    for o in 0..<g.outChannels {
                        var s = Double(bias.storage[o])
                        for ky in 0..<g.kernelHeight {
                            for kx in 0..<g.kernelWidth {
                                let iy = oy * g.stride - g.padding + ky, ix = ox * g.stride - g.padding + kx
                                guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
                                for c in 0..<g.inChannels {
                                    let xv = x.storage[b * g.inputSize + (iy * g.width + ix) * g.inChannels + c]
                                    let wv = w.storage[((ky * g.kernelWidth + kx) * g.inChannels + c) * g.outChannels + o]
                                    s += Double(xv) * Double(wv)
                                }
                            }
                        }
                        y.storage[b * g.outputSize + (oy * g.outWidth + ox) * g.outChannels + o] = Float(s)
                    }
                }
            }
        }
        return y
    }

    /// Random geometries: sizes 1…9, channels 1…4, kernels 1…5 (square or not), strides 1…3, paddings below the kernel.
    func randomGeometries(count: Int, seed: UInt64) -> [ConvolutionGeometry] {
        var rng = RandomStream(seed: seed, stream: 0, block: 0)
        func pick(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(rng.nextUniform() * Float(range.count)) % range.count }
        var out: [ConvolutionGeometry] = []
        while out.count < count {
            let kh = pick(1...5), kw = pick(1...5)
            let g = ConvolutionGeometry(
                height: pick(1...9), width: pick(1...9), inChannels: pick(1...4), outChannels: pick(1...4), kernelHeight: kh,
                kernelWidth: kw, stride: pick(1...3), padding: pick(0...(max(kh, kw) - 1)))
            if g.problem == nil { out.append(g) }
        }
        return out
    }

    func testConvolutionEqualsTheDirectLoop() {
        for (n, g) in randomGeometries(count: 60, seed: 1).enumerated() {
            let rows = 1 + n % 3
            let x = uniform(rows, g.inputSize, seed: UInt64(10 + n)), w = uniform(g.patch, g.outChannels, seed: UInt64(200 + n))
            let bias = uniform(1, g.outChannels, seed: UInt64(400 + n))
            let tape = Tape()
            let y = tape.value(tape.conv2d(tape.constant(x), weight: tape.constant(w), bias: tape.constant(bias), g))
            let expected = directConvolution(x, w, bias, g)
            XCTAssertLessThan(y.maxAbsDifference(expected), 1e-5, "\(g)")
            // The activation is applied after the bias.
            let r = tape.value(
                tape.conv2d(tape.constant(x), weight: tape.constant(w), bias: tape.constant(bias), g, activation: .tanh))
            for k in 0..<r.count { XCTAssertEqual(r.storage[k], Foundation.tanh(expected.storage[k]), accuracy: 1e-5) }
        }
    }

    /// ⟨conv(x), y⟩ = ⟨x, convᵀ(y)⟩ with the same weights and no bias.
    func testTransposedConvolutionIsTheAdjoint() {
        for (n, g) in randomGeometries(count: 60, seed: 2).enumerated() {
            let rows = 1 + n % 3
            let x = uniform(rows, g.inputSize, seed: UInt64(10 + n)), y = uniform(rows, g.outputSize, seed: UInt64(600 + n))
            let w = uniform(g.patch, g.outChannels, seed: UInt64(200 + n))
            let tape = Tape()
            let conv = tape.value(
                tape.conv2d(tape.constant(x), weight: tape.constant(w), bias: tape.constant(Matrix(rows: 1, cols: g.outChannels)), g))
            let transposed = tape.value(
                tape.convTranspose2d(
                    tape.constant(y), weight: tape.constant(w), bias: tape.constant(Matrix(rows: 1, cols: g.inChannels)), g))
            XCTAssertEqual(transposed.rows, rows)
            XCTAssertEqual(transposed.cols, g.inputSize)
            var left = 0.0, right = 0.0
            for k in 0..<conv.count { left += Double(conv.storage[k]) * Double(y.storage[k]) }
            for k in 0..<x.count { right += Double(x.storage[k]) * Double(transposed.storage[k]) }
            XCTAssertEqual(left, right, accuracy: 1e-4 * max(1, abs(left)), "\(g)")
        }
    }

    func testConvolutionGradients() {
        let geometries = [
            ConvolutionGeometry(height: 5, width: 4, inChannels: 2, outChannels: 3, kernel: 3, stride: 1, padding: 1),
            ConvolutionGeometry(height: 6, width: 6, inChannels: 1, outChannels: 2, kernel: 4, stride: 2, padding: 1),
            ConvolutionGeometry(height: 7, width: 5, inChannels: 3, outChannels: 2, kernelHeight: 3, kernelWidth: 2, stride: 3, padding: 0),
        ]
        for (n, g) in geometries.enumerated() {
            for activation in [Activation.identity, .relu, .tanh] {
                let inputs = [
                    awayFromZero(2, g.inputSize, seed: UInt64(30 + n)), uniform(g.patch, g.outChannels, seed: UInt64(40 + n)),
                    uniform(1, g.outChannels, seed: UInt64(50 + n)),
                ]
                var check = GradientCheck(inputs)
                // ReLU: a kink within ±h of some pre-activation would fail any VJP; a smaller step keeps clear of it.
                if activation == .relu { check.step = 1e-3 }
                check.run("conv2d \(activation) \(g)") { t, v in t.conv2d(v[0], weight: v[1], bias: v[2], g, activation: activation) }
                var transposed = GradientCheck([
                    awayFromZero(2, g.outputSize, seed: UInt64(60 + n)), inputs[1], uniform(1, g.inChannels, seed: UInt64(70 + n)),
                ])
                transposed.step = check.step
                transposed.run("convTranspose2d \(activation) \(g)") { t, v in
                    t.convTranspose2d(v[0], weight: v[1], bias: v[2], g, activation: activation)
                }
            }
        }
    }

    func testReplayingAConvolutionReusesItsBuffers() {
        let g = ConvolutionGeometry(height: 8, width: 8, inChannels: 2, outChannels: 4, kernel: 3, stride: 2, padding: 1)
        let tape = Tape()
        let x = uniform(3, g.inputSize, seed: 1), w = uniform(g.patch, g.outChannels, seed: 2), b = uniform(1, 4, seed: 3)
        var bytes: [Int] = []
        for _ in 0..<3 {
            tape.reset()
            let xv = tape.variable(x), wv = tape.variable(w)
            let h = tape.conv2d(xv, weight: wv, bias: tape.variable(b), g, activation: .relu)
            let y = tape.convTranspose2d(h, weight: wv, bias: tape.variable(uniform(1, 2, seed: 4)), g)
            tape.backward(tape.sum(tape.square(y)))
            bytes.append(tape.allocatedBytes)
        }
        XCTAssertEqual(Set(bytes).count, 1, "\(bytes)")
    }

    func testGeometriesThatMakeNoConvolutionSayWhy() {
        let cases: [(ConvolutionGeometry, String)] = [
            (ConvolutionGeometry(height: 4, width: 4, inChannels: 1, outChannels: 2, kernel: 7), "larger than the 4×4 image"),
            (ConvolutionGeometry(height: 4, width: 4, inChannels: 0, outChannels: 2, kernel: 3), "channels"),
            (ConvolutionGeometry(height: 4, width: 4, inChannels: 1, outChannels: 2, kernel: 3, stride: 0), "stride"),
            (ConvolutionGeometry(height: 4, width: 4, inChannels: 1, outChannels: 2, kernel: 3, padding: 3), "padding"),
            (ConvolutionGeometry(height: 0, width: 4, inChannels: 1, outChannels: 2, kernel: 1), "0×4"),
        ]
        for (g, words) in cases {
            let problem = g.problem
            XCTAssertNotNil(problem, "\(g)")
            XCTAssertTrue(problem?.contains(words) ?? false, "\(problem ?? "nil") should mention \(words)")
        }
        XCTAssertNil(ConvolutionGeometry(height: 28, width: 28, inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: 1).problem)
        XCTAssertEqual(
            ConvolutionGeometry(height: 28, width: 28, inChannels: 3, outChannels: 32, kernel: 3, stride: 2, padding: 1).outHeight, 14)
    }
}
