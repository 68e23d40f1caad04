import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The Hungarian assignment, CCA, and the strong and weak mean correlation coefficients.
final class LinearGaussianMCCTests: XCTestCase {
    private func randomWeights(_ r: Int, _ c: Int, _ rng: inout RandomStream) -> [[Double]] {
        (0..<r).map { _ in (0..<c).map { _ in Double(rng.nextUniform()) * 10 - 5 } }
    }

    /// The best total over every injective map rows → columns (r ≤ c), by enumeration.
    private func bruteForceMaximum(_ w: [[Double]]) -> Double {
        let c = w[0].count
        var best = -Double.infinity
        var used = [Bool](repeating: false, count: c)
        func go(_ row: Int, _ sum: Double) {
            if row == w.count { best = max(best, sum); return }
            for j in 0..<c where !used[j] {
                used[j] = true
                go(row + 1, sum + w[row][j])
                used[j] = false
            }
        }
        go(0, 0)
        return best
    }

    private func check(_ w: [[Double]], file: StaticString = #filePath, line: UInt = #line) {
        let matching = LinearAssignment.maximizing(w)
        XCTAssertEqual(matching.count, min(w.count, w[0].count), file: file, line: line)
        XCTAssertEqual(Set(matching.map(\.row)).count, matching.count, "rows repeat", file: file, line: line)
        XCTAssertEqual(Set(matching.map(\.column)).count, matching.count, "columns repeat", file: file, line: line)
        let total = matching.reduce(0) { $0 + w[$1.row][$1.column] }
        let transposed = (0..<w[0].count).map { j in w.map { $0[j] } }
        let best = w.count <= w[0].count ? bruteForceMaximum(w) : bruteForceMaximum(transposed)
        XCTAssertEqual(total, best, accuracy: 1e-9, file: file, line: line)
    }

    func testHungarianMatchesBruteForce() {
        var rng = RandomStream(seed: 17, stream: 2)
        for _ in 0..<30 { check(randomWeights(5, 5, &rng)) }
        for _ in 0..<10 { check(randomWeights(3, 5, &rng)) }
        for _ in 0..<10 { check(randomWeights(5, 3, &rng)) }
        // Ties and integer weights.
        check([[1, 1, 1], [1, 1, 1], [1, 1, 1]])
        check([[4, 1, 3], [2, 0, 5], [3, 2, 2]])
        // Minimizing is maximizing the negation.
        let w = randomWeights(4, 4, &rng)
        let low = LinearAssignment.minimizing(w).reduce(0) { $0 + w[$1.row][$1.column] }
        XCTAssertEqual(-low, bruteForceMaximum(w.map { $0.map { -$0 } }), accuracy: 1e-9)
        XCTAssertTrue(LinearAssignment.maximizing([]).isEmpty)
    }

    /// z (n × 4) and a copy with permuted columns, flipped signs, scales and shifts.
    private func latents(n: Int = 2000) -> (z: Matrix, copy: Matrix) {
        let z = Matrix.randomNormal(rows: n, cols: 4, seed: 8, stream: 1)
        let permutation = [2, 0, 3, 1], sign: [Float] = [-1, 1, -2, 0.5], shift: [Float] = [3, -1, 0, 7]
        var copy = Matrix(rows: n, cols: 4)
        for i in 0..<n { for j in 0..<4 { copy[i, j] = sign[j] * z[i, permutation[j]] + shift[j] } }
        return (z, copy)
    }

    func testStrongMCCIsOneForAPermutedSignFlippedCopy() {
        let (z, copy) = latents()
        XCTAssertEqual(MeanCorrelationCoefficient.strong(z, copy), 1, accuracy: 1e-6)
        // Extra inferred dimensions: the matching picks the four copies.
        let noise = Matrix.randomNormal(rows: 2000, cols: 2, seed: 8, stream: 3)
        var wider = Matrix(rows: 2000, cols: 6)
        for i in 0..<2000 {
            for j in 0..<2 { wider[i, j] = noise[i, j] }
            for j in 0..<4 { wider[i, 2 + j] = copy[i, j] }
        }
        XCTAssertEqual(MeanCorrelationCoefficient.strong(z, wider), 1, accuracy: 1e-6)
    }

    func testMCCIsNearZeroForIndependentNoise() throws {
        let (z, _) = latents()
        let noise = Matrix.randomNormal(rows: 2000, cols: 4, seed: 99, stream: 4)
        XCTAssertLessThan(MeanCorrelationCoefficient.strong(z, noise), 0.1)
        XCTAssertLessThan(try MeanCorrelationCoefficient.weak(z, noise), 0.15)
    }

    /// An invertible linear mix of z: the strong MCC is below one, the weak (after CCA) is one.
    func testWeakMCCUndoesAnAffineMap() throws {
        let (z, _) = latents()
        let mix = Matrix([[1, 0.8, 0, 0], [0.5, 1, 0.3, 0], [0, -0.7, 1, 0.4], [0.2, 0, -0.6, 1]])
        var mixed = z.matmul(mix)
        for i in 0..<mixed.rows { mixed[i, 1] += 5 }
        XCTAssertLessThan(MeanCorrelationCoefficient.strong(z, mixed), 0.95)
        XCTAssertEqual(try MeanCorrelationCoefficient.weak(z, mixed), 1, accuracy: 1e-5)
    }

    func testCanonicalVariatesAreWhitenedAndPairwiseCorrelated() throws {
        let (z, _) = latents(n: 1000)
        let y0 = Matrix.randomNormal(rows: 1000, cols: 3, seed: 2, stream: 5)
        var y = y0
        for i in 0..<1000 { y[i, 0] += z[i, 1]; y[i, 2] += 0.3 * z[i, 3] - z[i, 0] }
        let cca = try CanonicalCorrelationAnalysis(fitting: z, y)
        XCTAssertEqual(cca.componentCount, 3)
        XCTAssertEqual(cca.correlations, cca.correlations.sorted(by: >))
        let (u, v) = cca.transform(z, y)
        let uu = DoubleMatrix(u).matmul(DoubleMatrix(u), transposeSelf: true)
        let vv = DoubleMatrix(v).matmul(DoubleMatrix(v), transposeSelf: true)
        let uv = DoubleMatrix(u).matmul(DoubleMatrix(v), transposeSelf: true)
        for a in 0..<3 {
            for b in 0..<3 {
                XCTAssertEqual(uu[a, b] / 1000, a == b ? 1 : 0, accuracy: 1e-4)
                XCTAssertEqual(vv[a, b] / 1000, a == b ? 1 : 0, accuracy: 1e-4)
                XCTAssertEqual(uv[a, b] / 1000, a == b ? cca.correlations[a] : 0, accuracy: 1e-4)
            }
        }
        let weak = try MeanCorrelationCoefficient.weak(z, y)
        XCTAssertEqual(weak, cca.correlations.reduce(0, +) / 3, accuracy: 1e-5)
    }

    /// The exact posterior mean of the generator's model: with W_sᵀ W_s = I, E[z | x] = (a z + η)/(1 + a)
    /// with a = K/σ² and η ~ N(0, a I), so every coordinate correlates sqrt(a / (1 + a)) with z.
    func testPosteriorMeanOfTheTrueModelScoresItsTheoreticalMCC() throws {
        let data = try LinearGaussianData(
            .init(
                modalityCount: 3, latentDimension: 3, dimensions: [6, 7, 8],
                sampleCount: 3000, noiseVariance: 0.5, seed: 2))
        let (mean, _) = try data.model.posterior(data.views, given: [0, 1, 2])
        let expected = (6.0 / 7.0).squareRoot()
        XCTAssertEqual(MeanCorrelationCoefficient.strong(data.latents, mean), expected, accuracy: 0.02)
        XCTAssertEqual(try MeanCorrelationCoefficient.weak(data.latents, mean), expected, accuracy: 0.02)
    }
}
