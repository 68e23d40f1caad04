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

/// Every way a safetensors file can be damaged must give its own `CheckpointError` reason, naming
/// the file and, where there is one, the byte offset of the damage.
final class SafeTensorsCorruptionTests: SafeTensorsTestCase {
    typealias Reason = CheckpointError.Reason

    /// A copy of `source` with `old` replaced by `new` (same length, so the header length holds).
    func edited(_ source: String, _ name: String, replacing old: String, with new: String) throws -> (path: String, at: Int) {
        XCTAssertEqual(old.utf8.count, new.utf8.count)
        var b = try bytes(of: source)
        let needle = Array(old.utf8)
        let at = (0...(b.count - needle.count)).first { Array(b[$0..<$0 + needle.count]) == needle }!
        b.replaceSubrange(at..<at + needle.count, with: Array(new.utf8))
        let p = path(name)
        try writeBytes(b, to: p)
        return (p, at)
    }

    func open(_ p: String) throws -> SafeTensorsFile { try SafeTensorsFile(path: p) }

    func testTruncationAtEveryKindOfPoint() throws {
        let src = try validFile("src.safetensors")
        let full = try bytes(of: src)
        let dataStart = try open(src).dataStart
        for cut in [0, 1, 7, 8, 9, 40, dataStart - 1, dataStart, dataStart + 5, full.count - 1] {
            let p = path("cut-\(cut).safetensors")
            try writeBytes(Array(full[0..<cut]), to: p)
            let e = assertCheckpointError(try open(p), path: p, "truncation at \(cut)") { reason in
                switch reason {
                case .fileTooShort(let size): return cut < 8 && size == cut
                case .headerBeyondFile(_, let size): return cut >= 8 && cut < dataStart && size == cut
                case .truncatedData(let needed, let available):
                    return cut >= dataStart && needed == 32 && available == cut - dataStart
                default: return false
                }
            }
            if cut >= dataStart { XCTAssertEqual(e?.offset, cut, "offset of the missing data") }
        }
    }

    func testAbsurdHeaderLength() throws {
        let p = try rawFile("huge.safetensors", header: "{}", length: 1 << 40)
        let e = assertCheckpointError(try open(p), path: p, "headerTooLarge") {
            if case .headerTooLarge(1 << 40, SafeTensorsFile.maxHeaderLength) = $0 { return true }; return false
        }
        XCTAssertEqual(e?.offset, 0)
        XCTAssertTrue(e?.description.contains("at byte 0") ?? false, e?.description ?? "")
    }

    func testHeaderLengthPastEndOfFile() throws {
        let p = try rawFile("long.safetensors", header: "{}", length: 4096)
        assertCheckpointError(try open(p), path: p, "headerBeyondFile") {
            if case .headerBeyondFile(4096, 16) = $0 { return true }; return false
        }
    }

    func testFlippedByteInHeaderJSON() throws {
        let src = try validFile("src.safetensors")
        // `"b":{` → `"b";{`: the colon after key "b" becomes a semicolon.
        let (p, at) = try edited(src, "flip.safetensors", replacing: #""b":{"#, with: #""b";{"#)
        let e = assertCheckpointError(try open(p), path: p, "headerNotJSON") {
            if case .headerNotJSON = $0 { return true }; return false
        }
        XCTAssertEqual(e?.offset, at + 3, "offset points at the flipped byte")

        // A byte with its high bit flipped inside a key is invalid UTF-8.
        var b = try bytes(of: src)
        let i = try XCTUnwrap(b.firstIndex(of: UInt8(ascii: "k")))
        b[i] ^= 0x80
        let q = path("utf8.safetensors")
        try writeBytes(b, to: q)
        assertCheckpointError(try open(q), path: q, "headerNotJSON (UTF-8)") {
            if case .headerNotJSON(let m) = $0 { return m.contains("UTF-8") }; return false
        }
    }

    func testMalformedJSONVariants() throws {
        let cases: [(String, String)] = [
            ("trailing", #"{"a":1} x"#),
            ("unterminated", #"{"a":"#),
            ("lone-surrogate", #"{"__metadata__":{"k":"\ud800"}}"#),
            ("control-char", "{\"__metadata__\":{\"k\":\"a\u{1}b\"}}"),
            ("leading-zero", #"{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}"#),
            ("deep", #"{"__metadata__":"# + String(repeating: "[", count: 200) + String(repeating: "]", count: 200) + "}"),
            ("trailing-comma", #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},}"#),
        ]
        for (name, header) in cases {
            let p = try rawFile("\(name).safetensors", header: header, data: [0, 0, 0, 0])
            let e = assertCheckpointError(try open(p), path: p, "headerNotJSON for \(name)") {
                if case .headerNotJSON = $0 { return true }; return false
            }
            XCTAssertNotNil(e?.offset, name)
        }
    }

    func testHeaderThatIsNotAnObject() throws {
        for (name, header) in [("array", "[1,2]"), ("leading-space", " {}"), ("empty", ""), ("string", #""x""#)] {
            let p = try rawFile("\(name).safetensors", header: header, pad: name != "empty")
            assertCheckpointError(try open(p), path: p, "headerNotObject for \(name)") {
                if case .headerNotObject = $0 { return true }; return false
            }
        }
    }

    func testMissingFields() throws {
        let entries = [
            "dtype": #"{"t":{"shape":[1],"data_offsets":[0,4]}}"#,
            "shape": #"{"t":{"dtype":"F32","data_offsets":[0,4]}}"#,
            "data_offsets": #"{"t":{"dtype":"F32","shape":[1]}}"#,
        ]
        for (field, header) in entries {
            let p = try rawFile("missing-\(field).safetensors", header: header, data: [0, 0, 0, 0])
            let e = assertCheckpointError(try open(p), path: p, "missing \(field)") {
                if case .missingField("t", field) = $0 { return true }; return false
            }
            XCTAssertEqual(e?.offset, 8 + 5, "offset of the entry for 't'")
        }
    }

    func testInvalidFields() throws {
        let cases: [(String, String, String)] = [
            ("shape", "negative", #"{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#),
            ("shape", "fraction", #"{"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#),
            ("shape", "string", #"{"t":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#),
            ("shape", "overflow", #"{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#),
            ("dtype", "number", #"{"t":{"dtype":32,"shape":[1],"data_offsets":[0,4]}}"#),
            ("data_offsets", "one", #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[4]}}"#),
            ("data_offsets", "negative", #"{"t":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}"#),
            ("(entry)", "not-object", #"{"t":[1,2]}"#),
            ("dtype", "twice", #"{"t":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#),
        ]
        for (field, name, header) in cases {
            let p = try rawFile("\(name).safetensors", header: header, data: [0, 0, 0, 0])
            assertCheckpointError(try open(p), path: p, "invalid \(field) (\(name))") {
                if case .invalidField("t", field, _) = $0 { return true }; return false
            }
        }
    }

    func testUnsupportedDtype() throws {
        for dtype in ["BF16", "F16", "BOOL", "f32", "Q4"] {
            let header = #"{"t":{"dtype":"\#(dtype)","shape":[2],"data_offsets":[0,4]}}"#
            let p = try rawFile("dtype-\(dtype).safetensors", header: header, data: [0, 0, 0, 0])
            let e = assertCheckpointError(try open(p), path: p, "unsupportedDtype \(dtype)") {
                if case .unsupportedDtype("t", dtype) = $0 { return true }; return false
            }
            XCTAssertTrue(e?.description.contains("F32") ?? false, "message lists what is readable")
        }
    }

    func testDataOffsetsNotMatchingShape() throws {
        let src = try validFile("src.safetensors")
        let (p, at) = try edited(src, "size.safetensors", replacing: "[0,16]", with: "[0,12]")
        let e = assertCheckpointError(try open(p), path: p, "sizeMismatch") {
            if case .sizeMismatch("a", 16, 12) = $0 { return true }; return false
        }
        XCTAssertEqual(e?.offset, at)
    }

    func testDataOffsetsOutOfRange() throws {
        let src = try validFile("src.safetensors")
        let (p, _) = try edited(src, "reversed.safetensors", replacing: "[16,28]", with: "[28,16]")
        assertCheckpointError(try open(p), path: p, "offsetsOutOfRange (begin > end)") {
            if case .offsetsOutOfRange("b", 28, 16, 32) = $0 { return true }; return false
        }
        let header =
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"#
            + #""b":{"dtype":"F32","shape":[4],"data_offsets":[1000,1016]}}"#
        let q = try rawFile("far.safetensors", header: header, data: [UInt8](repeating: 0, count: 32))
        assertCheckpointError(try open(q), path: q, "offsetsOutOfRange (past the end)") {
            if case .offsetsOutOfRange("b", 1000, 1016, 32) = $0 { return true }; return false
        }
    }

    func testOverlappingData() throws {
        let header =
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"#
            + #""b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}"#
        let p = try rawFile("overlap.safetensors", header: header, data: [UInt8](repeating: 0, count: 24))
        let e = assertCheckpointError(try open(p), path: p, "overlappingData") {
            if case .overlappingData("b", "a") = $0 { return true }; return false
        }
        XCTAssertEqual(e?.offset, 8 + (header.utf8.count + 7) / 8 * 8 + 8, "offset where 'b' starts")
        // Both tensors pointing at the same bytes (an aliasing trick) is an overlap too.
        let alias =
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"#
            + #""b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        let q = try rawFile("alias.safetensors", header: alias, data: [UInt8](repeating: 0, count: 16))
        assertCheckpointError(try open(q), path: q, "overlappingData (alias)") {
            if case .overlappingData = $0 { return true }; return false
        }
    }

    func testGapsAndUnindexedBytes() throws {
        let gap =
            #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"#
            + #""b":{"dtype":"F32","shape":[4],"data_offsets":[20,36]}}"#
        let p = try rawFile("gap.safetensors", header: gap, data: [UInt8](repeating: 0, count: 36))
        let dataStart = 8 + (gap.utf8.count + 7) / 8 * 8
        let e = assertCheckpointError(try open(p), path: p, "unindexedData (gap)") {
            if case .unindexedData(16, 20) = $0 { return true }; return false
        }
        XCTAssertEqual(e?.offset, dataStart + 16)

        let lead = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[4,20]}}"#
        let q = try rawFile("lead.safetensors", header: lead, data: [UInt8](repeating: 0, count: 20))
        assertCheckpointError(try open(q), path: q, "unindexedData (leading)") {
            if case .unindexedData(0, 4) = $0 { return true }; return false
        }

        // Bytes appended after the last tensor.
        let src = try validFile("src.safetensors")
        let r = path("tail.safetensors")
        try writeBytes(try bytes(of: src) + [1, 2, 3, 4], to: r)
        assertCheckpointError(try open(r), path: r, "unindexedData (trailing)") {
            if case .unindexedData(32, 36) = $0 { return true }; return false
        }
    }

    func testDuplicateTensorName() throws {
        let header =
            #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"#
            + #""a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        let p = try rawFile("dup.safetensors", header: header, data: [UInt8](repeating: 0, count: 8))
        assertCheckpointError(try open(p), path: p, "duplicateName") {
            if case .duplicateName("a") = $0 { return true }; return false
        }
    }

    func testInvalidMetadata() throws {
        let cases = [
            ("number", #"{"__metadata__":{"k":1}}"#),
            ("array", #"{"__metadata__":["k"]}"#),
            ("dup-key", #"{"__metadata__":{"k":"a","k":"b"}}"#),
            ("twice", #"{"__metadata__":{},"__metadata__":{}}"#),
        ]
        for (name, header) in cases {
            let p = try rawFile("meta-\(name).safetensors", header: header)
            assertCheckpointError(try open(p), path: p, "invalidMetadata (\(name))") {
                if case .invalidMetadata = $0 { return true }; return false
            }
        }
    }

    func testFileShrinkingAfterOpenIsReportedOnRead() throws {
        let p = try validFile("shrink.safetensors")
        let f = try open(p)
        XCTAssertEqual(truncate(p, off_t(f.dataStart + 20)), 0)
        XCTAssertEqual(try f.tensor("a").values, [1, 2, 3, 4])
        assertCheckpointError(try f.tensor("b"), path: p, "truncatedData on read") {
            if case .truncatedData(28, 20) = $0 { return true }; return false
        }
    }

    func testOpeningAMissingFileOrAFolder() throws {
        let p = path("absent.safetensors")
        assertCheckpointError(try open(p), path: p, "io open") {
            if case .io("open", _) = $0 { return true }; return false
        }
        assertCheckpointError(try open(dir), path: dir, "io (folder)") {
            if case .io = $0 { return true }; return false
        }
    }
}
