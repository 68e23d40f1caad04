import CKernels
import XCTest
@testable import MVCore

/// `linear` over a sparse data input's non-zeros (`SparseInput.swift`): the same values and weight and bias
/// gradients as the GEMM path for every activation, the same bits at every vector width, finite differences pass,
/// the GEMMs are kept for inputs that are dense, narrow or need a gradient, and a replay allocates nothing.
final class SparseInputTests: XCTestCase {
    /// m × k counts with about `density` non-zeros (a few rows empty).
    func counts(rows m: Int, cols k: Int, density: Float, seed: UInt64) -> Matrix {
        let u = Matrix.randomUniform(rows: m, cols: k, seed: seed)
        var x = Matrix(rows: m, cols: k)
        for r in 0..<m where r % 4 != 3 { for c in 0..<k where u[r, c] < density { x[r, c] = Float(1 + (r * 7 + c) % 9) } }
        return x
    }

    /// The node's output, weight and bias gradients under `limit` (0: the GEMM path), and the op it recorded.
    func run(_ x: Matrix, _ w: Matrix, _ b: Matrix, _ activation: Activation, limit: Float) -> (Matrix, Matrix, Matrix, Op) {
        let tape = Tape()
        tape.sparseInputLimit = limit
        let wv = tape.variable(w), bv = tape.variable(b)
        let y = tape.linear(tape.constant(x), weight: wv, bias: bv, activation: activation)
        let r = Matrix.randomNormal(rows: x.rows, cols: w.cols, seed: 5)
        tape.backward(tape.sum(tape.mul(y, tape.constant(r))))
        return (tape.value(y), tape.gradient(wv), tape.gradient(bv), tape.nodes[y.id].op)
    }

    func testEqualsTheGEMMPathForEveryActivation() {
        let x = counts(rows: 9, cols: 300, density: 0.05, seed: 1)
        // 150 outputs: whole tiles of every vector width (32, 64, 128 floats) and a remainder.
        let w = Matrix.randomNormal(rows: 300, cols: 150, seed: 2, scale: 0.1), b = Matrix.randomNormal(rows: 1, cols: 150, seed: 3)
        for activation in [Activation.identity, .relu, .tanh, .softplus] {
            let (ys, gws, gbs, op) = run(x, w, b, activation, limit: 0.1)
            let (yd, gwd, gbd, dense) = run(x, w, b, activation, limit: 0)
            guard case .sparseLinear = op, case .linear = dense else { return XCTFail("\(activation): ops \(op), \(dense)") }
            for (name, s, d) in [("y", ys, yd), ("dW", gws, gwd), ("db", gbs, gbd)] {
                for q in s.storage.indices {
                    XCTAssertEqual(s.storage[q], d.storage[q], accuracy: 1e-4 * max(1, abs(d.storage[q])), "\(activation) \(name)[\(q)]")
                }
            }
        }
    }

    /// The vector widths (AVX-512, AVX2, portable) add the same products in the same order: equal bits.
    func testEveryVectorWidthGivesTheSameBits() {
        let x = counts(rows: 6, cols: 270, density: 0.06, seed: 4)
        let w = Matrix.randomNormal(rows: 270, cols: 150, seed: 5), b = Matrix(rows: 1, cols: 150)
        let wide = run(x, w, b, .relu, limit: 0.5)
        mvvae_kernels_force_portable(1)
        defer { mvvae_kernels_force_portable(0) }
        let portable = run(x, w, b, .relu, limit: 0.5)
        XCTAssertEqual(wide.0.storage, portable.0.storage)
        XCTAssertEqual(wide.1.storage, portable.1.storage)
    }

    func testGradientCheck() {
        let x = counts(rows: 5, cols: 260, density: 0.04, seed: 7)
        let w = Matrix.randomNormal(rows: 260, cols: 3, seed: 8, scale: 0.2), b = Matrix.randomNormal(rows: 1, cols: 3, seed: 9)
        GradientCheck([x, w, b], constants: [0]).run("sparse linear") { t, v in
            let y = t.linear(v[0], weight: v[1], bias: v[2], activation: .tanh)
            guard case .sparseLinear = t.nodes[y.id].op else { preconditionFailure("the sparse path was not taken") }
            return y
        }
    }

    func testGEMMsKeptWhereTheyPay() {
        let w = Matrix.randomNormal(rows: 300, cols: 4, seed: 2), b = Matrix(rows: 1, cols: 4)
        // Denser than the limit; narrower than 256 columns; an input taking a gradient.
        guard case .linear = run(counts(rows: 8, cols: 300, density: 0.4, seed: 1), w, b, .relu, limit: 0.1).3 else {
            return XCTFail("a 40 % dense batch took the sparse path")
        }
        let narrow = Matrix.randomNormal(rows: 200, cols: 4, seed: 2)
        guard case .linear = run(counts(rows: 8, cols: 200, density: 0.02, seed: 1), narrow, b, .relu, limit: 0.1).3 else {
            return XCTFail("200 columns took the sparse path")
        }
        let tape = Tape()
        let y = tape.linear(
            tape.variable(counts(rows: 8, cols: 300, density: 0.02, seed: 1)), weight: tape.variable(w), bias: tape.variable(b))
        guard case .linear = tape.nodes[y.id].op else { return XCTFail("an input taking a gradient took the sparse path") }
    }

    /// An epoch's last, smaller batch on a tape sized by full ones reads its own compressed batch.
    func testSmallerBatchAfterALargerOne() {
        let tape = Tape()
        let w = Matrix.randomNormal(rows: 300, cols: 8, seed: 2), b = Matrix(rows: 1, cols: 8)
        var last: Matrix?
        for m in [32, 5] {
            tape.reset()
            let wv = tape.variable(w)
            let y = tape.linear(
                tape.constant(counts(rows: m, cols: 300, density: 0.05, seed: UInt64(m))), weight: wv, bias: tape.variable(b))
            tape.backward(tape.sum(y))
            last = tape.gradient(wv)
        }
        // The reference: the same last batch on a fresh tape through the GEMMs.
        let t = Tape()
        t.sparseInputLimit = 0
        let wv = t.variable(w)
        t.backward(t.sum(t.linear(t.constant(counts(rows: 5, cols: 300, density: 0.05, seed: 5)), weight: wv, bias: t.variable(b))))
        for (q, v) in t.gradient(wv).storage.enumerated() { XCTAssertEqual(last!.storage[q], v, accuracy: 1e-4, "dW[\(q)]") }
    }

    func testReplayAllocatesNothing() {
        let tape = Tape()
        let w = Matrix.randomNormal(rows: 400, cols: 16, seed: 2), b = Matrix(rows: 1, cols: 16)
        var bytes: [Int] = []
        for step in 0..<3 {
            tape.reset()
            let x = counts(rows: 32, cols: 400, density: 0.03 + 0.02 * Float(step), seed: UInt64(step))
            let y = tape.linear(tape.constant(x), weight: tape.variable(w), bias: tape.variable(b), activation: .relu)
            tape.backward(tape.sum(y))
            bytes.append(tape.allocatedBytes)
        }
        XCTAssertEqual(bytes[1], bytes[0])
        XCTAssertEqual(bytes[2], bytes[0], "batches of other densities must reuse the compressed batch's buffers")
    }
}
