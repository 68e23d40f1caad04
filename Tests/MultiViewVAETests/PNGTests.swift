import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class PNGTests: XCTestCase {
    func testGridRendersScaledCellsAndWritesAValidPNG() throws {
        var grid = ImageGrid(cellWidth: 2, cellHeight: 3, columns: 2)
        grid.scale = 2
        grid.gap = 1
        grid.append([0, 0.5, 1, 0, 0, 1])
        grid.append([Float](repeating: 0.25, count: 6))
        grid.append([Float](repeating: 0, count: 6))
        let r = grid.render()
        XCTAssertEqual(r.width, 2 * 4 + 3)
        XCTAssertEqual(r.height, 2 * 6 + 3)
        XCTAssertEqual(r.pixels[1 * r.width + 1], 0, "cell 0, pixel (0, 0)")
        XCTAssertEqual(r.pixels[1 * r.width + 3], 0.5, "cell 0, pixel (0, 1) drawn at x = 2…3")
        XCTAssertEqual(r.pixels[0], 1, "gaps are white")

        let path = try temporaryFolder(self) + "/grid.png"
        try grid.write(to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        func be32(_ o: Int) -> Int { bytes[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        XCTAssertEqual(String(decoding: bytes[12..<16], as: UTF8.self), "IHDR")
        XCTAssertEqual(be32(16), r.width)
        XCTAssertEqual(be32(20), r.height)
        XCTAssertEqual(bytes[24], 8, "8-bit")
        XCTAssertEqual(bytes[25], 0, "greyscale")
    }

    /// RGB cells (PolyFashion's views): each pixel's three values move together, and the file says RGB.
    func testColourGridKeepsEachPixelsChannelsAndWritesAnRGBPNG() throws {
        var grid = ImageGrid(cellWidth: 2, cellHeight: 1, columns: 2)
        grid.channels = 3
        grid.gap = 1
        grid.append([1, 0, 0, 0, 1, 0])  // red, green
        grid.append([0, 0, 1, 0.5, 0.5, 0.5])  // blue, grey
        let r = grid.render()
        XCTAssertEqual(r.width, 2 * 2 + 3)
        XCTAssertEqual(r.height, 1 + 2)
        XCTAssertEqual(r.pixels.count, r.width * r.height * 3)
        func pixel(_ x: Int, _ y: Int) -> [Float] { Array(r.pixels[((y * r.width + x) * 3)..<((y * r.width + x) * 3 + 3)]) }
        XCTAssertEqual(pixel(1, 1), [1, 0, 0])
        XCTAssertEqual(pixel(2, 1), [0, 1, 0])
        XCTAssertEqual(pixel(4, 1), [0, 0, 1])
        XCTAssertEqual(pixel(5, 1), [0.5, 0.5, 0.5])
        XCTAssertEqual(pixel(0, 0), [1, 1, 1], "gaps are white")
        let path = try temporaryFolder(self) + "/rgb.png"
        try grid.write(to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        XCTAssertEqual(bytes[25], 2, "colour type RGB")
        // Side by side, the halves' rows keep their channels together.
        XCTAssertEqual(
            joinHalves([1, 2, 3], [4, 5, 6], height: 1, width: 1, vertical: false, channels: 3), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(
            joinHalves([1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4], height: 2, width: 1, vertical: false, channels: 3),
            [1, 1, 1, 3, 3, 3, 2, 2, 2, 4, 4, 4])
    }

    func testUnwritablePathIsAClearError() {
        XCTAssertThrowsError(try PNGWriter.writeGray([0], width: 1, height: 1, to: "/nonexistent-dir/x.png")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent-dir/x.png"), "\(error)")
        }
    }

    func testJoinHalves() {
        XCTAssertEqual(joinHalves([1, 2], [3, 4], height: 1, width: 2, vertical: true), [1, 2, 3, 4])
        XCTAssertEqual(joinHalves([1, 2], [3, 4], height: 2, width: 1, vertical: false), [1, 3, 2, 4])
    }
}
