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

final class DataIDXTests: DataFolderTestCase {

    /// An IDX file built by hand: 00 00 type ndims, big-endian dimensions, payload.
    func idx(type: UInt8, dims: [Int], payload: [UInt8]) -> [UInt8] {
        [0, 0, type, UInt8(dims.count)] + bigEndianBytes(dims.map { UInt32($0) }) + payload
    }

    let images: [UInt8] = (0..<24).map { UInt8($0 * 10) }  // 2 images of 3×4

    // MARK: Reading

    func testReadsRawUByte() throws {
        let path = dir.file("images-idx3-ubyte")
        writeBytes(idx(type: 0x08, dims: [2, 3, 4], payload: images), to: path)
        let f = try IDXFile.read(path)
        XCTAssertEqual(f.dataType, .uint8)
        XCTAssertEqual(f.dimensions, [2, 3, 4])
        XCTAssertEqual(f.payload, images)
        XCTAssertEqual(f.floatValues(), images.map(Float.init))
    }

    func testReadsGzipUByte() throws {
        let path = dir.file("images-idx3-ubyte.gz")
        writeBytes(try gzipped(idx(type: 0x08, dims: [2, 3, 4], payload: images)), to: path)
        let f = try IDXFile.read(path)
        XCTAssertEqual(f.dimensions, [2, 3, 4])
        XCTAssertEqual(f.payload, images)
    }

    func testReadsConcatenatedGzipMembers() throws {
        let whole = idx(type: 0x08, dims: [2, 3, 4], payload: images)
        let path = dir.file("two-members.gz")
        writeBytes(try gzipped(Array(whole.prefix(10))) + gzipped(Array(whole.dropFirst(10))), to: path)
        XCTAssertEqual(try IDXFile.read(path).payload, images)
    }

    func testDecodesOtherElementTypesBigEndian() throws {
        let cases: [(UInt8, [UInt8], [Float])] = [
            (0x09, [0xFF, 0x05], [-1, 5]),
            (0x0B, bigEndianBytes([Int16(-300), 7]), [-300, 7]),
            (0x0C, bigEndianBytes([Int32(-70000), 1 << 20]), [-70000, Float(1 << 20)]),
            (0x0D, bigEndianBytes([Float(1.5), -0.25].map(\.bitPattern)), [1.5, -0.25]),
            (0x0E, bigEndianBytes([Double(2.5), -8].map(\.bitPattern)), [2.5, -8]),
        ]
        for (type, payload, expected) in cases {
            let path = dir.file("t\(type)")
            writeBytes(idx(type: type, dims: [2], payload: payload), to: path)
            let f = try IDXFile.read(path)
            XCTAssertEqual(f.dataType.rawValue, type)
            XCTAssertEqual(f.floatValues(), expected, "type \(type)")
        }
    }

    // MARK: Rejections (every message names the file; offsets where they help)

    func testRejectsMissingAndEmptyFiles() {
        let missing = dir.file("missing.gz")
        assertDataError(
            try IDXFile.read(missing), mentions: [missing, "not found"],
            matches: { $0 == .fileNotFound(path: missing) })
        let empty = dir.file("empty")
        writeBytes([], to: empty)
        assertDataError(try IDXFile.read(empty), mentions: [empty, "not an IDX file", "empty"])
    }

    func testRejectsFlippedMagic() throws {
        var bytes = idx(type: 0x08, dims: [2, 3, 4], payload: images)
        bytes[0] = 0x08
        let raw = dir.file("flipped")
        writeBytes(bytes, to: raw)
        assertDataError(try IDXFile.read(raw), mentions: [raw, "not an IDX file", "08 00 08 03", "offset 0"])
        let gz = dir.file("flipped.gz")
        writeBytes(try gzipped(bytes), to: gz)
        assertDataError(try IDXFile.read(gz), mentions: [gz, "not an IDX file"])
    }

    func testRejectsUnknownElementType() {
        let path = dir.file("type")
        writeBytes(idx(type: 0x0A, dims: [1], payload: [0]), to: path)
        assertDataError(try IDXFile.read(path), mentions: [path, "0x0A", "offset 2"])
    }

    func testRejectsHeaderCutInsideDimensions() {
        let path = dir.file("dims")
        writeBytes(Array(idx(type: 0x08, dims: [2, 3, 4], payload: images).prefix(9)), to: path)
        assertDataError(try IDXFile.read(path), mentions: [path, "dimension list", "offset 9"])
    }

    func testRejectsTruncatedPayload() throws {
        let bytes = Array(idx(type: 0x08, dims: [2, 3, 4], payload: images).dropLast(5))
        let raw = dir.file("short")
        writeBytes(bytes, to: raw)
        assertDataError(
            try IDXFile.read(raw), mentions: [raw, "truncated", "24 bytes", "offset 16", "only 19"],
            matches: { $0 == .truncatedPayload(path: raw, dataOffset: 16, expectedBytes: 24, actualBytes: 19) })
        let gz = dir.file("short.gz")
        writeBytes(try gzipped(bytes), to: gz)
        assertDataError(try IDXFile.read(gz), mentions: [gz, "truncated", "only 19"])
    }

    func testRejectsTrailingBytes() throws {
        let bytes = idx(type: 0x08, dims: [2, 3, 4], payload: images + [1, 2, 3])
        let raw = dir.file("long")
        writeBytes(bytes, to: raw)
        assertDataError(try IDXFile.read(raw), mentions: [raw, "3 unexpected bytes", "offset 40"])
        let gz = dir.file("long.gz")
        writeBytes(try gzipped(bytes), to: gz)
        assertDataError(try IDXFile.read(gz), mentions: [gz, "3 unexpected bytes"])
    }

    func testRejectsTruncatedGzip() throws {
        let compressed = try gzipped(idx(type: 0x08, dims: [2, 3, 4], payload: images))
        let path = dir.file("cut.gz")
        writeBytes(Array(compressed.dropLast(12)), to: path)
        assertDataError(
            try IDXFile.read(path), mentions: [path, "gzip stream ends early", "download it again"],
            matches: { if case .gzipTruncated = $0 { return true } else { return false } })
    }

    func testRejectsCorruptGzipWithZlibMessage() throws {
        var compressed = try gzipped(idx(type: 0x08, dims: [2, 3, 4], payload: images))
        compressed[compressed.count - 8] ^= 0xFF  // the CRC-32 of the trailer
        let path = dir.file("crc.gz")
        writeBytes(compressed, to: path)
        assertDataError(try IDXFile.read(path), mentions: [path, "corrupt gzip", "zlib: incorrect data check", "offset"])
    }

    func testRejectsGarbageAfterGzipStream() throws {
        let compressed = try gzipped(idx(type: 0x08, dims: [2, 3, 4], payload: images))
        let path = dir.file("garbage.gz")
        writeBytes(compressed + [0x42, 0x42, 0x42], to: path)
        assertDataError(try IDXFile.read(path), mentions: [path, "after the end of the gzip stream", "offset \(compressed.count)"])
    }

    func testLabeledImagesRejectsMismatchedLabelCount() throws {
        let imagesPath = dir.file("img")
        let labelsPath = dir.file("lab")
        writeBytes(idx(type: 0x08, dims: [2, 3, 4], payload: images), to: imagesPath)
        writeBytes(idx(type: 0x08, dims: [3], payload: [1, 2, 3]), to: labelsPath)
        assertDataError(
            try LabeledImages.loadIDX(images: imagesPath, labels: labelsPath),
            mentions: [labelsPath, "3 entries", "2 rows"])
        writeBytes(idx(type: 0x08, dims: [2, 1], payload: [1, 2]), to: labelsPath)
        assertDataError(try LabeledImages.loadIDX(images: imagesPath, labels: labelsPath), mentions: [labelsPath, "(2, 1)"])
        writeBytes(idx(type: 0x08, dims: [2, 12], payload: images), to: imagesPath)
        assertDataError(try LabeledImages.loadIDX(images: imagesPath, labels: labelsPath), mentions: [imagesPath, "(2, 12)"])
    }
}
