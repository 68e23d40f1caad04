import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The batched per-row D×D ops (gradient checks) and the full-covariance posterior built on them:
/// its KL against a correlated prior equals the generic Gaussian KL and a Monte-Carlo estimate, and
/// its sampler has the covariance L Lᵀ + εI.
final class FullCovarianceGaussianTests: XCTestCase {
    let d = 3

    /// A random L (positive diagonal) per row and its Σ = L Lᵀ + εI in Double.
    func randomFactor(rows: Int, seed: UInt64) -> Matrix {
        var l = Matrix(rows: rows, cols: d * d, [Float](repeating: 0, count: rows * d * d))
        let raw = uniform(rows, d * d, seed: seed, -0.6, 0.6)
        for r in 0..<rows {
            for i in 0..<d { for j in 0...i { l[r, i * d + j] = i == j ? 0.4 + abs(raw[r, i * d + j]) : raw[r, i * d + j] } }
        }
        return l
    }

    func testRowOpsGradients() {
        GradientCheck([uniform(2, d, seed: 1), uniform(2, d * (d - 1) / 2, seed: 2)]).run("rowLowerTriangular") { t, v in
            t.rowLowerTriangular(diagonal: v[0], strictlyLower: v[1])
        }
        GradientCheck([uniform(2, d * d, seed: 3), uniform(2, d, seed: 4)]).run("rowMatVec") { t, v in t.rowMatVec(v[0], v[1]) }
        GradientCheck([uniform(2, d * d, seed: 3), uniform(2, d, seed: 4)], constants: [0]).run("rowMatVec(const M)") { t, v in
            t.rowMatVec(v[0], v[1])
        }
        GradientCheck([uniform(2, d * d, seed: 5)]).run("rowGram") { t, v in t.rowGram(v[0]) }
        // ln det of a symmetric positive-definite input, perturbed symmetrically through M Mᵀ + I.
        GradientCheck([uniform(2, d * d, seed: 6)]).run("rowLogDeterminant(M Mᵀ + I)") { t, v in
            let eye = t.input(rows: 1, cols: self.d * self.d) { p in
                p.update(repeating: 0, count: self.d * self.d)
                for i in 0..<self.d { p[i * self.d + i] = 1 }
            }
            return try t.rowLogDeterminant(t.add(t.rowGram(v[0]), eye))
        }
        // The whole KL through the Cholesky parameterisation, into μ, the raw diagonal and the lower part.
        let raw = wellConditioned(d, seed: 7)
        var symmetric = raw
        for i in 0..<d { for j in 0..<d { symmetric[i, j] = 0.5 * (raw[i, j] + raw[j, i]) } }
        guard let precision = try? symmetric.inverse() else { return XCTFail("prior not invertible") }
        GradientCheck([uniform(2, d, seed: 8), uniform(2, d, seed: 9), uniform(2, d * (d - 1) / 2, seed: 10)]).run("full-covariance KL") {
            t, v in
            let q = FullCovarianceGaussian(
                mean: v[0], factor: FullCovarianceGaussian.factor(diagonal: v[1], strictlyLower: v[2], tape: t), jitter: 1e-3)
            return try q.klDivergence(priorPrecision: t.constant(precision), priorLogDet: t.scalar(0.7), tape: t)
        }
    }

    func testRowLogDeterminantRefusesAMatrixThatIsNotPositiveDefinite() {
        let tape = Tape()
        let bad = tape.constant(Matrix(rows: 1, cols: 4, [1, 2, 2, 1]))
        XCTAssertThrowsError(try tape.rowLogDeterminant(bad)) { XCTAssertEqual($0 as? LinearAlgebraError, .notPositiveDefinite(order: 2)) }
    }

    /// Σ_prior with unit diagonal blocks and a cross block, as CoVAE's prior (D = 3: blocks of 1 and 2).
    var correlatedPrior: [[Double]] { [[1, 0.6, -0.3], [0.6, 1, 0], [-0.3, 0, 1]] }

    func testKLEqualsTheGenericGaussianKLAndMonteCarlo() throws {
        let rows = 4, jitter: Float = 0.01
        let l = randomFactor(rows: rows, seed: 11), mu = uniform(rows, d, seed: 12)
        let sp = correlatedPrior
        let spm = Matrix(rows: d, cols: d, sp.flatMap { $0.map(Float.init) })
        let precision = try spm.inverse()
        let logDetPrior = log(try GaussianKL.cholesky(sp).enumerated().reduce(1.0) { $0 * $1.element[$1.offset] * $1.element[$1.offset] })
        let tape = Tape()
        let q = FullCovarianceGaussian(mean: tape.constant(mu), factor: tape.constant(l), jitter: jitter)
        let kl = tape.value(
            try q.klDivergence(priorPrecision: tape.constant(precision), priorLogDet: tape.scalar(Float(logDetPrior)), tape: tape))
        for r in 0..<rows {
            var cov = [[Double]](repeating: [Double](repeating: 0, count: d), count: d)
            for i in 0..<d {
                for j in 0..<d {
                    for k in 0..<d { cov[i][j] += Double(l[r, i * d + k]) * Double(l[r, j * d + k]) }
                    if i == j { cov[i][j] += Double(jitter) }
                }
            }
            let mean = (0..<d).map { Double(mu[r, $0]) }
            let exact = try GaussianKL.full(meanQ: mean, covQ: cov, meanP: [0, 0, 0], covP: sp)
            XCTAssertEqual(Double(kl[r, 0]), exact, accuracy: 1e-4 * max(1, exact), "row \(r): closed form vs generic Gaussian KL")
            // Monte Carlo: E_q[ln q(z) − ln p(z)] over draws from the sampler, within 4 standard errors.
            let n = 20_000
            let t = Tape()
            let mrows = Matrix(rows: n, cols: d, (0..<n).flatMap { _ in (0..<d).map { mu[r, $0] } })
            let lrows = Matrix(rows: n, cols: d * d, (0..<n).flatMap { _ in (0..<(d * d)).map { l[r, $0] } })
            let z = t.value(
                FullCovarianceGaussian(mean: t.constant(mrows), factor: t.constant(lrows), jitter: jitter)
                    .sample(
                        noise: t.constant(Matrix.randomNormal(rows: n, cols: d, seed: 100 + UInt64(r))),
                        jitterNoise: t.constant(Matrix.randomNormal(rows: n, cols: d, seed: 200 + UInt64(r))), tape: t))
            let lq = try GaussianKL.cholesky(cov), lp = try GaussianKL.cholesky(sp)
            func logDensity(_ x: [Double], _ chol: [[Double]]) -> Double {
                let y = GaussianKL.forwardSolve(chol, x)
                let half = (0..<d).reduce(0.0) { $0 + log(chol[$1][$1]) }
                return -0.5 * y.reduce(0) { $0 + $1 * $1 } - half - 0.5 * Double(d) * log(2 * Double.pi)
            }
            var sum = 0.0, squares = 0.0
            for s in 0..<n {
                let x = (0..<d).map { Double(z[s, $0]) }
                let v = logDensity((0..<d).map { x[$0] - mean[$0] }, lq) - logDensity(x, lp)
                sum += v; squares += v * v
            }
            let estimate = sum / Double(n), se = ((squares / Double(n) - estimate * estimate) / Double(n)).squareRoot()
            XCTAssertEqual(estimate, exact, accuracy: 4 * se, "row \(r): Monte Carlo \(estimate) ± \(se) vs \(exact)")
            // The sampler's covariance is L Lᵀ + εI (within sampling error).
            for i in 0..<d {
                for j in 0...i {
                    var c = 0.0
                    for s in 0..<n { c += (Double(z[s, i]) - mean[i]) * (Double(z[s, j]) - mean[j]) }
                    c /= Double(n)
                    let sd = ((cov[i][i] * cov[j][j] + cov[i][j] * cov[i][j]) / Double(n)).squareRoot()
                    XCTAssertEqual(c, cov[i][j], accuracy: 4.5 * sd, "row \(r): sample covariance [\(i), \(j)]")
                }
            }
        }
    }
}
