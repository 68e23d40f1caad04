import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Finite-difference check of a tape op's VJP.
///
/// The op's output Y is contracted with a fixed random matrix R into the scalar L = Σ Y ⊙ R, so the
/// backward pass starts from a dense, non-uniform output gradient (R itself) and every entry of the
/// VJP matters — a plain Σ Y would hide errors that cancel or that only show up off the all-ones seed.
/// Each input coordinate is then perturbed by ±h on a fresh tape and the central difference of L
/// (accumulated in Double) is compared with the analytic gradient.
struct GradientCheck {
    /// Records the op under test on `tape` from the input handles (in the order of `inputs`).
    typealias Build = (Tape, [Var]) throws -> Var

    /// One gradient coordinate that disagreed.
    struct Mismatch: CustomStringConvertible {
        var input: Int, row: Int, col: Int
        var analytic: Double, numeric: Double
        var description: String {
            String(format: "input %d [%d,%d]: analytic %.6g vs numeric %.6g", input, row, col, analytic, numeric)
        }
    }

    var inputs: [Matrix]
    /// Indices of inputs that are recorded as constants (no gradient, never perturbed).
    var constants: Set<Int> = []
    /// Finite-difference step. 1e-2 balances Float rounding (error ~ ε·|L|/h) against
    /// truncation (error ~ h²·|L'''|) for the O(1) inputs used here.
    var step: Float = 1e-2
    /// A coordinate passes when |analytic − numeric| ≤ tolerance · max(1, |numeric|).
    var tolerance: Double = 5e-3
    /// Seed of the contraction matrix R.
    var seed: UInt64 = 99

    init(_ inputs: [Matrix], constants: Set<Int> = []) {
        self.inputs = inputs
        self.constants = constants
    }

    /// L = Σ Y ⊙ R computed from the op's output values in Double (no tape ops involved).
    private func lossValue(_ inputs: [Matrix], weights r: Matrix, build: Build) throws -> Double {
        let tape = Tape()
        let vars = inputs.enumerated().map { i, m in constants.contains(i) ? tape.constant(m) : tape.variable(m) }
        let y = tape.value(try build(tape, vars))
        var s: Double = 0
        for k in 0..<y.count { s += Double(y.storage[k]) * Double(r.storage[k]) }
        return s
    }

    /// Runs the check; returns the mismatching coordinates (empty when the VJP is right).
    func mismatches(build: Build) throws -> [Mismatch] {
        // Analytic gradients: one forward + backward with L = sum(Y ⊙ R) recorded on the tape.
        let tape = Tape()
        let vars = inputs.enumerated().map { i, m in constants.contains(i) ? tape.constant(m) : tape.variable(m) }
        let y = try build(tape, vars)
        let (rows, cols) = tape.shape(y)
        let r = Matrix.randomNormal(rows: rows, cols: cols, seed: seed)
        let loss = tape.sum(tape.mul(y, tape.constant(r)))
        tape.backward(loss)

        var found: [Mismatch] = []
        for (i, x) in inputs.enumerated() where !constants.contains(i) {
            let analytic = tape.gradient(vars[i])
            for k in 0..<x.count {
                var plus = inputs, minus = inputs
                plus[i].storage[k] += step
                minus[i].storage[k] -= step
                // Divide by the step Float actually took, not the nominal h.
                let dx = Double(plus[i].storage[k]) - Double(minus[i].storage[k])
                let numeric = (try lossValue(plus, weights: r, build: build) - lossValue(minus, weights: r, build: build)) / dx
                let a = Double(analytic.storage[k])
                if !(abs(a - numeric) <= tolerance * max(1, abs(numeric))) {
                    found.append(Mismatch(input: i, row: k / x.cols, col: k % x.cols, analytic: a, numeric: numeric))
                }
            }
        }
        return found
    }

    /// Runs the check and reports any mismatch as a test failure at the caller's line.
    func run(_ name: String, file: StaticString = #filePath, line: UInt = #line, build: Build) {
        do {
            let bad = try mismatches(build: build)
            if !bad.isEmpty {
                let shown = bad.prefix(4).map(\.description).joined(separator: "; ")
                XCTFail("\(name): \(bad.count) gradient coordinate(s) wrong — \(shown)", file: file, line: line)
            }
        } catch {
            XCTFail("\(name): forward threw \(error)", file: file, line: line)
        }
    }
}

// MARK: Test inputs

/// Uniform entries in [low, high], seeded so each test is reproducible.
func uniform(_ rows: Int, _ cols: Int, seed: UInt64, _ low: Float = -1, _ high: Float = 1) -> Matrix {
    Matrix.randomUniform(rows: rows, cols: cols, seed: seed, low: low, high: high)
}

/// Entries with |x| in [0.2, 1.5] and random sign: far enough from 0 that a ±h step never
/// crosses a kink (relu, leaky relu, |x| in the Laplace density).
func awayFromZero(_ rows: Int, _ cols: Int, seed: UInt64) -> Matrix {
    var m = uniform(rows, cols, seed: seed, 0.2, 1.5)
    let signs = uniform(rows, cols, seed: seed &+ 1_000)
    for k in 0..<m.count where signs.storage[k] < 0 { m.storage[k] = -m.storage[k] }
    return m
}

/// A well-conditioned square matrix: small random part plus a dominant diagonal.
func wellConditioned(_ n: Int, seed: UInt64) -> Matrix {
    uniform(n, n, seed: seed, -0.5, 0.5) + Float(n) * Matrix.identity(n)
}
