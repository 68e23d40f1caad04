import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Maximum-likelihood probabilistic PCA on data from a PPCA model with known parameters.
final class LinearGaussianPPCATests: XCTestCase {
    /// Two modalities of 6 features, d_z = 3, σ² = 0.5, isotropic noise: a PPCA model with D = 12.
    private func data() throws -> LinearGaussianData {
        try LinearGaussianData(
            .init(
                modalityCount: 2, latentDimension: 3, dimensions: [6, 6], sampleCount: 5000,
                noiseVariance: 0.5, seed: 4))
    }

    func testRecoversTheNoiseVarianceAndTheLowRankCovariance() throws {
        let d = try data()
        let ppca = try ProbabilisticPCA(fitting: d.views, latentDimension: 3)
        XCTAssertEqual(ppca.stackedDimension, 12)
        XCTAssertEqual(ppca.sampleCount, 5000)
        XCTAssertEqual(ppca.eigenvalues, ppca.eigenvalues.sorted(by: >))
        XCTAssertEqual(ppca.noiseVariance, 0.5, accuracy: 0.05)

        let w = d.model.stackedLoadings([0, 1])
        let wML = DoubleMatrix(rows: 12, cols: 3, ppca.stackedLoadings.flatMap { $0 })
        let difference = w.matmul(w, transposeOther: true).maxAbsDifference(wML.matmul(wML, transposeOther: true))
        XCTAssertLessThan(difference, 0.15, "W_ML W_MLᵀ vs W Wᵀ")
        for (j, b) in d.model.biases.flatMap({ $0 }).enumerated() {
            XCTAssertEqual(ppca.mean[j], Double(b), accuracy: 0.1)
        }
    }

    /// The MLE beats the true parameters on the data it was fitted to, and its closed-form
    /// log-likelihood equals the generic Cholesky evaluation of the fitted model.
    func testMaximumLikelihoodDominatesTheTrueParameters() throws {
        let d = try data()
        let ppca = try ProbabilisticPCA(fitting: d.views, latentDimension: 3)
        let mle = ppca.maximumLogLikelihood
        let evaluated = try ppca.model.logLikelihood(d.views)
        XCTAssertEqual(evaluated, mle, accuracy: 1e-5 * abs(mle))
        let truth = try d.model.logLikelihood(d.views)
        XCTAssertGreaterThanOrEqual(mle, truth)
        let gap = ProbabilisticPCA.relativeGap(modelLLH: truth, mleLLH: mle)
        XCTAssertGreaterThanOrEqual(gap, 0)
        XCTAssertLessThan(gap, 0.01, "the true model should be close to the MLE with n = 5000")

        // A different rank-3 model (other W) on the same data does worse than the MLE.
        var perturbed = d.model.loadings
        perturbed[0][0, 0] += 0.3
        let other = LinearGaussianModel(loadings: perturbed, biases: d.model.biases, noiseVariance: ppca.noiseVariance)
        XCTAssertGreaterThan(mle, try other.logLikelihood(d.views))
    }

    func testRelativeGapFormula() {
        XCTAssertEqual(ProbabilisticPCA.relativeGap(modelLLH: -110, mleLLH: -100), 0.1, accuracy: 1e-15)
        XCTAssertEqual(ProbabilisticPCA.relativeGap(modelLLH: 90, mleLLH: 100), 0.1, accuracy: 1e-15)
        XCTAssertEqual(ProbabilisticPCA.relativeGap(modelLLH: -100, mleLLH: -100), 0)
    }
}
