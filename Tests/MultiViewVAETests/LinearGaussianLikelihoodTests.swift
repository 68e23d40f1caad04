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

/// Exact marginal, conditional and posterior computations of `LinearGaussianModel`.
final class LinearGaussianLikelihoodTests: XCTestCase {
    /// Three modalities (4, 3, 5 features), d_z = 2, per-feature noise variances, random W and b.
    private func model() -> LinearGaussianModel {
        let dims = [4, 3, 5]
        var rng = RandomStream(seed: 3, stream: 1)
        let w = dims.enumerated().map { Matrix.randomNormal(rows: $1, cols: 2, seed: 21, stream: UInt64($0), scale: 0.8) }
        let b = dims.map { d in (0..<d).map { _ in rng.nextNormal() } }
        let psi = dims.map { d in (0..<d).map { _ in 0.2 + Double(rng.nextUniform()) } }
        return LinearGaussianModel(loadings: w, biases: b, noiseVariances: psi)
    }

    /// Data drawn from the model itself (n rows).
    private func sample(_ m: LinearGaussianModel, n: Int) -> [Matrix] {
        let z = Matrix.randomNormal(rows: n, cols: m.latentDimension, seed: 5, stream: 9)
        return m.loadings.indices.map { s in
            var x = z.matmul(m.loadings[s], transposeOther: true)
            var rng = RandomStream(seed: 6, stream: UInt64(s))
            for i in 0..<n {
                for j in 0..<x.cols { x[i, j] += m.biases[s][j] + Float(m.noiseVariances[s][j].squareRoot()) * rng.nextNormal() }
            }
            return x
        }
    }

    /// K = 1, d = 1, d_z = 1: x ~ N(b, w² + ψ).
    func testScalarCaseMatchesTheHandFormula() throws {
        let m = LinearGaussianModel(loadings: [Matrix([[1.5]])], biases: [[-0.5]], noiseVariances: [[0.7]])
        let x = Matrix(rows: 4, cols: 1, [0.3, -2, 1.25, 4])
        let v = 1.5 * 1.5 + 0.7
        let expected = x.storage.map { -0.5 * log(2 * Double.pi * v) - pow(Double($0) + 0.5, 2) / (2 * v) }
        let got = try m.logLikelihoods([x])
        for (g, e) in zip(got, expected) { XCTAssertEqual(g, e, accuracy: 1e-12) }
        XCTAssertEqual(try m.logLikelihood([x]), expected.reduce(0, +) / 4, accuracy: 1e-12)
    }

    /// The Double path against an independent Float one through Matrix.cholesky and a triangular solve.
    func testJointLogLikelihoodMatchesAFloatCholeskyComputation() throws {
        let m = model()
        let views = sample(m, n: 300)
        let w = Matrix(rows: 12, cols: 2, m.loadings.flatMap(\.storage))
        var c = w.matmul(w, transposeOther: true)
        for (j, v) in m.noiseVariances.flatMap({ $0 }).enumerated() { c[j, j] += Float(v) }
        let l = try c.cholesky()
        let bias = m.biases.flatMap { $0 }
        var centered = Matrix(rows: 12, cols: 300)  // columns are the samples
        for i in 0..<300 {
            let row = views.flatMap { $0.row(i) }
            for j in 0..<12 { centered[j, i] = row[j] - bias[j] }
        }
        let y = try l.solveTriangular(centered, lower: true)
        var logDet: Float = 0
        for j in 0..<12 { logDet += 2 * log(l[j, j]) }
        var total: Double = 0
        for i in 0..<300 {
            var q: Float = 0
            for j in 0..<12 { q += y[j, i] * y[j, i] }
            total += Double(-0.5 * (12 * log(2 * Float.pi) + logDet + q))
        }
        let exact = try m.logLikelihood(views)
        XCTAssertEqual(exact, total / 300, accuracy: 1e-4 * abs(exact))
    }

    /// The marginal of a subset is the model restricted to those modalities, and order only permutes features.
    func testMarginalIsTheRestrictedModel() throws {
        let m = model()
        let views = sample(m, n: 100)
        let restricted = LinearGaussianModel(
            loadings: [m.loadings[2], m.loadings[0]], biases: [m.biases[2], m.biases[0]],
            noiseVariances: [m.noiseVariances[2], m.noiseVariances[0]])
        let a = try m.logLikelihoods(views, modalities: [2, 0])
        let b = try restricted.logLikelihoods([views[2], views[0]])
        let c = try m.logLikelihoods(views, modalities: [0, 2])
        for i in 0..<100 {
            XCTAssertEqual(a[i], b[i], accuracy: 1e-10)
            XCTAssertEqual(a[i], c[i], accuracy: 1e-10)
        }
        // Views outside the subset are never read.
        let placeholders = [views[0], Matrix(rows: 0, cols: 0), views[2]]
        XCTAssertEqual(try m.logLikelihood(placeholders, modalities: [0, 2]), try m.logLikelihood(views, modalities: [0, 2]))
    }

    /// log p(x_A | x_B) against the Gaussian conditional N(b_A + C_AB C_BB⁻¹ (x_B − b_B), C_AA − C_AB C_BB⁻¹ C_BA),
    /// and the chain rule log p(x_A, x_B) = log p(x_B) + log p(x_A | x_B).
    func testConditionalMatchesTheClosedFormGaussianConditional() throws {
        let m = model()
        let views = sample(m, n: 150)
        let target = [0, 2], given = [1]
        let got = try m.conditionalLogLikelihoods(views, target: target, given: given)

        let c = m.covariance([0, 1, 2])
        let ia = Array(0..<4) + Array(7..<12), ib = Array(4..<7)
        let cbb = c.selecting(rows: ib, cols: ib), cab = c.selecting(rows: ia, cols: ib)
        let lbb = try cbb.cholesky()
        // K = C_AB C_BB⁻¹ = (C_BB⁻¹ C_BA)ᵀ.
        let gain = lbb.solveLower(lbb.solveLower(cab.transposed), transpose: true).transposed
        let conditionalCovariance = c.selecting(rows: ia, cols: ia) - gain.matmul(cab, transposeOther: true)
        let x = m.stackedData(views, [0, 1, 2])
        let b = m.stackedBias([0, 1, 2])
        let xa = x.selecting(rows: Array(0..<150), cols: ia), xb = x.selecting(rows: Array(0..<150), cols: ib)
        let shifted = xb.subtractingFromColumns(ib.map { b[$0] }).matmul(gain, transposeOther: true)  // rows: (K (x_B − b_B))ᵀ
        let residual = xa.subtractingFromColumns(ia.map { b[$0] }) - shifted
        let expected = try LinearGaussianModel.gaussianLogDensities(
            residual, mean: [Double](repeating: 0, count: ia.count),
            covariance: conditionalCovariance)
        for i in 0..<150 { XCTAssertEqual(got[i], expected[i], accuracy: 1e-9) }

        let joint = try m.logLikelihoods(views, modalities: target + given)
        let evidence = try m.logLikelihoods(views, modalities: given)
        for i in 0..<150 { XCTAssertEqual(joint[i], evidence[i] + got[i], accuracy: 1e-9) }
        XCTAssertEqual(
            try m.conditionalLogLikelihood(views, target: target, given: []),
            try m.logLikelihood(views, modalities: target), accuracy: 1e-12)
    }

    /// p(z | x_S) against the joint Gaussian of (z, x_S): mean Wᵀ C⁻¹ (x − b), covariance I − Wᵀ C⁻¹ W.
    func testPosteriorMatchesTheJointGaussian() throws {
        let m = model()
        let views = sample(m, n: 50)
        let s = [1, 2]
        let (mean, covariance) = try m.posterior(views, given: s)
        let w = m.stackedLoadings(s)
        let l = try m.covariance(s).cholesky()
        let cInvW = l.solveLower(l.solveLower(w), transpose: true)
        let expectedCovariance = DoubleMatrix.identity(2) - w.matmul(cInvW, transposeSelf: true)
        XCTAssertLessThan(DoubleMatrix(covariance).maxAbsDifference(expectedCovariance), 1e-6)
        let expectedMean = m.stackedData(views, s).subtractingFromColumns(m.stackedBias(s)).matmul(cInvW)
        XCTAssertLessThan(DoubleMatrix(mean).maxAbsDifference(expectedMean), 1e-5)

        let prior = try m.posterior(views, given: [])
        XCTAssertEqual(prior.covariance, Matrix.identity(2))
        XCTAssertEqual(prior.mean, Matrix(rows: 50, cols: 2))
    }

    /// A valid model (Ψ > 0) always has C positive definite; the Double Cholesky behind it reports an
    /// indefinite matrix with the same error as `Matrix.cholesky`.
    func testDoubleCholeskyReportsIndefiniteMatrices() {
        let indefinite = DoubleMatrix(rows: 2, cols: 2, [1, 2, 2, 1])
        XCTAssertThrowsError(try indefinite.cholesky()) { error in
            XCTAssertEqual(error as? LinearAlgebraError, .notPositiveDefinite(order: 2))
        }
    }
}
