import XCTest
@testable import MultiViewVAE

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
}
