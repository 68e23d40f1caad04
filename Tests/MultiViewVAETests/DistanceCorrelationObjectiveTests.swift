import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// CoVAE's distance-correlation pre-training objective: its value is Székely's dCor² computed directly,
/// weights leave rows out exactly, it sees a dependence that correlation misses, and its VJP is right.
final class DistanceCorrelationObjectiveTests: XCTestCase {
    /// dCor² from the definition, in double precision.
    func reference(_ x: Matrix, _ y: Matrix) -> Double {
        let n = x.rows
        func centred(_ z: Matrix) -> [[Double]] {
            var d = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
            for i in 0..<n {
                for j in 0..<n {
                    var s = 0.0
                    for c in 0..<z.cols { let t = Double(z[i, c]) - Double(z[j, c]); s += t * t }
                    d[i][j] = s.squareRoot()
                }
            }
            let rows = d.map { $0.reduce(0, +) / Double(n) }, grand = rows.reduce(0, +) / Double(n)
            return (0..<n).map { i in (0..<n).map { j in d[i][j] - rows[i] - rows[j] + grand } }
        }
        let a = centred(x), b = centred(y)
        func m(_ u: [[Double]], _ v: [[Double]]) -> Double {
            (0..<n).reduce(0.0) { t, i in t + (0..<n).reduce(0.0) { $0 + u[i][$1] * v[i][$1] } } / Double(n * n)
        }
        return m(a, b) / (m(a, a) * m(b, b)).squareRoot()
    }

    func value(_ x: Matrix, _ y: Matrix, weights: Matrix? = nil) throws -> Double {
        let tape = Tape()
        return Double(
            tape.item(
                try DistanceCorrelationObjective.squared(
                    tape.constant(x), tape.constant(y), weights: weights.map { tape.constant($0) }, tape: tape
                ).objective))
    }

    func testMatchesTheDefinitionAndWeightsLeaveRowsOut() throws {
        let x = Matrix.randomNormal(rows: 30, cols: 3, seed: 1)
        var y = Matrix.randomNormal(rows: 30, cols: 2, seed: 2)
        for r in 0..<30 { y[r, 0] += x[r, 0] }
        XCTAssertEqual(try value(x, y), reference(x, y), accuracy: 1e-4)
        // Rows of weight 0 are out: the same as the objective on the other rows.
        var w = Matrix(rows: 30, cols: 1, repeating: 1)
        for r in stride(from: 0, to: 30, by: 3) { w[r, 0] = 0 }
        let kept = (0..<30).filter { $0 % 3 != 0 }
        func rows(_ m: Matrix) -> Matrix { Matrix(rows: kept.count, cols: m.cols, kept.flatMap { r in (0..<m.cols).map { m[r, $0] } }) }
        XCTAssertEqual(try value(x, y, weights: w), reference(rows(x), rows(y)), accuracy: 1e-4)
    }

    func testSeesDependenceThatCorrelationMisses() throws {
        let n = 400
        let x = Matrix.randomNormal(rows: n, cols: 1, seed: 3), noise = Matrix.randomNormal(rows: n, cols: 1, seed: 4)
        var square = Matrix(rows: n, cols: 1)
        for r in 0..<n { square[r, 0] = x[r, 0] * x[r, 0] }
        let pearson = try CanonicalCorrelationAnalysis(fitting: x, square).correlations[0]
        XCTAssertLessThan(pearson, 0.2, "x and x² are nearly uncorrelated")
        XCTAssertGreaterThan(try value(x, square), 0.2, "but clearly dependent")
        XCTAssertLessThan(try value(x, noise), 0.02, "independent: dCor² near 0")
    }

    func testGradient() throws {
        // ×100: the objective lies in [0, 1] and its gradients are small; scaled, an error in the VJP of
        // a few per cent is far outside the tolerance.
        GradientCheck([Matrix.randomNormal(rows: 7, cols: 2, seed: 5), Matrix.randomNormal(rows: 7, cols: 3, seed: 6)]).run(
            "distance correlation"
        ) { t, v in
            let x = t.add(v[1], t.matmul(v[0], t.constant(Matrix(rows: 2, cols: 3, [1, 0.5, 0, 0, 1, 0.3]))))
            return t.scale(try DistanceCorrelationObjective.squared(v[0], x, tape: t).objective, 100)
        }
    }
}
