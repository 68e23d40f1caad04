import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The trainer's recipes, on the two-stage `StagedProbe`: stage `encoder` trains an autoencoder and
/// ends with per-feature statistics over the training split; stage `head` freezes it, restarts Adam
/// and trains a linear head on the standardised features.
final class StagedTrainingTests: XCTestCase {
    static let yaml = """
        name: staged
        seed: 9
        data: {source: fashion-mnist, imageViews: top-bottom, validationSize: 100, trainLimit: 240, testLimit: 50}
        model: {type: stagedProbe, latent: 4, encoderHidden: [16], decoderHidden: [16]}
        training: {batchSize: 24, learningRate: 0.003, validate: false, logEvery: 1000, stages: {encoder: {epochs: 2},
                   head: {epochs: 2, learningRate: 0.01}}}
        """

    typealias Run = ModelRun<StagedProbe>

    func testStagesFreezeRestartAdamAndSetTheStatisticFromTheWholeTrainingSplit() throws {
        let run = try Run(yaml: Self.yaml)
        let arena = run.model.arena
        let encoder = try XCTUnwrap(arena.range(ofGroups: ["encoder"])), head = try XCTUnwrap(arena.range(ofGroups: ["head"]))
        XCTAssertEqual(run.trainer.stages.map(\.name), ["encoder", "head"])
        XCTAssertEqual(run.trainer.stages.map(\.epochs), [2, 2])
        XCTAssertEqual(run.trainer.stages.map(\.learningRate), [0.003, 0.01])
        XCTAssertEqual(run.trainer.totalSteps, 40)
        let headBefore = run.values(head)
        var encoderAtBoundary: [Float] = [], headAtBoundary: [Float] = [], adamAtBoundary: (step: Int, moments: Float) = (-1, -1)
        var summaries: [EpochSummary] = [], started: [String] = []
        run.trainer.observer = { event in
            switch event {
            case let .stageStarted(name, index, _, _, _, restarts):
                started.append(name)
                if index == 1 {
                    XCTAssertTrue(restarts)
                    encoderAtBoundary = run.values(encoder)
                    headAtBoundary = run.values(head)
                    adamAtBoundary = (run.trainer.optimizer.step, run.moments.map(abs).max() ?? -1)
                }
            case let .epochFinished(s): summaries.append(s)
            default: break
            }
        }
        XCTAssertEqual(try run.trainer.run(), .completed)
        XCTAssertEqual(started, ["encoder", "head"])
        // Stage A trained the encoder only: the head kept its initial values.
        XCTAssertNotEqual(encoderAtBoundary, [])
        XCTAssertEqual(headAtBoundary, headBefore)
        // Adam restarted at the boundary: step 0, every moment 0; then counts stage B's 20 steps only.
        XCTAssertEqual(adamAtBoundary.step, 0)
        XCTAssertEqual(adamAtBoundary.moments, 0)
        XCTAssertEqual(run.trainer.optimizer.step, 20)
        // Stage B froze the encoder: bit for bit, and its moments stayed at zero.
        XCTAssertEqual(run.values(encoder), encoderAtBoundary)
        let m = run.moments
        XCTAssertTrue(encoder.allSatisfy { m[$0] == 0 && m[arena.count + $0] == 0 })
        XCTAssertNotEqual(run.values(head), headBefore, "stage B trains the head")
        // Metrics name the stage and count epochs within it; each stage's loss falls.
        XCTAssertEqual(summaries.map(\.stage), ["encoder", "encoder", "head", "head"])
        XCTAssertEqual(summaries.map(\.stageEpoch), [1, 2, 1, 2])
        XCTAssertEqual(summaries.map(\.epoch), [1, 2, 3, 4])
        XCTAssertLessThan(summaries[1].trainLoss, summaries[0].trainLoss)
        XCTAssertLessThan(summaries[3].trainLoss, summaries[2].trainLoss)
        // The statistic: mean and 1/sd of each feature of f(x₁) over every training row, recomputed here in Double.
        let n = run.model.features
        var sum = [Double](repeating: 0, count: n), square = sum
        let tape = Tape()
        let rows = run.data.train.count
        let batch = Batch(dimensions: run.data.dimensions, capacity: rows, hasMask: false)
        Array(0..<rows).withUnsafeBufferPointer { run.data.train.gather(view: 0, positions: $0, into: batch.views[0]) }
        let x = tape.input(rows: rows, cols: run.data.dimensions[0]) {
            $0.update(from: batch.views[0], count: rows * run.data.dimensions[0])
        }
        let h = tape.value(run.model.encoder(x, tape: tape, arena: arena))
        for r in 0..<rows { for j in 0..<n { sum[j] += Double(h[r, j]); square[j] += Double(h[r, j]) * Double(h[r, j]) } }
        let mean = arena.value(run.model.mean).storage, inverse = arena.value(run.model.inverseDeviation).storage
        for j in 0..<n {
            let mu = sum[j] / Double(rows), sd = (square[j] / Double(rows) - mu * mu + 1e-6).squareRoot()
            XCTAssertEqual(Double(mean[j]), mu, accuracy: 1e-5 * max(1, abs(mu)), "feature \(j) mean")
            XCTAssertEqual(Double(inverse[j]), 1 / sd, accuracy: 1e-4 / sd, "feature \(j) 1/sd")
        }
        XCTAssertTrue(inverse.contains { $0 != 1 }, "the statistic was set")
    }

    /// Stopping after `stop` steps, saving, and resuming in a fresh trainer ends bit-identical to an
    /// uninterrupted run: mid-stage A, exactly at the boundary, and mid-stage B.
    func testResumeMidStageAndAtTheBoundaryIsBitIdentical() throws {
        let whole = try Run(yaml: Self.yaml)
        XCTAssertEqual(try whole.trainer.run(), .completed)
        for stop in [7, 20, 33] {
            let dir = try temporaryFolder(self)
            let first = try Run(yaml: Self.yaml)
            XCTAssertEqual(try first.trainer.run(shouldStop: { first.trainer.state.step + 1 >= stop }), .stopped(step: stop))
            let path = try Checkpoint.save(first.trainer, run: dir, keep: 2)
            let loaded = try Checkpoint.load(path)
            XCTAssertEqual(loaded.state.stage, stop <= 20 ? "encoder" : "head", "checkpoint at step \(stop) names its stage")
            let second = try Run(yaml: Self.yaml)
            try Checkpoint.restore(loaded, into: second.trainer)
            XCTAssertEqual(second.trainer.state.stage, stop <= 20 ? 0 : 1)
            XCTAssertEqual(try second.trainer.run(), .completed)
            XCTAssertEqual(second.all, whole.all, "resumed at step \(stop): parameters differ")
            XCTAssertEqual(second.moments, whole.moments, "resumed at step \(stop): Adam moments differ")
            XCTAssertEqual(second.trainer.optimizer.step, whole.trainer.optimizer.step)
        }
    }

    func testResumeRefusesToShortenOrChangeAFinishedStageAndMayLengthenTheCurrentOne() throws {
        let dir = try temporaryFolder(self)
        let first = try Run(yaml: Self.yaml)
        _ = try first.trainer.run(shouldStop: { first.trainer.state.step + 1 >= 33 })  // mid-stage B, epoch 3 of 4
        let loaded = try Checkpoint.load(try Checkpoint.save(first.trainer, run: dir, keep: 2))
        for (override, message) in [
            ("training.stages.encoder.epochs=3", "the finished stage 'encoder' ran 2 epoch(s)"),
            ("training.stages.head.epochs=1", "stage 'head' has already run into epoch 2"),
        ] {
            let other = try Run(yaml: Self.yaml, overrides: [override])
            XCTAssertThrowsError(try Checkpoint.restore(loaded, into: other.trainer), override) {
                XCTAssertTrue("\($0)".contains(message), "\(override): \($0)")
            }
        }
        let longer = try Run(yaml: Self.yaml, overrides: ["training.stages.head.epochs=3"])
        try Checkpoint.restore(loaded, into: longer.trainer)
        XCTAssertEqual(try longer.trainer.run(), .completed)
        XCTAssertEqual(longer.trainer.state.step, 50)
        XCTAssertEqual(longer.trainer.optimizer.step, 30)
    }

    func testSingleStageModelsAreOneStageOverEveryParameter() throws {
        let run = try TinyRun()
        XCTAssertEqual(
            run.trainer.stages,
            [
                TrainingStage(
                    name: "train", epochs: 3, trainable: 0..<run.model.arena.count, restartsOptimizer: false,
                    learningRate: 0.003, warmupSteps: 0)
            ])
        XCTAssertThrowsError(try TinyRun(["training.stages.head.epochs=2"])) {
            XCTAssertTrue("\($0)".contains("there is no stage 'head'"), "\($0)")
        }
    }
}
