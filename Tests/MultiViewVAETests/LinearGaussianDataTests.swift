import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The App. J generator: determinism, the QR loadings, the drawn dimensions, the private-latent layout.
final class LinearGaussianDataTests: XCTestCase {
    private let small = LinearGaussianData.Configuration(
        modalityCount: 3, latentDimension: 3, dimensions: [8, 6, 7], sampleCount: 200, noiseVariance: 0.5, seed: 11)

    func testSameSeedSameDataOtherSeedOtherData() throws {
        let a = try LinearGaussianData(small)
        let b = try LinearGaussianData(small)
        XCTAssertEqual(a.views, b.views)
        XCTAssertEqual(a.latents, b.latents)
        XCTAssertEqual(a.model.loadings, b.model.loadings)
        XCTAssertEqual(a.model.biases, b.model.biases)

        var other = small
        other.seed = 12
        let c = try LinearGaussianData(other)
        XCTAssertNotEqual(a.views[0], c.views[0])
        XCTAssertNotEqual(a.model.loadings[0], c.model.loadings[0])

        XCTAssertEqual(a.dataset.viewCount, 3)
        XCTAssertEqual(a.dataset.dimensions, [8, 6, 7])
        XCTAssertEqual(a.dataset.count, 200)
        XCTAssertEqual(a.dataset.names, ["view1", "view2", "view3"])
        XCTAssertEqual(a.latents.rows, 200)
        XCTAssertEqual(a.latents.cols, 3)
        XCTAssertEqual(
            a.model.noiseVariances,
            [
                [Double](repeating: 0.5, count: 8), [Double](repeating: 0.5, count: 6),
                [Double](repeating: 0.5, count: 7),
            ])
    }

    /// Parameters do not depend on n, and the first rows of z and x are the same for a larger n.
    func testParametersAndLeadingRowsDoNotDependOnSampleCount() throws {
        var larger = small
        larger.sampleCount = 300
        let a = try LinearGaussianData(small)
        let b = try LinearGaussianData(larger)
        XCTAssertEqual(a.model.loadings, b.model.loadings)
        XCTAssertEqual(a.model.biases, b.model.biases)
        XCTAssertEqual(a.latents, b.latents.rows(0..<200))
        for s in 0..<3 { XCTAssertEqual(a.views[s], b.views[s].rows(0..<200)) }
    }

    /// W_s is the Q of A_s = Q R with A_s the modality's U(−1, 1) matrix and R upper triangular with a
    /// positive diagonal; hence W_sᵀ W_s = I.
    func testLoadingsAreOrthonormalQFactorsOfUniformMatrices() throws {
        let data = try LinearGaussianData(small)
        for (s, d) in [8, 6, 7].enumerated() {
            let w = DoubleMatrix(data.model.loadings[s])
            XCTAssertLessThan(w.matmul(w, transposeSelf: true).maxAbsDifference(.identity(3)), 1e-6, "WᵀW, modality \(s)")
            let a = LinearGaussianData.uniformMatrix(seed: 11, modality: s, rows: d, cols: 3)
            XCTAssertTrue(a.storage.allSatisfy { $0 > -1 && $0 < 1 })
            let r = w.matmul(a, transposeSelf: true)  // = R when A = W R
            for i in 0..<3 {
                XCTAssertGreaterThan(r[i, i], 0, "R diagonal, modality \(s)")
                for j in 0..<i { XCTAssertEqual(r[i, j], 0, accuracy: 1e-6, "R below the diagonal, modality \(s)") }
            }
            XCTAssertLessThan(w.matmul(r).maxAbsDifference(a), 1e-6, "Q R = A, modality \(s)")
        }
    }

    func testDrawnDimensionsLieInTheRangeAndAreDeterministic() throws {
        let config = LinearGaussianData.Configuration(modalityCount: 5, latentDimension: 2, sampleCount: 3, seed: 5)
        let a = try LinearGaussianData(config)
        let b = try LinearGaussianData(config)
        XCTAssertEqual(a.dimensions, b.dimensions)
        XCTAssertTrue(a.dimensions.allSatisfy { (30..<60).contains($0) }, "\(a.dimensions)")
        var draws = Set<Int>()
        for seed in 0..<20 {
            var c = config
            c.seed = UInt64(seed)
            c.modalityCount = 1
            draws.insert(try LinearGaussianData(c).dimensions[0])
        }
        XCTAssertGreaterThan(draws.count, 5, "dimensions should vary with the seed: \(draws)")
    }

    func testSampleMeanApproachesTheBias() throws {
        var config = small
        config.sampleCount = 4000
        let data = try LinearGaussianData(config)
        for s in 0..<3 {
            let x = data.views[s]
            for j in 0..<x.cols {
                var m = 0.0
                for i in 0..<x.rows { m += Double(x[i, j]) }
                m /= Double(x.rows)
                // Var x_j = ‖row j of W_s‖² + σ² ≤ 1.5; five standard errors.
                XCTAssertEqual(m, Double(data.model.biases[s][j]), accuracy: 5 * (1.5 / 4000).squareRoot())
            }
        }
    }

    /// With private latents W_s = [0 … Q_s[:, :d_z] (block s) … 0 | Q_s[:, d_z:]] and Q_s orthonormal.
    func testPrivateLatentLoadingsHaveTheBlockLayout() throws {
        var config = small
        config.privateLatents = true
        let data = try LinearGaussianData(config)
        let dz = 3, k = 3
        XCTAssertEqual(data.latents.cols, dz * (k + 1))
        for s in 0..<k {
            let w = data.model.loadings[s]
            XCTAssertEqual(w.cols, dz * (k + 1))
            let used = Array(s * dz..<(s + 1) * dz) + Array(k * dz..<(k + 1) * dz)
            for col in 0..<w.cols where !used.contains(col) {
                XCTAssertTrue((0..<w.rows).allSatisfy { w[$0, col] == 0 }, "column \(col) of W_\(s) should be zero")
            }
            let q = DoubleMatrix(w).selecting(rows: Array(0..<w.rows), cols: used)
            XCTAssertLessThan(q.matmul(q, transposeSelf: true).maxAbsDifference(.identity(2 * dz)), 1e-6)
            let a = LinearGaussianData.uniformMatrix(seed: 11, modality: s, rows: w.rows, cols: 2 * dz)
            XCTAssertLessThan(q.matmul(q.matmul(a, transposeSelf: true)).maxAbsDifference(a), 1e-6, "Q Qᵀ A = A")
        }
    }

    func testRejectsImpossibleConfigurations() {
        XCTAssertThrowsError(try LinearGaussianData(.init(modalityCount: 2, latentDimension: 4, dimensions: [5, 3])))
        XCTAssertThrowsError(
            try LinearGaussianData(
                .init(
                    modalityCount: 2, latentDimension: 3, dimensions: [5, 5],
                    privateLatents: true)))
        XCTAssertThrowsError(try LinearGaussianData(.init(modalityCount: 2, dimensions: [40])))
        XCTAssertThrowsError(try LinearGaussianData(.init(noiseVariance: 0)))
    }
}
