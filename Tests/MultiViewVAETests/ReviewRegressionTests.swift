import CKernels
import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Bad or unusual input that once trapped or gave wrong figures.
final class ReviewRegressionTests: XCTestCase {
    func testZeroSizedNodesDoNotTrap() {
        let tape = Tape()
        let empty = tape.constant(Matrix(rows: 3, cols: 0))
        let sum = tape.sum(empty)
        XCTAssertEqual(tape.item(sum), 0)
        let x = tape.variable(Matrix(rows: 0, cols: 2))
        tape.backward(tape.sum(tape.square(x)))
    }

    func testAViewWithoutFeaturesIsRejected() {
        XCTAssertThrowsError(try MultiViewDataset(views: [.matrix(Matrix(rows: 4, cols: 2)), .matrix(Matrix(rows: 4, cols: 0))])) {
            guard case DataError.emptyView = $0 else { return XCTFail("\($0)") }
        }
    }

    func testVectorExpEdges() {
        for portable in [Int32(0), 1] {
            mvvae_kernels_force_portable(portable)
            defer { mvvae_kernels_force_portable(0) }
            var x = [Float](repeating: 0, count: 16)
            x[0] = .nan; x[1] = -.infinity; x[2] = 88.7; x[3] = 88.3; x[4] = -100
            var y = [Float](repeating: 1, count: 16)
            mvvae_exp(x, &y, 16)
            XCTAssertTrue(y[0].isNaN, "NaN passes through")
            XCTAssertEqual(y[1], 0)
            XCTAssertTrue(y[2].isFinite && y[2] > 1e38, "clamped below the overflow, not inf")
            XCTAssertEqual(y[3], Foundation.exp(88.3), accuracy: Foundation.exp(88.3) * 1e-6)
            XCTAssertEqual(y[4], 0)
        }
    }

    func testCheckpointRetentionAndRollback() throws {
        let dir = try temporaryFolder(self)
        let run = try TinyRun(["training.epochs=3"])
        run.trainer.checkpointer = { t in try Checkpoint.save(t, run: dir, keep: 3) }
        _ = try run.trainer.run()
        let all = Checkpoint.list(run: dir)
        XCTAssertEqual(all.compactMap(Checkpoint.stepNumber), [15, 30, 45])
        // Roll back to step 15: later checkpoints move aside, out of reach of --resume auto.
        let moved = try Checkpoint.abandon(after: 15, run: dir)
        XCTAssertEqual(moved.count, 2)
        XCTAssertEqual(Checkpoint.list(run: dir).compactMap(Checkpoint.stepNumber), [15])
        // Saving the same step again keeps a valid checkpoint there; keep = 1 never deletes the new one.
        let again = try TinyRun(["training.epochs=3"])
        try Checkpoint.restore(try Checkpoint.load(all[0]), into: again.trainer)
        try Checkpoint.save(again.trainer, run: dir, keep: 1)
        XCTAssertEqual(Checkpoint.list(run: dir).compactMap(Checkpoint.stepNumber), [15])
        XCTAssertNoThrow(try Checkpoint.load(Checkpoint.list(run: dir)[0]))
    }

    func testEvaluationUsesCompleteRowsAndAnyLabelCodes() throws {
        let base = try TinyRun(["training.epochs=1"])
        _ = try base.trainer.run()
        let ds = base.data.train.dataset
        var values = [UInt8](repeating: 1, count: ds.count * 2)
        for r in stride(from: 0, to: ds.count, by: 3) { values[r * 2 + 1] = 0 }  // every third row lacks view 2
        // Sparse label codes (0 → 1000, 9 → 9009, …) must not size the classifier by the largest code.
        let labels = ds.labels!.map { $0 * 1000 + $0 }
        let masked = try MultiViewDataset(
            views: ds.views, names: ds.names, labels: labels, mask: try ViewMask(rows: ds.count, views: 2, values: values))
        let train = DataSubset(dataset: masked, indices: base.data.train.indices)
        let test = DataSubset(dataset: masked, indices: Array(base.data.train.indices.prefix(150)))
        let report = try JPVAEEvaluation(model: base.model, seed: 1, config: base.config.evaluation).run(train: train, test: test)
        let complete = test.indices.filter { $0 % 3 != 0 }.count
        XCTAssertEqual(report.testRows, complete)
        XCTAssertNotNil(report.classification)
        XCTAssertTrue(report.imputation.allSatisfy(\.isFinite))
    }
}
