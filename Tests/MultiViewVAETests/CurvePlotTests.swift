import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The loss-curve picture and the metrics it reads.
final class CurvePlotTests: XCTestCase {
    func summary(_ epoch: Int, stage: String, loss: Double, validation: Double?) -> EpochSummary {
        EpochSummary(
            stage: stage, stageEpoch: epoch, epoch: epoch, step: 10 * epoch, beta: 1, trainLoss: loss, trainReconstruction: loss,
            trainKL: 0,
            validationLoss: validation, validationReconstruction: nil, validationKL: nil, seconds: 1, samplesPerSecond: 1,
            allreduceSeconds: 0)
    }

    func testCurvesAreDrawnWhereTheValuesSay() {
        let epochs = (1...10).map { summary($0, stage: $0 <= 4 ? "pretrain" : "train", loss: 10 - Double($0), validation: 11 - Double($0)) }
        let plot = CurvePlot(epochs: epochs)
        XCTAssertEqual(plot.boundaries, [4.5])
        let pixels = plot.render()
        XCTAssertEqual(pixels.count, 640 * 400)
        // The first training point (epoch 1, loss 9) sits at the left edge, a little below the top; the
        // last (epoch 10, loss 0) at the right edge, a little above the x axis: dark pixels there.
        func dark(nearX x: Int, y: Int) -> Bool {
            (-3...3).contains { dy in (-3...3).contains { dx in pixels[(y + dy) * 640 + x + dx] < 0.1 } }
        }
        let top = 24, bottom = 372, span = 11.0 - 0.0, pad = 0.05 * span
        func py(_ v: Double) -> Int { bottom - Int((v - (0 - pad)) / (span + 2 * pad) * Double(bottom - top)) }
        XCTAssertTrue(dark(nearX: 66, y: py(9)))
        XCTAssertTrue(dark(nearX: 622, y: py(0)))
        XCTAssertFalse(dark(nearX: 340, y: py(9)), "nothing drawn where no curve passes")
    }

    func testReadingMetricsKeepsTheLastRecordOfAnEpoch() throws {
        let dir = try temporaryFolder(self)
        let log = try MetricsLog(run: dir)
        for s in [
            summary(1, stage: "train", loss: 5, validation: nil), summary(2, stage: "train", loss: 4, validation: nil),
            summary(2, stage: "train", loss: 3.5, validation: nil), summary(3, stage: "train", loss: 3, validation: nil),
        ] {
            try log.append(s)
        }
        XCTAssertEqual(try MetricsLog.read(run: dir).map(\.trainLoss), [5, 3.5, 3])
        XCTAssertThrowsError(try MetricsLog.read(run: dir + "/nothing")) { XCTAssertTrue("\($0)".contains("metrics.jsonl"), "\($0)") }
    }
}
