import Foundation
import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Reads the real Fashion-MNIST files (Debian package dataset-fashion-mnist). The expected numbers were
/// checked independently with Python's gzip + struct modules.
final class DataFashionMNISTTests: XCTestCase {
    nonisolated(unsafe) static var cachedTrain: LabeledImages?

    func train() throws -> LabeledImages {
        guard FileManager.default.fileExists(atPath: FashionMNIST.defaultDirectory + "/" + FashionMNIST.Part.train.imagesFile) else {
            // launch/setup installs it; a missing data set is a broken setup, not a reason to skip.
            XCTFail("Fashion-MNIST is not installed in \(FashionMNIST.defaultDirectory); run launch/setup")
            throw CocoaError(.fileNoSuchFile)
        }
        if let cached = Self.cachedTrain { return cached }
        let images = try FashionMNIST.load(.train)
        Self.cachedTrain = images
        return images
    }

    func testTrainingSet() throws {
        let t = try train()
        XCTAssertEqual([t.count, t.height, t.width], [60000, 28, 28])
        XCTAssertEqual(t.pixels.count, 60000 * 784)
        XCTAssertEqual(Array(t.labels.prefix(10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        var perClass = [Int](repeating: 0, count: 10)
        for l in t.labels { perClass[Int(l)] += 1 }
        XCTAssertEqual(perClass, [Int](repeating: 6000, count: 10))
        XCTAssertEqual(t.pixels.prefix(784).reduce(0) { $0 + Int($1) }, 76247)
        XCTAssertEqual(t.pixels.reduce(0) { $0 + Int($1) }, 3_431_114_169)
    }

    func testTestSet() throws {
        _ = try train()  // skips when the data is missing
        let t = try FashionMNIST.load(.test)
        XCTAssertEqual([t.count, t.height, t.width], [10000, 28, 28])
        XCTAssertEqual(Array(t.labels.prefix(10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
        XCTAssertEqual(t.pixels.prefix(784).reduce(0) { $0 + Int($1) }, 33456)
    }

    func testHalvesOfTheFirstImage() throws {
        let t = try train()
        let first = LabeledImages(count: 1, height: 28, width: 28, pixels: Array(t.pixels.prefix(784)), labels: [9])
        let halves = first.views(.topBottom)
        XCTAssertEqual(halves.map(\.cols), [392, 392])
        // Pixel sums by half, from Python: top 23501, bottom 52746, left 25095.
        XCTAssertEqual(halves[0].storage.reduce(0) { $0 + Double($1) } * 255, 23501, accuracy: 1e-2)
        XCTAssertEqual(halves[1].storage.reduce(0) { $0 + Double($1) } * 255, 52746, accuracy: 1e-2)
        XCTAssertEqual(first.views(.leftRight)[0].storage.reduce(0) { $0 + Double($1) } * 255, 25095, accuracy: 1e-2)
        XCTAssertEqual(first.views(.whole, binarizeAbove: 0)[0].storage.reduce(0, +), 433, "non-zero pixels")
        // Row 5 of the image is row 5 of the top view.
        let row5: [Float] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 102, 204, 176, 134, 144, 123, 23, 0, 0, 0, 0, 12, 10, 0]
        XCTAssertEqual(Array(halves[0].storage[(5 * 28)..<(6 * 28)]), row5.map { $0 / 255 })
    }

    func testFashionSplits() throws {
        let t = try train()
        let trainSet = try t.dataset(.topBottom, binarizeAbove: 0)
        let testSet = try FashionMNIST.dataset(.test, layout: .topBottom, binarizeAbove: 0)
        let s = try DataSplits(train: trainSet, test: testSet, validation: .fraction(0.1), seed: 42)
        XCTAssertEqual([s.train.count, s.validation.count, s.test.count], [54000, 6000, 10000])
        XCTAssertEqual(trainSet.names, ["top", "bottom"])
        XCTAssertEqual(trainSet.dimensions, [392, 392])
    }

    func testMissingDirectoryIsAClearError() {
        let dir = "/nonexistent/fashion"
        assertDataError(
            try FashionMNIST.load(.train, directory: dir),
            mentions: [dir + "/train-images-idx3-ubyte.gz", "not found"])
    }
}
