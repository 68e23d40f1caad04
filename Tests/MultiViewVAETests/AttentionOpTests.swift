import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The fused masked multi-head attention op: its forward pass against a plain reference, its VJP by
/// finite differences (rows with absent modalities and an empty row included), and replay without allocation.
final class AttentionOpTests: XCTestCase {
    let rows = 4, set = 3, width = 4, heads = 2
    /// Full set, a missing middle modality, a single modality, and the empty set.
    let mask = Matrix([[1, 1, 1], [1, 0, 1], [0, 1, 0], [0, 0, 0]])

    func inputs(seed: UInt64) -> [Matrix] { (0..<3).map { uniform(rows, set * width, seed: seed + UInt64($0), -1.5, 1.5) } }

    /// softmax over present keys of ⟨q_s, k_t⟩/√headSize, then Σ_t p_t v_t, in Double.
    func reference(_ q: Matrix, _ k: Matrix, _ v: Matrix, _ m: Matrix) -> Matrix {
        let size = width / heads
        var out = Matrix(rows: rows, cols: set * width)
        for r in 0..<rows {
            for h in 0..<heads {
                for s in 0..<set {
                    let present = (0..<set).filter { m[r, $0] != 0 }
                    guard !present.isEmpty else { continue }
                    let scores = present.map { t in
                        (0..<size).reduce(0.0) {
                            $0 + Double(q[r, s * self.width + h * size + $1]) * Double(k[r, t * self.width + h * size + $1])
                        }
                            / Double(size).squareRoot()
                    }
                    let e = scores.map { exp($0 - scores.max()!) }, z = e.reduce(0, +)
                    for j in 0..<size {
                        let y = zip(present, e).reduce(0.0) { $0 + $1.1 / z * Double(v[r, $1.0 * self.width + h * size + j]) }
                        out[r, s * width + h * size + j] = Float(y)
                    }
                }
            }
        }
        return out
    }

    func attend(_ t: Tape, _ v: [Var]) -> Var { t.maskedAttention(queries: v[0], keys: v[1], values: v[2], mask: v[3], heads: heads) }

    func testForwardMatchesTheReference() {
        let x = inputs(seed: 1)
        let tape = Tape()
        let out = tape.value(attend(tape, (x + [mask]).map { tape.constant($0) }))
        XCTAssertLessThan(out.maxAbsDifference(reference(x[0], x[1], x[2], mask)), 1e-5)
        // The empty row is exactly 0.
        for c in 0..<(set * width) { XCTAssertEqual(out[3, c], 0) }
    }

    func testAbsentKeysAndValuesDoNotLeak() {
        let x = inputs(seed: 2)
        var changed = x
        for r in 0..<rows {
            for s in 0..<set where mask[r, s] == 0 {
                for c in 0..<width { changed[1][r, s * width + c] = 50; changed[2][r, s * width + c] = -50 }
            }
        }
        let t1 = Tape(), t2 = Tape()
        let a = t1.value(attend(t1, (x + [mask]).map { t1.constant($0) }))
        let b = t2.value(attend(t2, (changed + [mask]).map { t2.constant($0) }))
        XCTAssertEqual(a.maxAbsDifference(b), 0)
    }

    func testGradientIncludingAbsentModalitiesAndTheEmptySet() {
        GradientCheck(inputs(seed: 3) + [mask], constants: [3]).run("maskedAttention") { t, v in self.attend(t, v) }
        // One head of width 4, and each operand alone (the others constant).
        GradientCheck(inputs(seed: 4) + [mask], constants: [3]).run("maskedAttention(1 head)") { t, v in
            t.maskedAttention(queries: v[0], keys: v[1], values: v[2], mask: v[3], heads: 1)
        }
        for only in 0..<3 {
            GradientCheck(inputs(seed: 5) + [mask], constants: Set([0, 1, 2, 3]).subtracting([only])).run("maskedAttention(only \(only))") {
                t, v in
                self.attend(t, v)
            }
        }
    }

    func testEmptySetGradientIsZeroAndFinite() {
        let tape = Tape()
        let v = (inputs(seed: 6) + [mask]).enumerated().map { $0 < 3 ? tape.variable($1) : tape.constant($1) }
        let out = attend(tape, v)
        tape.backward(tape.sum(tape.mul(out, tape.constant(Matrix.randomNormal(rows: rows, cols: set * width, seed: 7)))))
        for i in 0..<3 {
            let g = tape.gradient(v[i])
            XCTAssertTrue(g.storage.allSatisfy(\.isFinite))
            for c in 0..<(set * width) { XCTAssertEqual(g[3, c], 0) }
        }
    }

    func testReshapeGradient() {
        GradientCheck([uniform(2, 6, seed: 8)]).run("reshape") { t, v in t.reshape(v[0], rows: 4, cols: 3) }
    }

    func testReplayDoesNotAllocate() {
        let x = inputs(seed: 9)
        let tape = Tape()
        func step() {
            tape.reset()
            let v = (x + [mask]).enumerated().map { $0 < 3 ? tape.variable($1) : tape.constant($1) }
            tape.backward(tape.sum(attend(tape, v)))
        }
        step()
        let bytes = tape.allocatedBytes
        step()
        XCTAssertEqual(tape.allocatedBytes, bytes, "a replay of the attention op must reuse its buffers")
    }
}
