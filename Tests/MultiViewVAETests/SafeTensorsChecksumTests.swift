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

/// CRC-32 (zlib, IEEE polynomial) over buffers and files, as recorded beside checkpoints.
final class SafeTensorsChecksumTests: SafeTensorsTestCase {
    func testKnownValues() {
        XCTAssertEqual(crc32(Array("123456789".utf8)), 0xCBF4_3926, "the standard CRC-32 check value")
        XCTAssertEqual(crc32([UInt8]()), 0)
        XCTAssertEqual(crc32(Array("The quick brown fox jumps over the lazy dog".utf8)), 0x414F_A339)
    }

    func testPiecewiseEqualsWhole() {
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let whole = crc32(bytes)
        let split = crc32(Array(bytes[3_333...]), continuing: crc32(Array(bytes[..<3_333])))
        XCTAssertEqual(split, whole)
    }

    func testFileChecksumStreamsLargeFiles() throws {
        // 3.5 MiB: several 1 MiB read chunks plus a partial one.
        let n = 3 * (1 << 20) + (1 << 19)
        let bytes = (0..<n).map { UInt8(truncatingIfNeeded: ($0 >> 3) ^ ($0 &* 2_654_435_761)) }
        let p = path("big.bin")
        try writeBytes(bytes, to: p)
        XCTAssertEqual(try crc32(ofFile: p), crc32(bytes))
    }

    func testWriterReturnsTheFileChecksum() throws {
        var w = SafeTensorsWriter()
        w.add(name: "w", shape: [3, 4], values: (0..<12).map(Float.init))
        let p = path("crc.safetensors")
        let recorded = try w.write(to: p, metadata: ["step": "7"])
        XCTAssertEqual(try crc32(ofFile: p), recorded)
        XCTAssertEqual(crc32(try bytes(of: p)), recorded)
    }

    /// Damage in the data region cannot be seen by the format (any bytes are valid floats), so
    /// the file still opens; the CRC recorded at save time is what catches it.
    func testFlippedDataByteIsCaughtByTheChecksum() throws {
        var w = SafeTensorsWriter()
        w.add(name: "w", shape: [3, 4], values: (0..<12).map { Float($0) / 7 })
        let p = path("model.safetensors")
        let recorded = try w.write(to: p)
        var b = try bytes(of: p)
        let dataStart = try SafeTensorsFile(path: p).dataStart
        b[dataStart + 21] ^= 0x04
        try writeBytes(b, to: p)
        XCTAssertNoThrow(try SafeTensorsFile(path: p).tensor("w"))
        XCTAssertNotEqual(try crc32(ofFile: p), recorded)
    }

    func testChecksumOfMissingFileNamesIt() throws {
        let p = path("absent.bin")
        assertCheckpointError(try crc32(ofFile: p), path: p, "io open") {
            if case .io("open", _) = $0 { return true }; return false
        }
    }
}
