import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// A communicator that pretends to be rank 0 of 2 whose peer holds different parameters:
/// sums pass through unchanged, maxima come back larger than this rank's value.
final class DivergentPeerCommunicator: Communicator {
    var rank: Int { 0 }
    var size: Int { 2 }
    func allreduceSum(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws {}
    func allreduceSum(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws {}
    func allreduceMax(_ buffer: UnsafeMutablePointer<Float>, count: Int) throws { for i in 0..<count { buffer[i] += 1 } }
    func allreduceMax(_ buffer: UnsafeMutablePointer<Double>, count: Int) throws { for i in 0..<count { buffer[i] += 1 } }
    func reduceScatterSum(_ send: UnsafePointer<Float>, into receive: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws {
        receive.update(from: send + blocks[0].lowerBound, count: blocks[0].count)
    }
    func allgather(_ buffer: UnsafeMutablePointer<Float>, blocks: [Range<Int>]) throws {}
    func broadcast(_ buffer: UnsafeMutableRawPointer, bytes: Int, root: Int) throws {}
    func barrier() throws {}
    func abort(code: Int32) -> Never { fatalError("abort \(code)") }
}

final class ReplicaCheckTests: XCTestCase {
    func testDivergedReplicasStopTheRunWithAClearError() throws {
        let run = try TinyRun(["training.epochs=1"], comm: DivergentPeerCommunicator())
        run.trainer.exchangeSettings.replicaCheckEvery = 3
        XCTAssertThrowsError(try run.trainer.run()) { error in
            guard case let TrainingError.replicasDiverged(step, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(step, 3, "caught at the first check")
            XCTAssertTrue("\(error)".contains("disagree"))
        }
    }

    func testAgreeingReplicasPass() throws {
        let run = try TinyRun(["training.epochs=1"])
        run.trainer.exchangeSettings.replicaCheckEvery = 1
        XCTAssertEqual(try run.trainer.run(), .completed)
    }
}
