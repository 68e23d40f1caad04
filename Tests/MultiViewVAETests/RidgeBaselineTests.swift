import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The linear yardstick: on a planted linear relation it is the closed-form ridge solution at the λ it
/// chose, recovers the relation and its noise, and on unrelated data it falls back to (nearly) the mean.
final class RidgeBaselineTests: XCTestCase {
    func planted(_ n: Int, seed: UInt64, related: Bool = true) -> (x: Matrix, y: Matrix, a: [[Float]]) {
        var rng = RandomStream(seed: seed)
        let a: [[Float]] = [[1, -2, 0.5], [0, 1, 1], [3, 0, -1], [0.5, 0.5, 0.5], [-1, 2, 0]]
        var x = Matrix(rows: n, cols: 5), y = Matrix(rows: n, cols: 3)
        for r in 0..<n {
            for c in 0..<5 { x[r, c] = rng.nextNormal() + 2 }
            for j in 0..<3 {
                var v: Float = related ? 4 : 0  // an intercept too
                if related { for c in 0..<5 { v += (x[r, c] - 2) * a[c][j] } }
                y[r, j] = v + 0.1 * rng.nextNormal()
            }
        }
        return (x, y, a)
    }

    /// (XcᵀXc + λ n I)⁻¹ XcᵀYc by Gauss–Jordan elimination in Double, independent of the code under test.
    func closedForm(_ x: Matrix, _ y: Matrix, penalty: Double) -> [[Double]] {
        let n = x.rows, p = x.cols, q = y.cols
        let mx = (0..<p).map { c in (0..<n).reduce(0.0) { $0 + Double(x[$1, c]) } / Double(n) }
        let my = (0..<q).map { c in (0..<n).reduce(0.0) { $0 + Double(y[$1, c]) } / Double(n) }
        var aug = [[Double]](repeating: [Double](repeating: 0, count: p + q), count: p)
        for i in 0..<p {
            for j in 0..<p { aug[i][j] = (0..<n).reduce(0.0) { $0 + (Double(x[$1, i]) - mx[i]) * (Double(x[$1, j]) - mx[j]) } }
            aug[i][i] += penalty * Double(n)
            for j in 0..<q { aug[i][p + j] = (0..<n).reduce(0.0) { $0 + (Double(x[$1, i]) - mx[i]) * (Double(y[$1, j]) - my[j]) } }
        }
        for i in 0..<p {
            let pivot = aug[i][i]
            for j in 0..<(p + q) { aug[i][j] /= pivot }
            for k in 0..<p where k != i {
                let f = aug[k][i]
                for j in 0..<(p + q) { aug[k][j] -= f * aug[i][j] }
            }
        }
        return aug.map { Array($0[p...]) }
    }

    func testPlantedLinearRelation() throws {
        let train = planted(400, seed: 1), valid = planted(100, seed: 2), test = planted(200, seed: 3)
        let ridge = try RidgeBaseline(x: train.x, y: train.y, validation: (valid.x, valid.y))
        XCTAssertLessThanOrEqual(ridge.penalty, 1e-2, "little shrinkage pays on a relation this clean")
        let w = closedForm(train.x, train.y, penalty: ridge.penalty)
        // Predictions equal the closed form's; the weights recover the planted relation, σ² its noise.
        let p = ridge.predict(test.x)
        let my = (0..<3).map { c in (0..<400).reduce(0.0) { $0 + Double(train.y[$1, c]) } / 400 }
        let mx = (0..<5).map { c in (0..<400).reduce(0.0) { $0 + Double(train.x[$1, c]) } / 400 }
        for r in 0..<5 {
            for j in 0..<3 {
                let direct = my[j] + (0..<5).reduce(0.0) { $0 + (Double(test.x[r, $1]) - mx[$1]) * w[$1][j] }
                XCTAssertEqual(Double(p[r, j]), direct, accuracy: 1e-4)
            }
        }
        for c in 0..<5 { for j in 0..<3 { XCTAssertEqual(w[c][j], Double(train.a[c][j]), accuracy: 0.02) } }
        for v in ridge.residualVariance { XCTAssertEqual(v, 0.01, accuracy: 0.002) }
        XCTAssertEqual(ridge.meanSquaredError(test.x, truth: test.y), 0.01, accuracy: 0.002)
        // The Gaussian score is the closed form under N(Ŷ, σ²): ≈ 3 (½ log 2π·0.01 + ½) per row.
        let nll = ridge.negativeLogLikelihood(test.x, truth: test.y, kind: .gaussian)
        XCTAssertEqual(nll.reduce(0, +) / 200, 3 * (0.5 * Foundation.log(2 * Double.pi * 0.01) + 0.5), accuracy: 0.15)
    }

    func testUnrelatedViewsShrinkToTheMean() throws {
        let train = planted(300, seed: 4, related: false), test = planted(2000, seed: 5, related: false)
        let ridge = try RidgeBaseline(x: train.x, y: train.y)  // λ chosen on a held-out tenth
        // Nothing to learn: it does (almost) no worse than predicting the training mean.
        let mean = (0..<3).map { c in (0..<300).reduce(Float(0)) { $0 + train.y[$1, c] } / 300 }
        let meanError =
            (0..<test.y.rows).reduce(0.0) { acc, r in
                acc + (0..<3).reduce(0.0) { $0 + Double((test.y[r, $1] - mean[$1]) * (test.y[r, $1] - mean[$1])) }
            } / Double(test.y.count)
        XCTAssertLessThan(ridge.meanSquaredError(test.x, truth: test.y), 1.05 * meanError)
        XCTAssertThrowsError(try RidgeBaseline(x: Matrix(rows: 1, cols: 2), y: Matrix(rows: 1, cols: 1)))
    }
}
