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

/// Writer/reader round trips, the exact byte layout, reader API checks and the atomic write.
final class SafeTensorsTests: SafeTensorsTestCase {
    func testRoundTripOfSeveralTensorsWithMetadata() throws {
        let a = (0..<12).map { Float($0) * 0.5 - 3 }
        let b: [Float] = [1e-30, -0, .infinity, -.infinity, 3.4e38, -1.25, .leastNonzeroMagnitude]
        let c: [Float] = [0.1, 0.2, 0.3, 0.4, .nan]
        let metadata = ["format": "mvvae", "step": "1200", "quote\"and\\slash": "line\nbreak\ttab \u{1} é ∑ 🎲"]
        var w = SafeTensorsWriter()
        w.add(name: "enc.w", shape: [3, 4], values: a)
        w.add(name: "enc.b", shape: [1, 7], values: b)
        w.add(name: "dec.ü", shape: [5], values: c)
        let p = path("round.safetensors")
        try w.write(to: p, metadata: metadata)

        let f = try SafeTensorsFile(path: p)
        XCTAssertEqual(f.names, ["enc.w", "enc.b", "dec.ü"], "header keeps insertion order")
        XCTAssertEqual(f.metadata, metadata)
        XCTAssertEqual(f.shape("enc.w"), [3, 4])
        XCTAssertEqual(f.shape("enc.b"), [1, 7])
        XCTAssertEqual(f.shape("dec.ü"), [5])
        XCTAssertEqual(f.dtype("enc.w"), .f32)
        XCTAssertNil(f.shape("missing"))
        XCTAssertEqual(f.dataStart % 8, 0, "data must start 8-byte aligned")
        XCTAssertEqual(f.fileSize, f.dataStart + 4 * (12 + 7 + 5))
        XCTAssertEqual(f.info("enc.b")?.dataOffsets, 48..<76, "tensors laid out contiguously in order")
        for (name, want) in [("enc.w", a), ("enc.b", b), ("dec.ü", c)] {
            let got = try f.tensor(name)
            XCTAssertEqual(got.values.map(\.bitPattern), want.map(\.bitPattern), name)
        }
        // Reading into caller memory, with the shape checked.
        var out = [Float](repeating: 0, count: 7)
        try out.withUnsafeMutableBufferPointer {
            try f.read("enc.b", into: $0.baseAddress!, count: 7, expectedShape: [1, 7])
        }
        XCTAssertEqual(out.map(\.bitPattern), b.map(\.bitPattern))
    }

    func testScalarAndEmptyTensorsAndNoMetadata() throws {
        var w = SafeTensorsWriter()
        w.add(name: "scalar", shape: [], values: [2.5])
        w.add(name: "empty", shape: [0, 3], values: [])
        w.add(name: "v", shape: [2], values: [1, 2])
        let p = path("edge.safetensors")
        try w.write(to: p)
        let header = String(decoding: try bytes(of: p)[8..<48], as: UTF8.self)
        XCTAssertFalse(header.contains("__metadata__"), "empty metadata is omitted")
        let f = try SafeTensorsFile(path: p)
        XCTAssertEqual(f.metadata, [:])
        XCTAssertEqual(try f.tensor("scalar").values, [2.5])
        XCTAssertEqual(try f.tensor("scalar").shape, [])
        XCTAssertEqual(try f.tensor("empty").shape, [0, 3])
        XCTAssertEqual(try f.tensor("empty").values, [])
        XCTAssertEqual(try f.tensor("v").values, [1, 2])
    }

    /// One tensor "x" = [1, -2] of shape [2], metadata {"k": "v"}. The header, counted by hand:
    ///   {"__metadata__":{"k":"v"},     26 bytes
    ///   "x":                           4  → 30
    ///   {"dtype":"F32",                15 → 45
    ///   "shape":[2],                   12 → 57
    ///   "data_offsets":[0,8]}}         22 → 79, plus one space → N = 80, data at 88.
    func testByteLayoutMatchesHandComputedHeader() throws {
        var w = SafeTensorsWriter()
        w.add(name: "x", shape: [2], values: [1, -2])
        let p = path("tiny.safetensors")
        try w.write(to: p, metadata: ["k": "v"])
        let json = #"{"__metadata__":{"k":"v"},"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} "#
        var expected: [UInt8] = [80, 0, 0, 0, 0, 0, 0, 0]
        expected += Array(json.utf8)
        expected += [0x00, 0x00, 0x80, 0x3F]  // 1.0f little-endian
        expected += [0x00, 0x00, 0x00, 0xC0]  // -2.0f
        XCTAssertEqual(json.utf8.count, 80)
        XCTAssertEqual(try bytes(of: p), expected)
    }

    func testSameInputsGiveIdenticalBytes() throws {
        func write(_ name: String, _ metadata: [String: String]) throws -> [UInt8] {
            var w = SafeTensorsWriter()
            w.add(name: "z", shape: [2], values: [1, 2])
            w.add(name: "a", shape: [1], values: [3])
            try w.write(to: path(name), metadata: metadata)
            return try bytes(of: path(name))
        }
        var m1: [String: String] = [:], m2: [String: String] = [:]
        for i in 0..<20 { m1["key\(i)"] = "\(i)" }
        for i in (0..<20).reversed() { m2["key\(i)"] = "\(i)" }
        XCTAssertEqual(try write("one.safetensors", m1), try write("two.safetensors", m2))
    }

    func testReaderChecksNamesShapesAndCounts() throws {
        let p = try validFile("ok.safetensors")
        let f = try SafeTensorsFile(path: p)
        XCTAssertEqual(try f.tensor("a", expectedShape: [2, 2]).values, [1, 2, 3, 4])
        assertCheckpointError(try f.tensor("nope"), path: p, "tensorNotFound") {
            if case .tensorNotFound("nope") = $0 { return true }; return false
        }
        assertCheckpointError(try f.tensor("a", expectedShape: [4]), path: p, "shapeMismatch") {
            if case .shapeMismatch("a", [4], [2, 2]) = $0 { return true }; return false
        }
        var buf = [Float](repeating: 0, count: 8)
        assertCheckpointError(
            try buf.withUnsafeMutableBufferPointer {
                try f.read("b", into: $0.baseAddress!, count: 8)
            }, path: p, "countMismatch"
        ) {
            if case .countMismatch("b", 8, 3) = $0 { return true }; return false
        }
    }

    func testWriterRejectsBadTensorsWithoutCreatingTheFile() throws {
        let p = path("bad.safetensors")
        func check(
            _ what: String, _ build: (inout SafeTensorsWriter) -> Void,
            _ match: (CheckpointError.Reason) -> Bool
        ) {
            var w = SafeTensorsWriter()
            w.add(name: "fine", shape: [1], values: [0])
            build(&w)
            assertCheckpointError(try w.write(to: p), path: p, what, match)
            XCTAssertFalse(FileManager.default.fileExists(atPath: p), what)
        }
        check("duplicate", { $0.add(name: "fine", shape: [1], values: [1]) }) {
            if case .duplicateName("fine") = $0 { return true }; return false
        }
        check("count", { $0.add(name: "m", shape: [2, 3], values: [1, 2, 3]) }) {
            if case .invalidTensor("m", _) = $0 { return true }; return false
        }
        check("negative", { $0.add(name: "n", shape: [-1], values: []) }) {
            if case .invalidTensor("n", _) = $0 { return true }; return false
        }
        check("reserved", { $0.add(name: "__metadata__", shape: [1], values: [1]) }) {
            if case .invalidTensor("__metadata__", _) = $0 { return true }; return false
        }
        check("empty name", { $0.add(name: "", shape: [1], values: [1]) }) {
            if case .invalidTensor("", _) = $0 { return true }; return false
        }
        XCTAssertEqual(try contentsOfDir(), [])
    }

    /// F64, I64, I32 and U8 tensors (as NumPy writes them) are converted to Float on read.
    func testReadsOtherDtypesAsFloat() throws {
        var data: [UInt8] = []
        for v in [0.5, -1e10] as [Double] { data += withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        for v in [-3, 1 << 40] as [Int64] { data += withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        for v in [-7, 9] as [Int32] { data += withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        data += [0, 255, 0, 0]
        let header =
            #"{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"#
            + #""l":{"dtype":"I64","shape":[2],"data_offsets":[16,32]},"#
            + #""i":{"dtype":"I32","shape":[2],"data_offsets":[32,40]},"#
            + #""u":{"dtype":"U8","shape":[2,2],"data_offsets":[40,44]}}"#
        let p = try rawFile("dtypes.safetensors", header: header, data: data)
        let f = try SafeTensorsFile(path: p)
        XCTAssertEqual(f.dtype("d"), .f64)
        XCTAssertEqual(try f.tensor("d").values, [0.5, -1e10])
        XCTAssertEqual(try f.tensor("l").values, [-3, Float(1 << 40)])
        XCTAssertEqual(try f.tensor("i").values, [-7, 9])
        XCTAssertEqual(try f.tensor("u", expectedShape: [2, 2]).values, [0, 255, 0, 0])
    }

    // MARK: atomic write

    func testAtomicWriteReplacesTheFileAndLeavesNoTempFile() throws {
        let p = path("model.safetensors")
        try writeBytes(Array("old contents".utf8), to: p)
        var w = SafeTensorsWriter()
        w.add(name: "w", shape: [2], values: [4, 5])
        try w.write(to: p, metadata: ["v": "2"])
        XCTAssertEqual(try contentsOfDir(), ["model.safetensors"])
        XCTAssertEqual(try SafeTensorsFile(path: p).tensor("w").values, [4, 5])
    }

    func testWriteIntoMissingDirectoryThrowsAndLeavesNothing() throws {
        let missing = path("no-such-dir")
        let p = missing + "/model.safetensors"
        var w = SafeTensorsWriter()
        w.add(name: "w", shape: [1], values: [1])
        assertCheckpointError(try w.write(to: p), path: p + ".tmp-\(getpid())", "io") {
            if case .io("open", _) = $0 { return true }; return false
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing))
        XCTAssertEqual(try contentsOfDir(), [])
    }

    func testFailedWriteDoesNotClobberTheDestination() throws {
        let p = try validFile("keep.safetensors")
        let before = try bytes(of: p)
        // Occupy the temporary name with a folder so creating the temporary file fails.
        let temp = p + ".tmp-\(getpid())"
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: false)
        var w = SafeTensorsWriter()
        w.add(name: "other", shape: [1], values: [9])
        assertCheckpointError(try w.write(to: p), path: temp, "io") {
            if case .io("open", _) = $0 { return true }; return false
        }
        XCTAssertEqual(try bytes(of: p), before, "destination unchanged")
        try FileManager.default.removeItem(atPath: temp)
        XCTAssertEqual(try contentsOfDir(), ["keep.safetensors"])
    }

    func testFailedRenameRemovesTheTempFile() throws {
        // A non-empty folder at the destination makes rename(2) fail after the data was written.
        let p = path("occupied")
        try FileManager.default.createDirectory(atPath: p + "/inner", withIntermediateDirectories: true)
        var w = SafeTensorsWriter()
        w.add(name: "w", shape: [1], values: [1])
        assertCheckpointError(try w.write(to: p), path: p, "io") {
            if case .io("rename", _) = $0 { return true }; return false
        }
        XCTAssertEqual(try contentsOfDir(), ["occupied"], "the temporary file was removed")
    }

    func testStaleTempFileFromACrashedWriterIsReplaced() throws {
        let p = path("model.safetensors")
        try writeBytes(Array("half-written".utf8), to: p + ".tmp-\(getpid())")
        var w = SafeTensorsWriter()
        w.add(name: "w", shape: [1], values: [3])
        try w.write(to: p)
        XCTAssertEqual(try contentsOfDir(), ["model.safetensors"])
        XCTAssertEqual(try SafeTensorsFile(path: p).tensor("w").values, [3])
    }

    func testWriteToBareFileNameUsesTheCurrentDirectory() throws {
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(dir))
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        var w = SafeTensorsWriter()
        w.add(name: "w", shape: [1], values: [3])
        try w.write(to: "bare.safetensors")
        XCTAssertEqual(try SafeTensorsFile(path: "bare.safetensors").tensor("w").values, [3])
        XCTAssertEqual(FileIO.directory(of: "bare.safetensors"), ".")
        XCTAssertEqual(FileIO.directory(of: "/top.safetensors"), "/")
        XCTAssertEqual(FileIO.directory(of: "a/b/c.safetensors"), "a/b")
    }
}
