import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class MetricsLogTests: XCTestCase {
    func summary(stage: String, stageEpoch: Int, epoch: Int) -> EpochSummary {
        EpochSummary(
            stage: stage, stageEpoch: stageEpoch, epoch: epoch, step: 10 * epoch, beta: 1, trainLoss: 2, trainReconstruction: 1.5,
            trainKL: 0.5, seconds: 1, samplesPerSecond: 100, allreduceSeconds: 0)
    }

    func testRowsCarryTheStageAndAOneStageLogIsUpgradedOnResume() throws {
        let dir = try temporaryFolder(self)
        let log = try MetricsLog(run: dir)
        try log.append(summary(stage: "encoder", stageEpoch: 1, epoch: 1))
        try log.append(summary(stage: "head", stageEpoch: 1, epoch: 2))
        let rows = try String(contentsOfFile: log.csvPath, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(
            rows.map { $0.split(separator: ",").prefix(3).joined(separator: ",") },
            ["stage,stage_epoch,epoch", "encoder,1,1", "head,1,2"])
        XCTAssertTrue(try String(contentsOfFile: log.jsonPath, encoding: .utf8).contains("\"stage\":\"head\""))
        // A metrics.csv written before stages existed: its rows become stage `train`, and new rows line up.
        let old = try temporaryFolder(self)
        let path = (old as NSString).appendingPathComponent("metrics.csv")
        try "epoch,step,beta,train_loss\n1,20,1,3.5\n2,40,1,3.1\n".write(toFile: path, atomically: true, encoding: .utf8)
        let resumed = try MetricsLog(run: old)
        try resumed.append(summary(stage: "train", stageEpoch: 3, epoch: 3))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines[0], Substring(MetricsLog.columns.joined(separator: ",")))
        XCTAssertEqual(lines[1], "train,1,1,20,1,3.5")
        XCTAssertEqual(lines[2], "train,2,2,40,1,3.1")
        XCTAssertTrue(lines[3].hasPrefix("train,3,3,30,"))
        XCTAssertEqual(lines.count, 4)
    }
}
