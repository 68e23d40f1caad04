import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Deep CCA's squared objective: its value is Σρ² of exact CCA on the same rows, its gradient passes
/// the finite-difference check (through the ranks' sum as well), and maximising it with two linear
/// encoders recovers correlations planted in linear data.
final class DeepCCAObjectiveTests: XCTestCase {
    let planted: [Double] = [0.9, 0.6, 0.3]

    /// n rows of two 5-feature views whose latents z₁, z₂ (3 each) have sample correlations
    /// corr(z₁ᵢ, z₂ᵢ) = ρᵢ exactly (from whitened noise), mixed linearly with a little noise.
    func plantedViews(rows n: Int, seed: UInt64) throws -> (Matrix, Matrix) {
        let raw = Matrix.randomNormal(rows: n, cols: 6, seed: seed)
        var means = [Double](repeating: 0, count: 6)
        for r in 0..<n { for j in 0..<6 { means[j] += Double(raw[r, j]) / Double(n) } }
        var cov = [[Double]](repeating: [Double](repeating: 0, count: 6), count: 6)
        for r in 0..<n {
            for i in 0..<6 { for j in 0..<6 { cov[i][j] += (Double(raw[r, i]) - means[i]) * (Double(raw[r, j]) - means[j]) / Double(n) } }
        }
        let l = try GaussianKL.cholesky(cov)
        var z1 = Matrix(rows: n, cols: 3, [Float](repeating: 0, count: n * 3)), z2 = z1
        for r in 0..<n {
            let e = GaussianKL.forwardSolve(l, (0..<6).map { Double(raw[r, $0]) - means[$0] })  // white: identity covariance
            for i in 0..<3 {
                z1[r, i] = Float(e[i])
                z2[r, i] = Float(planted[i] * e[i] + (1 - planted[i] * planted[i]).squareRoot() * e[3 + i])
            }
        }
        let m1 = uniform(3, 5, seed: seed + 2), m2 = uniform(3, 5, seed: seed + 3)
        let x1 = z1.matmul(m1) + Matrix.randomNormal(rows: n, cols: 5, seed: seed + 4, scale: 0.01)
        let x2 = z2.matmul(m2) + Matrix.randomNormal(rows: n, cols: 5, seed: seed + 5, scale: 0.01)
        return (x1, x2)
    }

    func testValueIsTheSumOfSquaredCanonicalCorrelations() throws {
        let (x1, x2) = try plantedViews(rows: 3000, seed: 1)
        let tape = Tape()
        let (objective, rows, _) = try DeepCCAObjective.squaredCorrelations(
            tape.constant(x1), tape.constant(x2), regularization: 0, tape: tape)
        let cca = try CanonicalCorrelationAnalysis(fitting: x1, x2)
        XCTAssertEqual(Double(tape.item(objective)), cca.correlations.reduce(0) { $0 + $1 * $1 }, accuracy: 2e-3)
        XCTAssertEqual(tape.item(rows), 3000)
    }

    func testABatchWithoutEnoughPairsContributesNothingAndStaysFinite() throws {
        let (x1, x2) = try plantedViews(rows: 40, seed: 3)
        for pairs in [0, 1, 8] {
            let tape = Tape()
            let w = tape.constant(Matrix(rows: 40, cols: 1, (0..<40).map { $0 < pairs ? 1 : 0 }))
            let a = tape.variable(x1)
            let (objective, rows, meanSquares) = try DeepCCAObjective.squaredCorrelations(
                a, tape.constant(x2), regularization: 1e-3, weights: w, tape: tape)
            XCTAssertEqual(tape.item(rows), Float(pairs))
            XCTAssertTrue(tape.item(meanSquares).isFinite)
            tape.backward(tape.sub(objective, meanSquares))
            XCTAssertTrue(tape.gradient(a).storage.allSatisfy(\.isFinite), "\(pairs) pairs: finite gradients")
            if pairs <= 10 { XCTAssertEqual(tape.item(objective), 0, "\(pairs) pairs ≤ p + q: no objective") }
        }
    }

    func testGradients() {
        GradientCheck([uniform(7, 3, seed: 2), uniform(7, 2, seed: 3)]).run("deep CCA objective") { t, v in
            try DeepCCAObjective.squaredCorrelations(v[0], v[1], regularization: 0.1, tape: t).objective
        }
        GradientCheck([uniform(2, 3, seed: 4)]).run("sumOverRanks (one process)") { t, v in try t.sumOverRanks(v[0]) }
    }

    func testLinearEncodersRecoverPlantedCorrelations() throws {
        let (x1, x2) = try plantedViews(rows: 2000, seed: 10)
        let arena = ParameterArena()
        let f1 = Dense("f1", inputs: 5, outputs: 3, init: .xavier, arena: arena),
            f2 = Dense("f2", inputs: 5, outputs: 3, init: .xavier, arena: arena)
        arena.materialize(seed: 3)
        let adam = Adam(count: arena.count, learningRate: 0.02)
        let tape = Tape()
        var objective: Float = 0
        for _ in 0..<300 {
            tape.reset()
            arena.zeroGradients()
            let (o, _, _) = try DeepCCAObjective.squaredCorrelations(
                f1(tape.constant(x1), tape: tape, arena: arena),
                f2(tape.constant(x2), tape: tape, arena: arena), regularization: 1e-4, tape: tape)
            objective = tape.item(o)
            tape.backward(tape.neg(o))
            adam.update(arena)
        }
        XCTAssertEqual(Double(objective), planted.reduce(0) { $0 + $1 * $1 }, accuracy: 0.02)
        let t = Tape()
        let u = t.value(f1(t.constant(x1), tape: t, arena: arena)), v = t.value(f2(t.constant(x2), tape: t, arena: arena))
        let found = try CanonicalCorrelationAnalysis(fitting: u, v).correlations
        for (a, b) in zip(found, planted) { XCTAssertEqual(a, b, accuracy: 0.02, "recovered \(found) vs planted \(planted)") }
    }
}
