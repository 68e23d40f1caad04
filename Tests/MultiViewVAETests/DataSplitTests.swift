import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class DataSplitTests: XCTestCase {
    func dataset(_ n: Int) throws -> MultiViewDataset {
        try MultiViewDataset(
            views: [.matrix(Matrix(rows: n, cols: 2, (0..<(2 * n)).map { Float($0 / 2) }))],
            labels: (0..<n).map { Int32($0 % 10) })
    }

    func testSplitsPartitionTheSamplesReproducibly() throws {
        let ds = try dataset(1000)
        let s = try DataSplits(dataset: ds, validation: .fraction(0.1), test: .count(150), seed: 7)
        XCTAssertEqual([s.train.count, s.validation.count, s.test.count], [750, 100, 150])
        let all = s.train.indices + s.validation.indices + s.test.indices
        XCTAssertEqual(all.sorted(), Array(0..<1000), "the parts are disjoint and cover every sample")
        for part in [s.train, s.validation, s.test] { XCTAssertEqual(part.indices, part.indices.sorted()) }

        let again = try DataSplits(dataset: ds, validation: .fraction(0.1), test: .count(150), seed: 7)
        XCTAssertEqual(again.validation.indices, s.validation.indices)
        XCTAssertEqual(again.test.indices, s.test.indices)
        let other = try DataSplits(dataset: ds, validation: .fraction(0.1), test: .count(150), seed: 8)
        XCTAssertNotEqual(other.validation.indices, s.validation.indices)

        // The held-out part is the prefix of the split stream's permutation.
        var rng = RandomStream(seed: 7, stream: RandomPurpose.split.stream())
        let perm = rng.permutation(1000)
        XCTAssertEqual(s.test.indices, perm[0..<150].sorted())
    }

    func testSubsetGatherMapsPositionsToSamples() throws {
        let ds = try dataset(20)
        let s = try DataSplits(dataset: ds, validation: .count(5), test: .none, seed: 1)
        XCTAssertEqual(s.test.count, 0)
        let positions = [4, 0, 2]
        var out = [Float](repeating: -1, count: 6)
        var labels = [Int32](repeating: -1, count: 3)
        positions.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { s.validation.gather(view: 0, positions: p, into: $0.baseAddress!) }
            labels.withUnsafeMutableBufferPointer { s.validation.gatherLabels(positions: p, into: $0.baseAddress!) }
        }
        let samples = positions.map { s.validation.indices[$0] }
        XCTAssertEqual(out, samples.flatMap { [Float($0), Float($0)] })
        XCTAssertEqual(labels, samples.map { Int32($0 % 10) })
        XCTAssertEqual(s.validation.matrix(view: 0).rows, 5)
        XCTAssertEqual(s.validation.labels, s.validation.indices.map { Int32($0 % 10) })
    }

    func testSeparateTestSet() throws {
        let s = try DataSplits(train: dataset(100), test: dataset(30), validation: .fraction(0.2), seed: 3)
        XCTAssertEqual([s.train.count, s.validation.count, s.test.count], [80, 20, 30])
        XCTAssertTrue(s.train.dataset === s.validation.dataset)
        XCTAssertEqual(Set(s.train.indices).intersection(s.validation.indices), [])
        let wide = try MultiViewDataset(views: [.matrix(Matrix(rows: 3, cols: 5))])
        assertDataError(try DataSplits(train: dataset(10), test: wide, validation: .none, seed: 1), mentions: ["[5]", "[2]"])
    }

    func testRejectsBadSplitSizes() throws {
        let ds = try dataset(10)
        assertDataError(
            try DataSplits(dataset: ds, validation: .fraction(-0.1), test: .none, seed: 1), mentions: ["validation fraction is -0.1"])
        assertDataError(try DataSplits(dataset: ds, validation: .fraction(1), test: .none, seed: 1), mentions: ["[0, 1)"])
        assertDataError(try DataSplits(dataset: ds, validation: .fraction(.nan), test: .none, seed: 1), mentions: ["nan"])
        assertDataError(
            try DataSplits(dataset: ds, validation: .none, test: .count(11), seed: 1), mentions: ["test count is 11", "only 10"])
        assertDataError(
            try DataSplits(dataset: ds, validation: .fraction(0.5), test: .fraction(0.5), seed: 1), mentions: ["nothing", "to train"])
        assertDataError(try DataSplits(train: ds, test: ds, validation: .count(10), seed: 1), mentions: ["nothing", "to train"])
    }
}
