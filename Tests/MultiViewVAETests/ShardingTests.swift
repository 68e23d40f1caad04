import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class ShardingTests: XCTestCase {
    func testRankSlicesTileTheBatchInRankOrder() {
        for count in [0, 1, 5, 32, 33] {
            for size in 1...5 {
                var next = 0
                for rank in 0..<size {
                    let s = rankSlice(count: count, rank: rank, size: size)
                    XCTAssertEqual(s.lowerBound, next)
                    XCTAssertLessThanOrEqual(s.count - count / size, 1, "shares differ by at most one")
                    next = s.upperBound
                }
                XCTAssertEqual(next, count)
            }
        }
        XCTAssertEqual(rankSlice(count: 10, rank: 0, size: 3), 0..<4, "the remainder goes to the first ranks")
        XCTAssertEqual(rankSlice(count: 10, rank: 2, size: 3), 7..<10)
    }

    func testEpochPermutationDependsOnlyOnSeedAndEpoch() {
        XCTAssertEqual(epochPermutation(count: 100, seed: 3, epoch: 1), epochPermutation(count: 100, seed: 3, epoch: 1))
        XCTAssertNotEqual(epochPermutation(count: 100, seed: 3, epoch: 1), epochPermutation(count: 100, seed: 3, epoch: 2))
        XCTAssertEqual(epochPermutation(count: 100, seed: 3, epoch: 1).sorted(), Array(0..<100))
    }

    func testNoiseIsKeyedByGlobalIndexNotPosition() {
        let a = Batch(dimensions: [1], capacity: 3, hasMask: false), b = Batch(dimensions: [1], capacity: 3, hasMask: false)
        a.indices[0] = 10; a.indices[1] = 20; a.setRows(2, epoch: 4)
        b.indices[0] = 20; b.setRows(1, epoch: 4)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: 6), y = UnsafeMutablePointer<Float>.allocate(capacity: 3)
        defer { x.deallocate(); y.deallocate() }
        a.fillNoise(x, view: 0, width: 3, seed: 1)
        b.fillNoise(y, view: 0, width: 3, seed: 1)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: x + 3, count: 3)), Array(UnsafeBufferPointer(start: y, count: 3)))
        b.fillNoise(y, view: 1, width: 3, seed: 1)
        XCTAssertNotEqual(
            Array(UnsafeBufferPointer(start: x + 3, count: 3)), Array(UnsafeBufferPointer(start: y, count: 3)),
            "each view draws from its own sub-sequence")
    }
}
