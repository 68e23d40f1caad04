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

/// Files from the Swift writer load with the reference `safetensors` Python package (what
/// PyTorch/JAX users call), and files it writes load here. Needs python3 with numpy and
/// safetensors; a missing package fails the test and says to run launch/setup.
final class SafeTensorsInteropTests: SafeTensorsTestCase {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("python/safetensors_interop.py").path

    /// Runs the helper script; returns stdout, or nil after recording a failure.
    func runPython(_ arguments: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Data? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.script] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            XCTFail("cannot start python3 (\(error)); run launch/setup", file: file, line: line)
            return nil
        }
        // Read before waiting so a large output cannot block the child on a full pipe.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        switch process.terminationStatus {
        case 0:
            return stdout
        case 3:
            XCTFail(
                "python3 lacks the safetensors interop packages: \(stderr). Run launch/setup "
                    + "(it must pip-install numpy and safetensors).", file: file, line: line)
        default:
            XCTFail("python helper exited \(process.terminationStatus): \(stderr)", file: file, line: line)
        }
        return nil
    }

    /// A checkpoint written by the trainer loads in Python with the names, shapes and values of the
    /// trainer's own parameters and Adam moments.
    func testPythonReadsTheTrainersCheckpoint() throws {
        let run = try TinyRun(["training.epochs=1"])
        run.trainer.checkpointer = { [dir] t in try Checkpoint.save(t, run: dir, keep: 1) }
        _ = try run.trainer.run()
        let file = Checkpoint.list(run: dir)[0] + "/model.safetensors"
        guard let out = try runPython(["describe", file]) else { return }
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: out) as? [String: Any])
        let tensors = try XCTUnwrap(json["tensors"] as? [String: [String: Any]])
        let metadata = try XCTUnwrap(json["metadata"] as? [String: String])
        XCTAssertEqual(metadata["format"], "mvvae-checkpoint")
        XCTAssertEqual(metadata["step"], "\(run.trainer.state.step)")
        let arena = run.model.arena, adam = run.trainer.optimizer
        XCTAssertEqual(tensors.count, 3 * arena.views.count)
        for v in arena.views {
            for (name, base) in [(v.name, arena.values), ("adam.m.\(v.name)", adam.m), ("adam.v.\(v.name)", adam.v)] {
                let t = try XCTUnwrap(tensors[name], "python sees \(name)")
                XCTAssertEqual(t["dtype"] as? String, "float32")
                XCTAssertEqual(t["shape"] as? [Int], [v.rows, v.cols], name)
                let values = try XCTUnwrap(t["values"] as? [Double]).map(Float.init)
                XCTAssertEqual(values, Array(UnsafeBufferPointer(start: base + v.offset, count: v.count)), "\(name) values")
            }
        }
    }

    func testPythonLoadsWhatSwiftWrites() throws {
        let a = (0..<12).map { Float($0) * 0.375 - 2 }
        let b: [Float] = [1e-30, -0.0, 3.4e38, -1.25, .leastNonzeroMagnitude, 0.1, 7]
        let c: [Float] = [0.1, 0.2, 0.3, 0.4, -5]
        var w = SafeTensorsWriter()
        w.add(name: "encoder.0.weight", shape: [3, 4], values: a)
        w.add(name: "encoder.0.bias", shape: [1, 7], values: b)
        w.add(name: "prior.c", shape: [5], values: c)
        w.add(name: "scalar", shape: [], values: [4.5])
        w.add(name: "empty", shape: [0, 2], values: [])
        let metadata = ["format": "mvvae", "config": "{\"model\": \"jpvae\"}\nline 2", "ünï": "ç∂"]
        let p = path("swift.safetensors")
        try w.write(to: p, metadata: metadata)

        guard let out = try runPython(["describe", p]) else { return }
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: out) as? [String: Any])
        XCTAssertEqual(json["metadata"] as? [String: String], metadata)
        let tensors = try XCTUnwrap(json["tensors"] as? [String: [String: Any]])
        let expected: [String: ([Int], [Float])] = [
            "encoder.0.weight": ([3, 4], a), "encoder.0.bias": ([1, 7], b), "prior.c": ([5], c),
            "scalar": ([], [4.5]), "empty": ([0, 2], []),
        ]
        XCTAssertEqual(Set(tensors.keys), Set(expected.keys))
        for (name, (shape, values)) in expected {
            let t = try XCTUnwrap(tensors[name], name)
            XCTAssertEqual(t["dtype"] as? String, "float32", name)
            XCTAssertEqual(t["shape"] as? [Int], shape, name)
            let got = try XCTUnwrap(t["values"] as? [Double], name).map(Float.init)
            XCTAssertEqual(got.map(\.bitPattern), values.map(\.bitPattern), name)
            let sum = try XCTUnwrap(t["sum"] as? Double, name)
            XCTAssertEqual(sum, values.reduce(0.0) { $0 + Double($1) }, accuracy: 1e-6 * max(1, abs(sum)), name)
        }
    }

    func testSwiftLoadsWhatPythonWrites() throws {
        let p = path("python.safetensors")
        guard try runPython(["write", p]) != nil else { return }
        let f = try SafeTensorsFile(path: p)
        XCTAssertEqual(f.metadata, ["source": "python", "note": "é"])
        XCTAssertEqual(Set(f.names), ["weight", "bias", "scalar", "empty", "double", "long", "int", "byte"])
        let weight = try f.tensor("weight", expectedShape: [3, 4])
        XCTAssertEqual(weight.values, (0..<12).map { Float($0) * 0.25 - 1 })
        XCTAssertEqual(try f.tensor("bias").values, [1.5, -2.25, 3e-8])
        XCTAssertEqual(try f.tensor("scalar").shape, [])
        XCTAssertEqual(try f.tensor("scalar").values, [7.5])
        XCTAssertEqual(try f.tensor("empty").shape, [0, 3])
        XCTAssertEqual(try f.tensor("empty").values, [])
        XCTAssertEqual(f.dtype("double"), .f64)
        XCTAssertEqual(try f.tensor("double", expectedShape: [2, 2]).values, [0.1, -0.2, 1e10, 2])
        XCTAssertEqual(try f.tensor("long").values, [-3, 0, Float(1 << 40)])
        XCTAssertEqual(try f.tensor("int").values, [-7, 9])
        XCTAssertEqual(try f.tensor("byte").values, [0, 1, 255])
    }
}
