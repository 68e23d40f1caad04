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

/// Base for the safetensors tests: a fresh temporary folder per test, raw file builders for
/// corrupt files, and an assertion that an error is the expected `CheckpointError` for a file.
class SafeTensorsTestCase: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("safetensors-tests-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func path(_ name: String) -> String { dir + "/" + name }

    func contentsOfDir() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    func bytes(of path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    func writeBytes(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// A file with the given header text (padded with spaces to 8 bytes when `pad`), an explicit
    /// or true length prefix, and `data` after it.
    @discardableResult
    func rawFile(
        _ name: String, header: String, pad: Bool = true, length: UInt64? = nil,
        data: [UInt8] = []
    ) throws -> String {
        var h = Array(header.utf8)
        if pad { h += repeatElement(UInt8(ascii: " "), count: (8 - h.count % 8) % 8) }
        let n = length ?? UInt64(h.count)
        let file = withUnsafeBytes(of: n.littleEndian) { Array($0) } + h + data
        let p = path(name)
        try writeBytes(file, to: p)
        return p
    }

    /// Three F32 tensors "a" [2,2], "b" [3], "c" [1] written by the Swift writer.
    @discardableResult
    func validFile(_ name: String, metadata: [String: String] = ["k": "v"]) throws -> String {
        var w = SafeTensorsWriter()
        w.add(name: "a", shape: [2, 2], values: [1, 2, 3, 4])
        w.add(name: "b", shape: [3], values: [5, 6, 7])
        w.add(name: "c", shape: [1], values: [8])
        let p = path(name)
        try w.write(to: p, metadata: metadata)
        return p
    }

    /// Runs `body`, which must throw a `CheckpointError` for `path` whose reason satisfies `match`.
    @discardableResult
    func assertCheckpointError<T>(
        _ body: @autoclosure () throws -> T, path: String, _ what: String,
        file: StaticString = #filePath, line: UInt = #line,
        _ match: (CheckpointError.Reason) -> Bool
    ) -> CheckpointError? {
        do {
            _ = try body()
            XCTFail("expected \(what), nothing was thrown", file: file, line: line)
            return nil
        } catch let error as CheckpointError {
            XCTAssertTrue(match(error.reason), "expected \(what), got: \(error)", file: file, line: line)
            XCTAssertEqual(error.path, path, "the error must name the file", file: file, line: line)
            XCTAssertTrue(
                error.description.contains(path), "description must name the file: \(error)",
                file: file, line: line)
            return error
        } catch {
            XCTFail("expected CheckpointError (\(what)), got \(type(of: error)): \(error)", file: file, line: line)
            return nil
        }
    }
}
