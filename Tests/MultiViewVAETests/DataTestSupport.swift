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

/// A fresh directory under the system temp dir, removed when the object goes away.
final class DataTemporaryDirectory {
    let path: String

    init() {
        var template = Array((NSTemporaryDirectory() + "/mvvae-data-XXXXXX").utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        path = String(cString: template)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A test case with a fresh folder per test (`dir`), removed after it: XCTest keeps every test's instance
/// until the process ends (without deinit), so a folder made at init would outlive the run.
class DataFolderTestCase: XCTestCase {
    var dir: DataTemporaryDirectory!

    override func setUp() {
        super.setUp()
        dir = DataTemporaryDirectory()
    }

    override func tearDown() {
        dir = nil
        super.tearDown()
    }
}

func writeBytes(_ bytes: [UInt8], to path: String) {
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

func readBytes(_ path: String) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: path) ?? Data())
}

/// A .npy file assembled by hand (independent of `NPYWriter`): magic, version, header length,
/// the dict text padded with spaces to a 64-byte boundary, then `payload`.
/// `dict` overrides the generated dict text to build malformed headers.
func handMadeNPY(
    descr: String, shape: [Int], fortran: Bool = false, major: UInt8 = 1,
    payload: [UInt8], dict: String? = nil
) -> [UInt8] {
    let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? ",)" : ")")
    let text = dict ?? "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
    let lengthBytes = major == 1 ? 2 : 4
    var header = Array(text.utf8)
    while (8 + lengthBytes + header.count + 1) % 64 != 0 { header.append(0x20) }
    header.append(0x0A)
    var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [major, 0]
    for i in 0..<lengthBytes { out.append(UInt8(truncatingIfNeeded: header.count >> (8 * i))) }
    return out + header + payload
}

/// Little-endian bytes of fixed-width values.
func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

func bigEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    values.flatMap { v in withUnsafeBytes(of: v.bigEndian) { Array($0) } }
}

/// Runs a command, returning (exit status, stdout + stderr).
@discardableResult
func runProcess(_ arguments: [String], stdin: [UInt8]? = nil) throws -> (status: Int32, output: [UInt8]) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    let input = Pipe()
    if stdin != nil { process.standardInput = input }
    try process.run()
    if let stdin {
        // Feed stdin on another thread so a full stdout pipe cannot deadlock us.
        let writer = Thread {
            input.fileHandleForWriting.write(Data(stdin))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, [UInt8](data))
}

/// gzip-compresses bytes with the system `gzip` (the same tool that made the Fashion-MNIST files).
func gzipped(_ bytes: [UInt8]) throws -> [UInt8] {
    let (status, output) = try runProcess(["gzip", "-c", "-n"], stdin: bytes)
    precondition(status == 0, "gzip failed")
    return output
}

/// Fails the calling test unless python3 with numpy can be run (launch/setup installs both).
func requireNumpy() throws {
    let (status, _) = try runProcess(["python3", "-c", "import numpy"])
    if status != 0 {
        XCTFail("python3 with numpy is not available; run launch/setup")
        throw CocoaError(.executableNotLoadable)
    }
}

/// Runs a Python script (with numpy imported as np) and fails the test with its output if it fails.
func runPython(_ script: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let (status, output) = try runProcess(["python3", "-c", "import numpy as np\n" + script])
    XCTAssertEqual(status, 0, "python failed:\n" + String(decoding: output, as: UTF8.self), file: file, line: line)
}

/// Asserts that `body` throws a `DataError` whose message contains every string in `mentions`
/// (typically the file path and a byte offset), and that `matches` accepts the case.
func assertDataError<T>(
    _ body: @autoclosure () throws -> T, mentions: [String],
    matches: (DataError) -> Bool = { _ in true },
    file: StaticString = #filePath, line: UInt = #line
) {
    do {
        _ = try body()
        XCTFail("expected a DataError mentioning \(mentions)", file: file, line: line)
    } catch let error as DataError {
        let text = error.description
        for m in mentions {
            XCTAssertTrue(text.contains(m), "message does not mention '\(m)': \(text)", file: file, line: line)
        }
        XCTAssertTrue(matches(error), "unexpected error case: \(error)", file: file, line: line)
    } catch {
        XCTFail("expected a DataError, got \(error)", file: file, line: line)
    }
}
