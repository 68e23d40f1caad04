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

final class DataNPYTests: DataFolderTestCase {

    // MARK: Round trips

    func testWriterRoundTripsFloat32() throws {
        let m = Matrix(rows: 3, cols: 4, [0, 1, -2.5, .pi, 1e-30, -1e30, .infinity, 7, 8, 9, 10, 11])
        let path = dir.file("m.npy")
        try NPYWriter.write(m, to: path)

        let bytes = readBytes(path)
        let headerEnd = bytes.firstIndex(of: 0x0A)! + 1
        XCTAssertEqual(headerEnd % 64, 0, "data must start on a 64-byte boundary")
        XCTAssertEqual(bytes.count, headerEnd + 12 * 4)

        let f = try NPYFile(path: path)
        XCTAssertEqual(f.elementType.description, "<f4")
        XCTAssertEqual(f.shape, [3, 4])
        XCTAssertEqual(f.matrix(), m)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["m.npy"], "no temporary file may remain")
    }

    func testWriterReplacesAnExistingFile() throws {
        let path = dir.file("m.npy")
        try NPYWriter.write(Matrix(rows: 1, cols: 1, [1]), to: path)
        try NPYWriter.write(Matrix(rows: 2, cols: 2, [1, 2, 3, 4]), to: path)
        XCTAssertEqual(try NPYFile(path: path).matrix(), Matrix(rows: 2, cols: 2, [1, 2, 3, 4]))
    }

    func testWriterFailsClearlyWhenTheDirectoryIsMissing() {
        let path = dir.file("no/such/dir/m.npy")
        assertDataError(try NPYWriter.write(Matrix(rows: 1, cols: 1), to: path), mentions: [path, "No such file"])
    }

    func testWriterHandlesEmptyArrays() throws {
        let path = dir.file("empty.npy")
        try NPYWriter.write(Matrix(rows: 0, cols: 5), to: path)
        let f = try NPYFile(path: path)
        XCTAssertEqual(f.rows, 0)
        XCTAssertEqual(f.cols, 5)
        XCTAssertEqual(f.matrix(), Matrix(rows: 0, cols: 5))
    }

    func testReadsHandMadeUInt8() throws {
        let values: [UInt8] = [0, 1, 2, 127, 128, 255]
        let path = dir.file("u1.npy")
        writeBytes(handMadeNPY(descr: "|u1", shape: [2, 3], payload: values), to: path)
        let f = try NPYFile(path: path)
        XCTAssertEqual(f.elementType.kind, .uint8)
        XCTAssertEqual(f.matrix(), Matrix(rows: 2, cols: 3, values.map(Float.init)))
    }

    func testReadsHandMadeFloat64() throws {
        let values: [Double] = [0.5, -1.25, 3e-300, 1e300, -0.0, 42]
        let path = dir.file("f8.npy")
        writeBytes(handMadeNPY(descr: "<f8", shape: [3, 2], payload: littleEndianBytes(values.map(\.bitPattern))), to: path)
        let f = try NPYFile(path: path)
        XCTAssertEqual(f.elementType.kind, .float64)
        XCTAssertEqual(f.matrix(), Matrix(rows: 3, cols: 2, values.map(Float.init)))
    }

    func testReadsHandMadeBoolInt32Int64AndBigEndianFloat32() throws {
        let cases: [(String, [UInt8], [Float])] = [
            ("|b1", [1, 0, 0, 1], [1, 0, 0, 1]),
            ("<i4", littleEndianBytes([Int32(-7), 0, 1 << 20, 3]), [-7, 0, Float(1 << 20), 3]),
            ("<i8", littleEndianBytes([Int64(-1), 5, 1 << 40, 0]), [-1, 5, Float(1 << 40), 0]),
            (">f4", bigEndianBytes([Float(1.5), -2, 0.25, 1e10].map(\.bitPattern)), [1.5, -2, 0.25, 1e10]),
            (">f8", bigEndianBytes([Double(1.5), -2, 0.25, 1e10].map(\.bitPattern)), [1.5, -2, 0.25, 1e10]),
        ]
        for (descr, payload, expected) in cases {
            let path = dir.file("x.npy")
            writeBytes(handMadeNPY(descr: descr, shape: [2, 2], payload: payload), to: path)
            XCTAssertEqual(try NPYFile(path: path).matrix(), Matrix(rows: 2, cols: 2, expected), descr)
        }
    }

    func testReadsVersion2And3Headers() throws {
        for major: UInt8 in [2, 3] {
            let path = dir.file("v\(major).npy")
            writeBytes(
                handMadeNPY(
                    descr: "<f4", shape: [1, 2], major: major,
                    payload: littleEndianBytes([Float(1), 2].map(\.bitPattern))), to: path)
            XCTAssertEqual(try NPYFile(path: path).matrix(), Matrix(rows: 1, cols: 2, [1, 2]))
        }
    }

    func testOneDimensionalIsAColumnAndHigherDimensionsFlatten() throws {
        let oneD = dir.file("1d.npy")
        writeBytes(handMadeNPY(descr: "|u1", shape: [4], payload: [1, 2, 3, 4]), to: oneD)
        let a = try NPYFile(path: oneD)
        XCTAssertEqual([a.rows, a.cols], [4, 1])

        let threeD = dir.file("3d.npy")
        writeBytes(handMadeNPY(descr: "|u1", shape: [2, 2, 3], payload: Array(0..<12)), to: threeD)
        let b = try NPYFile(path: threeD)
        XCTAssertEqual(b.shape, [2, 2, 3])
        XCTAssertEqual([b.rows, b.cols], [2, 6])
        XCTAssertEqual(b.rows(1..<2), Matrix(rows: 1, cols: 6, [6, 7, 8, 9, 10, 11]))
    }

    func testCopyRowWritesIntoACallerBuffer() throws {
        let path = dir.file("m.npy")
        let m = Matrix.randomNormal(rows: 5, cols: 3, seed: 3)
        try NPYWriter.write(m, to: path)
        let f = try NPYFile(path: path)
        var buffer = [Float](repeating: -1, count: 5)
        buffer.withUnsafeMutableBufferPointer { f.copyRow(4, into: $0.baseAddress! + 1) }
        XCTAssertEqual(buffer, [-1] + m.row(4) + [-1])
        XCTAssertEqual(f.rows(1..<3), m.rows(1..<3))
    }

    // MARK: Rejections (every message names the file)

    func testRejectsMissingFileAndDirectory() {
        let missing = dir.file("missing.npy")
        assertDataError(try NPYFile(path: missing), mentions: [missing, "not found"])
        assertDataError(try NPYFile(path: dir.path), mentions: [dir.path, "not a regular file"])
    }

    func testRejectsBadMagic() {
        let path = dir.file("bad.npy")
        var bytes = handMadeNPY(descr: "<f4", shape: [1], payload: [0, 0, 0, 0])
        bytes[1] = UInt8(ascii: "n")
        writeBytes(bytes, to: path)
        assertDataError(try NPYFile(path: path), mentions: [path, "not a NumPy .npy file", "93 6E 55"])

        writeBytes([], to: path)
        assertDataError(try NPYFile(path: path), mentions: [path, "empty"])
    }

    func testRejectsUnsupportedVersion() {
        let path = dir.file("v4.npy")
        writeBytes(handMadeNPY(descr: "<f4", shape: [1], major: 4, payload: [0, 0, 0, 0]), to: path)
        assertDataError(try NPYFile(path: path), mentions: [path, "version 4.0", "offset 6"])
    }

    func testRejectsUnparseableHeaders() {
        let path = dir.file("h.npy")
        let cases: [(String, [String])] = [
            ("{'descr': '<f4', 'fortran_order': Flase, 'shape': (1,), }", ["offset 44", "True or False"]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,) ", ["expected '}'"]),
            ("{'descr': '<f4', 'fortran_order': False}", ["'shape' is missing"]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", ["unexpected key 'extra'"]),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", ["non-negative integer"]),
            ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", ["structured"]),
            ("not a dict", ["offset 10", "expected '{'"]),
        ]
        for (dict, expected) in cases {
            writeBytes(handMadeNPY(descr: "", shape: [], payload: [0, 0, 0, 0], dict: dict), to: path)
            assertDataError(
                try NPYFile(path: path), mentions: [path, "header"] + expected,
                matches: { if case .npyBadHeader = $0 { return true } else { return false } })
        }
    }

    func testRejectsHeaderLongerThanFile() {
        let path = dir.file("short.npy")
        writeBytes(Array(handMadeNPY(descr: "<f4", shape: [1], payload: []).prefix(40)), to: path)
        assertDataError(try NPYFile(path: path), mentions: [path, "header length"])
    }

    func testRejectsFortranOrder() {
        let path = dir.file("fortran.npy")
        writeBytes(handMadeNPY(descr: "|u1", shape: [2, 2], fortran: true, payload: [1, 2, 3, 4]), to: path)
        assertDataError(
            try NPYFile(path: path), mentions: [path, "Fortran", "ascontiguousarray"],
            matches: { $0 == .npyFortranOrder(path: path) })
    }

    func testRejectsUnsupportedDTypes() {
        let path = dir.file("dtype.npy")
        for descr in ["<c8", "<f2", "<U3", "|O", "|b4", "<u4"] {
            writeBytes(handMadeNPY(descr: descr, shape: [1], payload: [0, 0, 0, 0, 0, 0, 0, 0]), to: path)
            assertDataError(try NPYFile(path: path), mentions: [path, "'\(descr)'", "'<f4'"])
        }
    }

    func testRejectsScalarArrays() {
        let path = dir.file("scalar.npy")
        writeBytes(handMadeNPY(descr: "<f4", shape: [], payload: [0, 0, 0, 0]), to: path)
        assertDataError(try NPYFile(path: path), mentions: [path, "0-d"])
    }

    func testRejectsTruncatedData() {
        let path = dir.file("truncated.npy")
        writeBytes(handMadeNPY(descr: "<f8", shape: [2, 3], payload: [UInt8](repeating: 0, count: 47)), to: path)
        assertDataError(
            try NPYFile(path: path), mentions: [path, "truncated", "48 bytes", "offset 128", "only 47"],
            matches: { $0 == .truncatedPayload(path: path, dataOffset: 128, expectedBytes: 48, actualBytes: 47) })
    }

    func testRejectsTrailingBytes() {
        let path = dir.file("trailing.npy")
        writeBytes(handMadeNPY(descr: "|u1", shape: [2, 2], payload: [1, 2, 3, 4, 5, 6]), to: path)
        assertDataError(try NPYFile(path: path), mentions: [path, "2 unexpected bytes", "offset 132"])
    }

    // MARK: NumPy interoperability

    func testReadsArraysWrittenByNumpy() throws {
        try requireNumpy()
        // Each array holds f(i) = i * 0.5 - 3 (flat index i), cast to the dtype, so Swift can recompute it.
        try runPython(
            """
            d = '\(dir.path)'
            base = lambda shape: (np.arange(int(np.prod(shape))) * 0.5 - 3).reshape(shape)
            np.save(d + '/f4.npy', base((4, 3)).astype(np.float32))
            np.save(d + '/f8.npy', base((4, 3)).astype(np.float64))
            np.save(d + '/be.npy', base((4, 3)).astype('>f4'))
            np.save(d + '/u1.npy', np.arange(12, dtype=np.uint8).reshape(4, 3) * 20)
            np.save(d + '/b1.npy', (np.arange(12) % 3 == 0).reshape(4, 3))
            np.save(d + '/i8.npy', np.arange(12, dtype=np.int64).reshape(4, 3) - 6)
            np.save(d + '/i4.npy', np.arange(12, dtype=np.int32).reshape(4, 3) - 6)
            np.save(d + '/img.npy', base((4, 2, 2)).astype(np.float32))
            np.save(d + '/vec.npy', base((5,)).astype(np.float32))
            np.save(d + '/fortran.npy', np.asfortranarray(base((4, 3))))
            np.save(d + '/big.npy', np.zeros((2, 70000), dtype=np.float32))
            """)
        let flat = (0..<12).map { Float($0) * 0.5 - 3 }
        XCTAssertEqual(try NPYFile(path: dir.file("f4.npy")).matrix(), Matrix(rows: 4, cols: 3, flat))
        XCTAssertEqual(try NPYFile(path: dir.file("f8.npy")).matrix(), Matrix(rows: 4, cols: 3, flat))
        XCTAssertEqual(try NPYFile(path: dir.file("be.npy")).matrix(), Matrix(rows: 4, cols: 3, flat))
        XCTAssertEqual(try NPYFile(path: dir.file("u1.npy")).matrix(), Matrix(rows: 4, cols: 3, (0..<12).map { Float($0 * 20) }))
        XCTAssertEqual(try NPYFile(path: dir.file("b1.npy")).matrix(), Matrix(rows: 4, cols: 3, (0..<12).map { $0 % 3 == 0 ? 1 : 0 }))
        XCTAssertEqual(try NPYFile(path: dir.file("i8.npy")).matrix(), Matrix(rows: 4, cols: 3, (0..<12).map { Float($0 - 6) }))
        XCTAssertEqual(try NPYFile(path: dir.file("i4.npy")).matrix(), Matrix(rows: 4, cols: 3, (0..<12).map { Float($0 - 6) }))
        XCTAssertEqual(try NPYFile(path: dir.file("img.npy")).matrix(), Matrix(rows: 4, cols: 4, (0..<16).map { Float($0) * 0.5 - 3 }))
        XCTAssertEqual(try NPYFile(path: dir.file("vec.npy")).matrix(), Matrix(rows: 5, cols: 1, (0..<5).map { Float($0) * 0.5 - 3 }))
        let big = try NPYFile(path: dir.file("big.npy"))
        XCTAssertEqual([big.rows, big.cols], [2, 70000])
        let fortran = dir.file("fortran.npy")
        assertDataError(try NPYFile(path: fortran), mentions: [fortran, "Fortran"])
    }

    func testNumpyReadsWhatTheWriterWrites() throws {
        try requireNumpy()
        let m = Matrix(rows: 3, cols: 5, (0..<15).map { Float($0) * 0.25 - 1 })
        let path = dir.file("ours.npy")
        try NPYWriter.write(m, to: path)
        try runPython(
            """
            a = np.load('\(path)', mmap_mode='r')
            assert a.dtype == np.float32 and a.shape == (3, 5), (a.dtype, a.shape)
            assert a.flags['C_CONTIGUOUS']
            assert np.array_equal(a, (np.arange(15) * 0.25 - 1).reshape(3, 5).astype(np.float32))
            raw = open('\(path)', 'rb').read()
            assert raw[6:8] == bytes([1, 0])
            data_start = 10 + int.from_bytes(raw[8:10], 'little')
            assert data_start % 64 == 0 and raw[data_start - 1:data_start] == b'\\n', data_start
            """)
    }
}
