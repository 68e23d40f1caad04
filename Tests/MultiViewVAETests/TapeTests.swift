import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class TapeTests: XCTestCase {
    /// A small step touching tape-owned values, gradients and aux buffers (layerNorm, solve).
    private func record(_ tape: Tape, x: Matrix, w: Matrix, a: Matrix) throws -> (loss: Var, x: Var, w: Var) {
        let xv = tape.variable(x), wv = tape.variable(w)
        let h = tape.layerNorm(tape.tanh(tape.matmul(xv, wv)))
        let s = try tape.solve(tape.constant(a), tape.transpose(h))
        let loss = tape.sum(tape.square(s))
        return (loss, xv, wv)
    }

    func testReplayReusesBuffers() throws {
        let x = uniform(4, 3, seed: 1), w = uniform(3, 3, seed: 2), a = wellConditioned(3, seed: 3)
        let tape = Tape()

        let first = try record(tape, x: x, w: w, a: a)
        tape.backward(first.loss)
        let loss1 = tape.item(first.loss), gx1 = tape.gradient(first.x), gw1 = tape.gradient(first.w)
        let bytes = tape.allocatedBytes
        let nodes = tape.count
        XCTAssertGreaterThan(bytes, 0)

        tape.reset()
        XCTAssertEqual(tape.count, 0)
        let second = try record(tape, x: x, w: w, a: a)
        tape.backward(second.loss)

        XCTAssertEqual(tape.count, nodes)
        XCTAssertEqual(tape.allocatedBytes, bytes, "a replay of the same graph must not allocate")
        XCTAssertEqual(tape.item(second.loss), loss1)
        XCTAssertEqual(tape.gradient(second.x), gx1)
        XCTAssertEqual(tape.gradient(second.w), gw1)
    }

    /// A rank without rows (the last batch at -np 3) runs the same backward pass on 0 × n values: a fused
    /// dense layer with a smooth activation needs scratch of size 0, which once came back nil.
    func testZeroRowBatchesRunTheBackwardPass() throws {
        for activation in [Activation.tanh, .relu, .identity] {
            let tape = Tape()
            let x = tape.constant(Matrix(rows: 0, cols: 3)), w = tape.variable(uniform(3, 2, seed: 4)),
                b = tape.variable(uniform(1, 2, seed: 5))
            let loss = tape.sum(tape.linear(x, weight: w, bias: b, activation: activation))
            tape.backward(loss)
            XCTAssertEqual(tape.item(loss), 0)
            XCTAssertEqual(tape.gradient(w).storage, [Float](repeating: 0, count: 6), "\(activation)")
            XCTAssertEqual(tape.gradient(b).storage, [0, 0], "\(activation)")
        }
    }
}
