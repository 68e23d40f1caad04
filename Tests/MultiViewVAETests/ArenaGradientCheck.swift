import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Finite-difference check of the gradient that a tape computation sends into a parameter arena:
/// `loss` records a 1×1 value from the arena's parameters; every arena coordinate is perturbed ±h.
func checkArenaGradient(
    _ arena: ParameterArena, step: Float = 1e-2, tolerance: Double = 1e-2,
    file: StaticString = #filePath, line: UInt = #line,
    loss: (Tape) throws -> Var
) throws {
    let tape = Tape()
    arena.zeroGradients()
    tape.backward(try loss(tape))
    let analytic = Array(UnsafeBufferPointer(start: arena.gradients, count: arena.count))
    var worst = 0.0
    var failures: [String] = []
    for i in 0..<arena.count {
        let saved = arena.values[i]
        func value(_ x: Float) throws -> Double {
            arena.values[i] = x
            let t = Tape()
            return Double(t.item(try loss(t)))
        }
        let up = saved + step, down = saved - step
        let numeric = (try value(up) - value(down)) / (Double(up) - Double(down))
        arena.values[i] = saved
        let err = abs(Double(analytic[i]) - numeric) / max(1, abs(numeric))
        worst = max(worst, err)
        if !(err <= tolerance) { failures.append("coordinate \(i): analytic \(analytic[i]) vs numeric \(numeric)") }
    }
    XCTAssertTrue(
        failures.isEmpty, "\(failures.count) arena gradient coordinate(s) wrong: \(failures.prefix(5))",
        file: file, line: line)
}

/// Fills every parameter of the arena with N(0, scale²) values from `seed`.
func randomize(_ arena: ParameterArena, seed: UInt64, scale: Float = 0.5) {
    var rng = RandomStream(seed: seed, stream: 77)
    for i in 0..<arena.count { arena.values[i] = scale * rng.nextNormal() }
}
