import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

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

final class ImputationConditionalTests: XCTestCase {
    /// A nearly collapsed latent unit (μ ≈ 0 for every row, σ = 1) must not blow up Eq. 12: its draws are
    /// O(1), so the joint is fitted on draws, where the unit has unit variance. (Fitted on means, the
    /// unit's tiny variance divides its covariances and the regression weights reach the hundreds.)
    func testCollapsedUnitKeepsTheRegressionBounded() throws {
        let run = try TinyRun()
        for view in run.model.views {
            let last = view.encoder.mlp.layers.last!
            var w = run.model.arena.value(last.weight), b = run.model.arena.value(last.bias)
            for r in 0..<w.rows { w[r, 0] *= 1e-3; w[r, view.latent] = 0 }  // μ₀ ≈ 0, log σ₀² = 0
            b[0, 0] = 0
            b[0, view.latent] = 0
            run.model.arena.setValue(last.weight, w)
            run.model.arena.setValue(last.bias, b)
        }
        let evaluation = JPVAEEvaluation(model: run.model, seed: 1, config: run.config.evaluation)
        let q = (0..<2).map { evaluation.inference.encode(view: $0, run.data.train.matrix(view: $0)) }
        XCTAssertLessThan(columnVariances(q[0].mean)[0], 1e-4, "unit 0 is nearly collapsed")
        let (w, _) = try evaluation.conditional(trainPosteriors: q).regression(target: 1, given: 0)
        XCTAssertLessThan(w.storage.map(abs).max()!, 2, "regression weights stay bounded")
        let imputed = try evaluation.impute(
            target: 1, given: 0, observed: run.data.test.matrix(view: 0),
            conditional: try evaluation.conditional(trainPosteriors: q))
        XCTAssertTrue(imputed.mean.storage.allSatisfy(\.isFinite))
    }
}
