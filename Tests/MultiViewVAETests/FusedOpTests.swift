import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The fused kernels: their VJPs pass the finite-difference check, and their values equal the
/// chains of plain ops they replace.
final class FusedOpTests: XCTestCase {
    func testLinearGradientForEveryActivation() {
        for act in Activation.allCases {
            // Keep pre-activations away from ReLU's kink: inputs and weights in ±1 give |z| mostly ≥ 0.05;
            // the check's tolerance is per coordinate, so the seed is chosen where none sits on the kink.
            GradientCheck([uniform(4, 3, seed: 21), uniform(3, 5, seed: 22), uniform(1, 5, seed: 23)])
                .run("linear(\(act))") { t, v in t.linear(v[0], weight: v[1], bias: v[2], activation: act) }
        }
    }

    func testLinearEqualsMatmulPlusBiasThenActivation() {
        let x = uniform(4, 3, seed: 1), w = uniform(3, 5, seed: 2), b = uniform(1, 5, seed: 3)
        for act in Activation.allCases {
            let tape = Tape()
            let xv = tape.constant(x), wv = tape.constant(w), bv = tape.constant(b)
            let fused = tape.value(tape.linear(xv, weight: wv, bias: bv, activation: act))
            let plain = tape.value(act.apply(tape.add(tape.matmul(xv, wv), bv), tape: tape))
            XCTAssertLessThan(fused.maxAbsDifference(plain), 1e-6, "\(act)")
        }
    }

    func testBCERowSumGradientAndValue() {
        // 37 columns: two 16-lane vector blocks and a scalar tail.
        for cols in [4, 37] {
            let logits = uniform(3, cols, seed: 5, -6, 6), targets = uniform(3, cols, seed: 6, 0, 1)
            GradientCheck([logits, targets]).run("bceWithLogitsRowSum(\(cols) cols)") { t, v in t.bceWithLogitsRowSum(v[0], targets: v[1]) }
            let tape = Tape()
            let l = tape.constant(logits), y = tape.constant(targets)
            XCTAssertLessThan(
                tape.value(tape.bceWithLogitsRowSum(l, targets: y))
                    .maxAbsDifference(tape.value(tape.sum(tape.bceWithLogits(l, targets: y), axis: .cols))), 2e-5)
        }
    }

    func testReparameterizeGradientAndValue() {
        let mu = uniform(3, 4, seed: 7), lv = uniform(3, 4, seed: 8), eps = uniform(3, 4, seed: 9, -2, 2)
        GradientCheck([mu, lv, eps], constants: [2]).run("reparameterize") { t, v in
            t.reparameterize(mean: v[0], logVar: v[1], noise: v[2])
        }
        let tape = Tape()
        let m = tape.constant(mu), v = tape.constant(lv), e = tape.constant(eps)
        let plain = tape.add(m, tape.mul(tape.exp(tape.scale(v, 0.5)), e))
        XCTAssertLessThan(tape.value(tape.reparameterize(mean: m, logVar: v, noise: e)).maxAbsDifference(tape.value(plain)), 1e-6)
    }

    func testGEMMWorkloadCountsForwardAndBackwardProducts() {
        let arena = ParameterArena()
        let mlp = MLP("m", sizes: [6, 5, 4], arena: arena)
        arena.materialize(seed: 1)
        let tape = Tape()
        _ = mlp(tape.constant(uniform(3, 6, seed: 1)), tape: tape, arena: arena)
        let shapes = tape.gemmWorkload()
        // Layer 0: forward + dW (the input is a constant); layer 1: forward + dW + dx.
        XCTAssertEqual(shapes.count, 5)
        XCTAssertEqual(shapes.reduce(0) { $0 + $1.flops }, 2 * (2 * 3 * 6 * 5 + 3 * 3 * 5 * 4))
    }

    func testWeightedLogSumExpGradientAndValue() {
        let logits = uniform(3, 4, seed: 30, -5, 5)
        // Positive weights: both inputs take gradients.
        GradientCheck([logits, uniform(3, 4, seed: 31, 0.1, 1)]).run("weightedLogSumExp") { t, v in t.weightedLogSumExp(v[0], weights: v[1])
        }
        // Absent components (w = 0, a constant mask) are left out: gradients reach only present logits.
        let mask = Matrix([[1, 0, 0.5, 0], [0, 0, 0, 2], [0.2, 0.3, 0, 0.5]])
        GradientCheck([logits, mask], constants: [1]).run("weightedLogSumExp, absent components") { t, v in
            t.weightedLogSumExp(v[0], weights: v[1])
        }
        let tape = Tape()
        // An absent component with a density e^{200} larger than the present ones changes nothing.
        var far = logits
        far[0, 1] = 200
        let y = tape.value(tape.weightedLogSumExp(tape.constant(far), weights: tape.constant(mask)))
        XCTAssertEqual(Double(y[0, 0]), log(exp(Double(logits[0, 0])) + 0.5 * exp(Double(logits[0, 2]))), accuracy: 1e-5)
        XCTAssertEqual(Double(y[1, 0]), log(2) + Double(logits[1, 3]), accuracy: 1e-5)
        XCTAssertEqual(
            tape.value(tape.weightedLogSumExp(tape.constant(logits), weights: tape.constant(Matrix(rows: 3, cols: 4))))[0, 0], -.infinity)
    }
}

/// The masked dense layer of MADE: its VJP passes the finite-difference check (the weight's gradient
/// is zero where the mask cuts), and its value equals a plain linear layer with W ⊙ M.
final class MaskedLinearTests: XCTestCase {
    func mask(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
        var m = uniform(rows, cols, seed: seed)
        for q in 0..<m.count { m.storage[q] = m.storage[q] > 0 ? 1 : 0 }
        return m
    }

    func testGradientForEveryActivation() {
        for act in Activation.allCases {
            GradientCheck(
                [uniform(4, 3, seed: 31), uniform(3, 5, seed: 32), uniform(1, 5, seed: 33), mask(3, 5, seed: 34)], constants: [3]
            )
            .run("maskedLinear(\(act))") { t, v in t.maskedLinear(v[0], weight: v[1], bias: v[2], mask: v[3], activation: act) }
        }
    }

    func testCutWeightsGetNoGradientAndValueEqualsLinearOfMaskedWeight() {
        let x = uniform(4, 3, seed: 1), w = uniform(3, 5, seed: 2), b = uniform(1, 5, seed: 3), m = mask(3, 5, seed: 4)
        XCTAssertTrue(m.storage.contains(0) && m.storage.contains(1))
        let tape = Tape()
        let xv = tape.variable(x), wv = tape.variable(w), bv = tape.variable(b), mv = tape.constant(m)
        let y = tape.maskedLinear(xv, weight: wv, bias: bv, mask: mv, activation: .tanh)
        let plain = tape.linear(xv, weight: tape.mul(wv, mv), bias: bv, activation: .tanh)
        XCTAssertLessThan(tape.value(y).maxAbsDifference(tape.value(plain)), 1e-6)
        tape.backward(tape.sum(tape.mul(y, tape.constant(uniform(4, 5, seed: 5)))))
        let g = tape.gradient(wv)
        for q in 0..<m.count where m.storage[q] == 0 { XCTAssertEqual(g.storage[q], 0, "cut weight \(q) got a gradient") }
        XCTAssertTrue(g.storage.contains { $0 != 0 })
    }
}
