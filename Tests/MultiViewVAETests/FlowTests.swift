import Foundation
import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// MADE and the masked autoregressive flow: the autoregressive property, the log-determinant against a
/// finite-difference Jacobian, inverse ∘ forward = identity, the parameter gradients of the density, and
/// samples drawn through the inverse matching the density they come from.
final class FlowTests: XCTestCase {
    func flow(dimension: Int, blocks: Int = 2, hidden: [Int] = [7, 6], seed: UInt64, scale: Float = 0.4) -> (
        MaskedAutoregressiveFlow, ParameterArena
    ) {
        let arena = ParameterArena()
        let f = MaskedAutoregressiveFlow("flow", dimension: dimension, blocks: blocks, hidden: hidden, activation: .tanh, arena: arena)
        arena.materialize(seed: seed)
        randomize(arena, seed: seed, scale: scale)  // not the identity start: every weight matters
        return (f, arena)
    }

    func values(_ f: MaskedAutoregressiveFlow, _ arena: ParameterArena, _ z: Matrix) -> (u: Matrix, logDet: Matrix) {
        let tape = Tape()
        let (u, logDet) = f.forward(tape.constant(z), tape: tape, arena: arena)
        return (tape.value(u), tape.value(logDet))
    }

    func testMADEOutputsOfCoordinateIReadOnlyEarlierCoordinates() {
        let d = 4
        for reversed in [false, true] {
            let arena = ParameterArena()
            let made = MADE("m", dimension: d, hidden: [9, 5], reversed: reversed, activation: .tanh, arena: arena)
            arena.materialize(seed: 3)
            randomize(arena, seed: 4)
            let z = uniform(1, d, seed: 5)
            func outputs(_ z: Matrix) -> Matrix {
                let tape = Tape()
                let (mu, alpha) = made(tape.constant(z), tape: tape, arena: arena)
                return .sideBySide([tape.value(mu), tape.value(alpha)])
            }
            let base = outputs(z)
            for j in 0..<d {
                var moved = z
                moved[0, j] += 0.5
                let delta = outputs(moved)
                for i in 0..<d {
                    let changed = abs(delta[0, i] - base[0, i]) + abs(delta[0, d + i] - base[0, d + i]) > 1e-7
                    if made.degrees[j] >= made.degrees[i] {
                        XCTAssertFalse(changed, "reversed \(reversed): outputs of coordinate \(i) moved with z_\(j)")
                    } else {
                        XCTAssertTrue(changed, "reversed \(reversed): outputs of coordinate \(i) ignore the earlier z_\(j)")
                    }
                }
            }
        }
    }

    func testLogDeterminantEqualsFiniteDifferenceJacobian() throws {
        let d = 3
        let (f, arena) = flow(dimension: d, seed: 11)
        let z = uniform(5, d, seed: 12)
        let (_, logDet) = values(f, arena, z)
        let h: Float = 1e-2
        for r in 0..<z.rows {
            var jacobian = Matrix(rows: d, cols: d)
            for j in 0..<d {
                var plus = z.rows(r..<(r + 1)), minus = plus
                plus[0, j] += h
                minus[0, j] -= h
                let up = values(f, arena, plus).u, down = values(f, arena, minus).u
                for i in 0..<d {
                    jacobian[i, j] = Float((Double(up[0, i]) - Double(down[0, i])) / (Double(plus[0, j]) - Double(minus[0, j])))
                }
            }
            let (logAbs, _) = try jacobian.logDeterminant()
            XCTAssertEqual(logDet[r, 0], logAbs, accuracy: 2e-3, "row \(r)")
        }
    }

    func testInverseOfForwardIsTheIdentity() {
        for d in [1, 2, 5] {
            let (f, arena) = flow(dimension: d, blocks: 3, seed: 21 + UInt64(d))
            let z = uniform(6, d, seed: 22, -2, 2)
            let u = values(f, arena, z).u
            XCTAssertLessThan(f.inverse(u, arena: arena).maxAbsDifference(z), 1e-4, "D = \(d)")
        }
    }

    func testDensityGradientsReachEveryParameter() throws {
        let (f, arena) = flow(dimension: 3, hidden: [4], seed: 31, scale: 0.3)
        let z = uniform(4, 3, seed: 32)
        try checkArenaGradient(arena) { tape in
            let (u, logDet) = f.forward(tape.constant(z), tape: tape, arena: arena)
            return tape.sum(tape.add(tape.standardNormalLogDensity(u), logDet))
        }
        GradientCheck([z]).run("flow log-density wrt z") { tape, v in
            let (u, logDet) = f.forward(v[0], tape: tape, arena: arena)
            return tape.add(tape.standardNormalLogDensity(u), logDet)
        }
    }

    /// z = f⁻¹(u), u ~ N(m, diag s²): the samples' mean and covariance equal those of the density
    /// log N(f(z); m, s²) + log |det ∂f/∂z| integrated on a grid.
    func testSamplesThroughTheInverseMatchTheDensity() {
        let (f, arena) = flow(dimension: 2, hidden: [8, 8], seed: 41, scale: 0.5)
        let m: [Float] = [0.3, -0.2], s: [Float] = [0.8, 0.6]
        let n = 20_000
        var u = Matrix.randomNormal(rows: n, cols: 2, seed: 42)
        for r in 0..<n { for i in 0..<2 { u[r, i] = m[i] + s[i] * u[r, i] } }
        let z = f.inverse(u, arena: arena)
        var sampleMean = [0.0, 0.0], sampleCov = [0.0, 0.0, 0.0]
        for r in 0..<n { for i in 0..<2 { sampleMean[i] += Double(z[r, i]) / Double(n) } }
        for r in 0..<n {
            let a = Double(z[r, 0]) - sampleMean[0], b = Double(z[r, 1]) - sampleMean[1]
            sampleCov[0] += a * a / Double(n); sampleCov[1] += a * b / Double(n); sampleCov[2] += b * b / Double(n)
        }
        // The density on a 241 × 241 grid over ±6 (far past the samples' range).
        let g = 241, lo = -6.0, step = 12.0 / Double(g - 1)
        var grid = Matrix(rows: g * g, cols: 2)
        for a in 0..<g {
            for b in 0..<g { grid[a * g + b, 0] = Float(lo + Double(a) * step); grid[a * g + b, 1] = Float(lo + Double(b) * step) }
        }
        let (gu, logDet) = values(f, arena, grid)
        var mass = 0.0, mean = [0.0, 0.0], second = [0.0, 0.0, 0.0]
        for p in 0..<(g * g) {
            var logq = Double(logDet[p, 0])
            for i in 0..<2 {
                let e = (Double(gu[p, i]) - Double(m[i])) / Double(s[i])
                logq += -0.5 * e * e - log(Double(s[i])) - 0.5 * log(2 * Double.pi)
            }
            let w = exp(logq) * step * step, x = Double(grid[p, 0]), y = Double(grid[p, 1])
            mass += w; mean[0] += w * x; mean[1] += w * y
            second[0] += w * x * x; second[1] += w * x * y; second[2] += w * y * y
        }
        XCTAssertEqual(mass, 1, accuracy: 2e-3, "the density integrates to 1")
        let cov = [second[0] - mean[0] * mean[0], second[1] - mean[0] * mean[1], second[2] - mean[1] * mean[1]]
        // Monte-Carlo error of 20 000 draws: about 0.01 · the spread.
        for i in 0..<2 { XCTAssertEqual(sampleMean[i], mean[i], accuracy: 0.03, "mean \(i)") }
        for c in 0..<3 { XCTAssertEqual(sampleCov[c], cov[c], accuracy: 0.04 * max(1, abs(cov[c])), "covariance entry \(c)") }
        XCTAssertGreaterThan(abs(mean[0] - Double(m[0])) + abs(cov[0] - Double(s[0] * s[0])), 0.05, "the flow is not close to the identity")
    }
}
