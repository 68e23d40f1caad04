import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class JPVAETrainingTests: XCTestCase {
    func testTinyRunImprovesTheELBOAndImputationBeatsTheTrainingMean() throws {
        for cross in ["zero", "orthogonal"] {
            let run = try TinyRun(["model.prior.cross=\(cross == "zero" ? "zero" : "scaledOrthogonal")"])
            let before = try run.trainer.evaluateLoss(run.data.validation, beta: 1)
            var epochs: [EpochSummary] = []
            run.trainer.observer = { if case let .epochFinished(s) = $0 { epochs.append(s) } }
            XCTAssertEqual(try run.trainer.run(), .completed)
            let after = try run.trainer.evaluateLoss(run.data.validation, beta: 1)
            XCTAssertEqual(epochs.count, 3)
            XCTAssertLessThan(epochs[2].trainLoss, epochs[0].trainLoss, "\(cross): training loss falls")
            // The untrained model sits near 2·392·ln 2 ≈ 543 nats of cross-entropy; a few epochs cut it by a third.
            XCTAssertLessThan(after.loss, 0.75 * before.loss, "\(cross): validation negative ELBO \(before.loss) → \(after.loss)")
            let report = try JPVAEEvaluation(model: run.model, seed: run.config.seed, config: run.config.evaluation)
                .run(train: run.data.train, test: run.data.test, classify: false)
            for k in 0..<2 {
                XCTAssertLessThan(
                    report.imputation[k], report.imputationTrainingMean[k],
                    "\(cross): imputing view \(k + 1) beats the training mean (\(report.imputation[k]) vs "
                        + "\(report.imputationTrainingMean[k]))"
                )
                XCTAssertLessThan(report.reconstruction[k], report.imputation[k], "reconstruction is easier than imputation")
            }
            XCTAssertGreaterThan(report.activeUnits, 0)
            XCTAssertLessThanOrEqual(report.activeUnits, 100)
            XCTAssertEqual(report.crossCorrelation.count, 6)
        }
    }

    func testMaskedRowTrainsItsOwnViewELBOAgainstAStandardNormal() throws {
        // A row with view 2 missing contributes exactly view 1's VAE loss; with both views, Eq. 9.
        let run = try TinyRun(["model.prior.cross=bounded"])
        randomize(run.model.arena, seed: 4, scale: 0.05)
        let d = run.data.dimensions
        let both = Batch(dimensions: d, capacity: 1, hasMask: false)
        let masked = Batch(dimensions: d, capacity: 1, hasMask: true)
        for batch in [both, masked] {
            let pos = [0]
            pos.withUnsafeBufferPointer { p in for k in 0..<2 { run.data.train.gather(view: k, positions: p, into: batch.views[k]) } }
            batch.indices[0] = 0
            batch.setRows(1, epoch: 0)
        }
        masked.mask![0] = 1; masked.mask![1] = 0
        let tape = Tape()
        let full = try run.model.loss(both, tape: tape, beta: 1, seed: 1)
        let fullKL = tape.item(full.kl)
        let t2 = Tape()
        let part = try run.model.loss(masked, tape: t2, beta: 1, seed: 1)
        // Recompute view 1 alone by hand: NLL of its decoder + KL(q₁ ‖ N(0, I)).
        let t3 = Tape()
        let v = run.model.views[0]
        let x = t3.input(rows: 1, cols: v.inputs) { $0.update(from: both.views[0], count: v.inputs) }
        let q = v.encode(x, tape: t3, arena: run.model.arena)
        let eps = t3.input(rows: 1, cols: v.latent) { both.fillNoise($0, view: 0, width: v.latent, seed: 1) }
        let nll = v.likelihood.negativeLogLikelihood(
            output: v.decode(v.sample(mean: q.mean, logVar: q.logVar, noise: eps, tape: t3), tape: t3, arena: run.model.arena),
            target: x, tape: t3, arena: run.model.arena)
        let mu = t3.value(q.mean), lv = t3.value(q.logVar)
        let ownKL = GaussianKL.diagonalToStandard(mean: mu.storage.map(Double.init), logVar: lv.storage.map(Double.init))
        XCTAssertEqual(Double(t2.item(part.reconstruction)), Double(t3.item(nll)), accuracy: 1e-3)
        XCTAssertEqual(Double(t2.item(part.kl)), ownKL, accuracy: 1e-4)
        XCTAssertNotEqual(Double(fullKL), ownKL, accuracy: 1e-4, "the joint KL differs from view 1's own")
    }

    func testTrainingWithMissingViewsRuns() throws {
        // Rows with a view missing at random still train (no NaN) and the loss falls.
        let base = try TinyRun()
        let n = base.data.train.dataset.count
        var values = [UInt8](repeating: 1, count: n * 2)
        var rng = RandomStream(seed: 9)
        for r in 0..<n where rng.nextUniform() < 0.3 { values[r * 2 + rng.nextInt(below: 2)] = 0 }
        let ds = base.data.train.dataset
        let maskedSet = try MultiViewDataset(
            views: ds.views, names: ds.names, labels: ds.labels, mask: try ViewMask(rows: n, views: 2, values: values))
        let train = DataSubset(dataset: maskedSet, indices: base.data.train.indices)
        let trainer = try Trainer(config: base.config, model: base.model, train: train, validation: nil, comm: LocalCommunicator())
        var losses: [Double] = []
        trainer.observer = { if case let .epochFinished(s) = $0 { losses.append(s.trainLoss) } }
        XCTAssertEqual(try trainer.run(), .completed)
        XCTAssertTrue(losses.allSatisfy(\.isFinite))
        XCTAssertLessThan(losses.last!, losses.first!)
    }

    /// A diverging run stops with `TrainingError.nonFinite` naming the step, instead of training on NaN.
    func testDivergingRunStopsWithNonFiniteError() throws {
        let run = try TinyRun(["training.learningRate=1e30"])
        XCTAssertThrowsError(try run.trainer.run()) { error in
            guard case let TrainingError.nonFinite(step, _)? = error as? TrainingError else {
                return XCTFail("expected TrainingError.nonFinite, got \(error)")
            }
            XCTAssertGreaterThan(step, 0)
            XCTAssertLessThan(step, run.trainer.totalSteps)
        }
    }
}
