import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Issue 14, item 13: a step whose numbers are impossible stops the run naming the step, before anything
/// is applied — an exact KL below zero, a loss spike (with `training.spikeGuard`), a singular matrix.
final class NumericalBreakdownTests: XCTestCase {
    /// One parameter w; per row the loss is (w − 1)² plus a scripted KL (and a scripted jump).
    final class Probe: SingleStageModel {
        let arena = ParameterArena()
        let viewDimensions: [Int]
        let w: ParameterView
        var calls = 0
        var kl: (Int) -> Float = { _ in 0 }
        var jump: (Int) -> Float = { _ in 0 }
        var singularAt: Int?
        let exact: Bool

        init(dimensions: [Int], exact: Bool) {
            viewDimensions = dimensions
            self.exact = exact
            w = arena.register("w", rows: 1, cols: 1, initializer: .constant(3))
            arena.materialize(seed: 1)
        }

        func klIsExact(stage: Int) -> Bool { exact }

        func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64) throws -> LossTerms {
            defer { calls += 1 }
            if calls == singularAt { _ = try tape.inverse(tape.constant(Matrix(rows: 2, cols: 2))) }
            let ones = tape.input(rows: batch.rows, cols: 1) { $0.update(repeating: 1, count: batch.rows) }
            let recon = tape.sum(tape.mul(ones, tape.addScalar(tape.square(tape.addScalar(tape.parameter(w, in: arena), -1)), jump(calls))))
            let k = tape.scale(tape.sum(ones), kl(calls))
            return LossTerms(total: tape.add(recon, k), reconstruction: recon, kl: k)
        }
    }

    func trainer(_ model: Probe, _ overrides: [String] = []) throws -> Trainer {
        let config = try ExperimentConfig.parse(yaml: TinyRun.yaml, overrides: ["training.epochs=4"] + overrides)
        let data = try ExperimentData(config: config.data, seed: config.seed)
        return try Trainer(config: config, model: model, train: data.train, validation: nil, comm: LocalCommunicator())
    }

    func testANegativeExactKLStopsTheRunBeforeTheStep() throws {
        let probe = Probe(dimensions: [392, 392], exact: true)
        probe.kl = { $0 < 7 ? 0.5 : -4.7e4 }
        let t = try trainer(probe)
        XCTAssertThrowsError(try t.run()) { error in
            XCTAssertTrue("\(error)".contains("numerical breakdown at step 7"), "\(error)")
            XCTAssertTrue("\(error)".contains("cannot be negative"), "\(error)")
        }
        XCTAssertEqual(t.state.step, 7, "the bad step was not counted")
        // The same KL estimated by Monte Carlo may be negative: no stop.
        let mc = Probe(dimensions: [392, 392], exact: false)
        mc.kl = { $0 < 7 ? 0.5 : -0.2 }
        XCTAssertEqual(try trainer(mc).run(), .completed)
    }

    func testTheSpikeGuardStopsAJumpAndIsOffByDefault() throws {
        let probe = Probe(dimensions: [392, 392], exact: true)
        let steady = ["training.epochs=8", "training.validate=false"]  // 120 steps, one loss call each
        probe.jump = { $0 == 80 ? 1e4 : 0 }
        XCTAssertEqual(try trainer(probe, steady).run(), .completed, "off by default")
        let guarded = Probe(dimensions: [392, 392], exact: true)
        guarded.jump = { $0 == 80 ? 1e4 : 0 }
        XCTAssertThrowsError(try trainer(guarded, steady + ["training.spikeGuard=10"]).run()) { error in
            XCTAssertTrue("\(error)".contains("numerical breakdown at step 80") && "\(error)".contains("spikeGuard"), "\(error)")
        }
        XCTAssertThrowsError(try ExperimentConfig.parse(yaml: TinyRun.yaml, overrides: ["training.spikeGuard=-1"])) {
            XCTAssertTrue("\($0)".contains("training.spikeGuard"), "\($0)")
        }
    }

    func testASingularMatrixInTheLossNamesTheStep() throws {
        let probe = Probe(dimensions: [392, 392], exact: true)
        probe.singularAt = 3
        XCTAssertThrowsError(try trainer(probe).run()) { error in
            XCTAssertTrue("\(error)".contains("numerical breakdown at step 3") && "\(error)".contains("singular"), "\(error)")
            XCTAssertTrue("\(error)".contains("training.learningRate"), "the message says what to try: \(error)")
        }
    }
}
