import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The evaluation's classifiers train to convergence (early stopping on a held-out tenth) and reach a
/// stated accuracy on separable toy sets.
final class ClassifierTests: XCTestCase {
    /// Three well-separated Gaussian blobs in 2-D (linearly separable), or XOR quadrants (not linearly).
    func toy(_ n: Int, xor: Bool, seed: UInt64) -> (Matrix, [Int32]) {
        var rng = RandomStream(seed: seed)
        var x = Matrix(rows: n, cols: 2), y = [Int32](repeating: 0, count: n)
        let centres: [(Float, Float)] = [(-3, 0), (3, 0), (0, 4)]
        for r in 0..<n {
            if xor {
                let a = rng.nextNormal() * 2, b = rng.nextNormal() * 2
                x[r, 0] = a; x[r, 1] = b
                y[r] = (a > 0) != (b > 0) ? 1 : 0
            } else {
                let c = r % 3
                x[r, 0] = centres[c].0 + 0.7 * rng.nextNormal(); x[r, 1] = centres[c].1 + 0.7 * rng.nextNormal()
                y[r] = Int32(c)
            }
        }
        return (x, y)
    }

    func testLogisticRegressionSeparatesBlobsAndStopsEarly() {
        let (x, y) = toy(600, xor: false, seed: 1), (tx, ty) = toy(300, xor: false, seed: 2)
        let clf = Classifier(inputs: 2, hidden: [], classes: 3, seed: 3)
        let fit = clf.fit(x, labels: y, maxEpochs: 2000, patience: 10, learningRate: 1e-2, seed: 4)
        XCTAssertGreaterThanOrEqual(clf.accuracy(tx, labels: ty), 0.98)
        XCTAssertGreaterThanOrEqual(fit.trainAccuracy, 0.98)
        XCTAssertGreaterThanOrEqual(fit.validationAccuracy, 0.95)
        XCTAssertEqual(fit.validationRows, 60)
        XCTAssertLessThan(fit.epochs, 2000, "stopped when the held-out loss stopped improving")
        XCTAssertEqual(fit.epochs - fit.bestEpoch, 10, "ran exactly `patience` epochs past the best one")
    }

    func testMLPLearnsXOR() {
        let (x, y) = toy(1000, xor: true, seed: 5), (tx, ty) = toy(400, xor: true, seed: 6)
        let linear = Classifier(inputs: 2, hidden: [], classes: 2, seed: 7)
        linear.fit(x, labels: y, maxEpochs: 300, patience: 10, learningRate: 1e-2, seed: 8)
        let mlp = Classifier(inputs: 2, hidden: [32], classes: 2, seed: 7)
        mlp.fit(x, labels: y, maxEpochs: 300, patience: 20, learningRate: 1e-2, seed: 8)
        XCTAssertLessThan(linear.accuracy(tx, labels: ty), 0.7, "XOR is not linearly separable")
        XCTAssertGreaterThanOrEqual(mlp.accuracy(tx, labels: ty), 0.93)
    }

    func testTooFewRowsToHoldOutRunEveryEpoch() {
        let (x, y) = toy(9, xor: false, seed: 9)
        let fit = Classifier(inputs: 2, hidden: [], classes: 3, seed: 1).fit(x, labels: y, maxEpochs: 7, patience: 2, seed: 2)
        XCTAssertEqual([fit.epochs, fit.bestEpoch, fit.validationRows], [7, 7, 0])
    }
}
