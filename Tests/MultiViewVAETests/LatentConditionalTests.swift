import XCTest
@testable import MultiViewVAE

final class LatentConditionalTests: XCTestCase {
    /// z₂ = z₁ A + b + ε with known A, b, ε ~ N(0, s²I): Eq. 12 fitted on samples must recover
    /// E[z₂ | z₁] = z₁ A + b and Cov[z₂ | z₁] = s²I.
    func testEmpiricalConditionalRecoversPlantedLinearGaussianRelation() throws {
        let n = 20_000, d1 = 3, d2 = 2
        let a = Matrix([[0.8, -0.3], [0.1, 0.5], [-0.6, 0.2]])
        let b: [Float] = [1.5, -2]
        let s: Float = 0.3
        let z1 = Matrix.randomNormal(rows: n, cols: d1, seed: 1)
        let noise = Matrix.randomNormal(rows: n, cols: d2, seed: 2, scale: s)
        var z2 = z1 * a + noise
        for r in 0..<n { for c in 0..<d2 { z2[r, c] += b[c] } }
        let cond = LatentConditional(fitting: z1, z2)
        let (w, cov) = try cond.regression(target: 1, given: 0)
        XCTAssertLessThan(w.maxAbsDifference(a), 0.01, "regression weights")
        XCTAssertLessThan(cov.maxAbsDifference(s * s * .identity(d2)), 0.005, "conditional covariance")
        let probe = Matrix([[1, 0, -1], [0, 0, 0]])
        let predicted = try cond.conditionalMean(target: 1, given: 0, values: probe)
        var expected = probe * a
        for r in 0..<2 { for c in 0..<d2 { expected[r, c] += b[c] } }
        XCTAssertLessThan(predicted.maxAbsDifference(expected), 0.02)
        // And the other direction exists and is finite.
        XCTAssertTrue(try cond.conditionalMean(target: 0, given: 1, values: Matrix([[1, 1]])).storage.allSatisfy(\.isFinite))
    }

    func testPriorConditionalIsCzAndIMinusCCt() throws {
        let c = Matrix([[0.5, 0], [0, -0.3], [0.2, 0.1]])  // n2 = 3, n1 = 2
        let cond = LatentConditional(prior: c)
        let (w, cov) = try cond.regression(target: 1, given: 0)
        XCTAssertLessThan(w.maxAbsDifference(c.transposed), 1e-5, "E[z₂|z₁] = C z₁ (row form z₁ Cᵀ)")
        XCTAssertLessThan(cov.maxAbsDifference(.identity(3) - c * c.transposed), 1e-5)
    }
}
