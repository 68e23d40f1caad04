import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class CheckpointTests: XCTestCase {
    func testResumeIsBitExact() throws {
        let dir = try temporaryFolder(self)
        // Uninterrupted: 3 epochs.
        let reference = try TinyRun()
        XCTAssertEqual(try reference.trainer.run(), .completed)

        // Interrupted mid-epoch 2 by a stop request, then resumed from the checkpoint in a new process state.
        let first = try TinyRun()
        var steps = 0
        first.trainer.observer = { if case .step = $0 { steps += 1 } }
        first.trainer.checkpointer = { t in try Checkpoint.save(t, run: dir, keep: 2) }
        XCTAssertEqual(try first.trainer.run(shouldStop: { steps == 20 }), .stopped(step: 21))
        let (loaded, skipped) = Checkpoint.newestValid(run: dir)
        XCTAssertTrue(skipped.isEmpty)
        let second = try TinyRun()
        try Checkpoint.restore(try XCTUnwrap(loaded), into: second.trainer)
        XCTAssertEqual(second.trainer.state.step, 21)
        XCTAssertEqual(second.trainer.state.epoch, 1)
        XCTAssertEqual(try second.trainer.run(), .completed)
        XCTAssertEqual(second.trainer.state.step, reference.trainer.state.step)
        XCTAssertEqual(second.parameters, reference.parameters, "resumed parameters equal the uninterrupted run bit for bit")
        XCTAssertEqual(second.trainer.optimizer.step, reference.trainer.optimizer.step)
    }

    func testCorruptCheckpointIsNamedAndAutoFallsBack() throws {
        let dir = try temporaryFolder(self)
        let run = try TinyRun(["training.epochs=2"])
        run.trainer.checkpointer = { t in try Checkpoint.save(t, run: dir, keep: 5) }
        XCTAssertEqual(try run.trainer.run(), .completed)
        let all = Checkpoint.list(run: dir)
        XCTAssertEqual(all.count, 2)
        // Flip one byte in the newest tensor file's data.
        let newest = all[1] + "/model.safetensors"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: newest))
        bytes[bytes.count - 10] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: newest))
        XCTAssertThrowsError(try Checkpoint.load(all[1])) { error in
            XCTAssertTrue("\(error)".contains("CRC-32"), "\(error)")
            XCTAssertTrue("\(error)".contains(newest), "the error names the file: \(error)")
        }
        var (loaded, skipped) = Checkpoint.newestValid(run: dir)
        XCTAssertEqual(loaded?.path, all[0], "auto resume falls back to the previous checkpoint")
        XCTAssertEqual(skipped.map(\.path), [all[1]])
        // A truncated state file in the older one leaves nothing valid.
        try Data("{\"format\":".utf8).write(to: URL(fileURLWithPath: all[0] + "/state.json"))
        (loaded, skipped) = Checkpoint.newestValid(run: dir)
        XCTAssertNil(loaded)
        XCTAssertEqual(skipped.count, 2)
    }

    /// Issue 14, item 6: one flipped bit anywhere in state.json is refused, naming the file (before, most
    /// flips in the embedded config read as an unknown key and a few were silently accepted).
    func testEveryBitFlipInTheStateFileIsRefused() throws {
        let dir = try temporaryFolder(self)
        let run = try TinyRun(["training.epochs=1", "data.trainLimit=80"])
        run.trainer.checkpointer = { t in try Checkpoint.save(t, run: dir, keep: 1) }
        XCTAssertEqual(try run.trainer.run(), .completed)
        let folder = try XCTUnwrap(Checkpoint.list(run: dir).last), path = folder + "/state.json"
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let loaded = try Checkpoint.load(folder)
        XCTAssertEqual(loaded.state.format, 3)
        var rng = RandomStream(seed: 11)
        var refusals = [String: Int]()
        for trial in 0..<300 {
            var bytes = original
            let bit = trial < 8 ? trial : rng.nextInt(below: bytes.count * 8)
            bytes[bit / 8] ^= UInt8(1 << (bit % 8))
            try bytes.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try Checkpoint.load(folder), "bit \(bit) flipped was accepted") { error in
                XCTAssertTrue("\(error)".contains(path), "the error names state.json: \(error)")
                refusals["\(error)".contains("CRC-32") ? "checksum" : "other", default: 0] += 1
            }
        }
        XCTAssertEqual(refusals, ["checksum": 300])
        // A consistent edit of the config (its checksum rewritten) still fails the fingerprint check.
        var state = loaded.state
        state.config = state.config.replacingOccurrences(of: "relu", with: "tanh")
        let edited = try JSONEncoder().encode(state)
        try edited.write(to: URL(fileURLWithPath: path))
        try Data(String(format: "%08x\n", edited.withUnsafeBytes { crc32($0) }).utf8).write(to: URL(fileURLWithPath: path + ".crc32"))
        XCTAssertThrowsError(try Checkpoint.load(folder)) { XCTAssertTrue("\($0)".contains("fingerprint"), "\($0)") }
        // A format 3 checkpoint without its checksum file is refused, naming it; format 2 ones load without.
        try original.write(to: URL(fileURLWithPath: path))
        try FileManager.default.removeItem(atPath: path + ".crc32")
        XCTAssertThrowsError(try Checkpoint.load(folder)) { XCTAssertTrue("\($0)".contains("state.json.crc32"), "\($0)") }
        state = loaded.state
        state.format = 2
        try JSONEncoder().encode(state).write(to: URL(fileURLWithPath: path))
        XCTAssertNoThrow(try Checkpoint.load(folder))
    }

    /// Fields a CRC-consistent edit could set: a tensor file outside the folder, a negative Adam step.
    func testStateFieldsOutsideTheirRangeAreRefused() throws {
        let dir = try temporaryFolder(self)
        let run = try TinyRun(["training.epochs=1", "data.trainLimit=80"])
        run.trainer.checkpointer = { t in try Checkpoint.save(t, run: dir, keep: 1) }
        XCTAssertEqual(try run.trainer.run(), .completed)
        let state = try Checkpoint.load(try XCTUnwrap(Checkpoint.list(run: dir).last)).state
        XCTAssertEqual(try CheckpointState.decode(try JSONEncoder().encode(state), path: "s.json"), state)
        for (edit, expected) in [
            ({ (s: inout CheckpointState) in s.tensorFile = "../../model.safetensors" }, "tensorFile"),
            ({ $0.tensorFile = "" }, "tensorFile"),
            ({ $0.adamStep = -1 }, "adamStep"),
            ({ $0.worldSize = 0 }, "worldSize"),
        ] as [((inout CheckpointState) -> Void, String)] {
            var bad = state
            edit(&bad)
            XCTAssertThrowsError(try CheckpointState.decode(try JSONEncoder().encode(bad), path: "s.json")) { error in
                XCTAssertTrue("\(error)".contains(expected) && "\(error)".contains("s.json"), "\(error)")
            }
        }
    }

    func testTheViewsAreRecordedAndAnInconsistentRecordIsRefused() throws {
        let dir = try temporaryFolder(self)
        let run = try TinyRun(["training.epochs=1", "data.trainLimit=80"])
        let views = ViewShapes(
            names: ["top", "bottom"], dimensions: [392, 392],
            images: ImageViewLayout.topBottom.blockSizes(height: 28, width: 28),
            cut: .init(height: 28, width: 28, layout: .topBottom))
        XCTAssertNil(views.problem)
        run.trainer.checkpointer = { t in try Checkpoint.save(t, run: dir, keep: 1, views: views) }
        XCTAssertEqual(try run.trainer.run(), .completed)
        let state = try Checkpoint.load(try XCTUnwrap(Checkpoint.list(run: dir).last)).state
        XCTAssertEqual(state.views, views, "read back as written")
        var old = state
        old.views = nil
        XCTAssertNil(try CheckpointState.decode(try JSONEncoder().encode(old), path: "s.json").views, "a checkpoint from before has none")
        for (edit, expected) in [
            ({ (v: inout ViewShapes) in v.names = ["top"] }, "1 view name(s) for 2"),
            ({ $0.dimensions = [392, 0] }, "a view of 0 features"),
            ({ $0.images = [.init(height: 14, width: 28)] }, "1 image size(s) for 2 view(s)"),
            ({ $0.images![1] = .init(height: 28, width: 28) }, "view 2 is 392 features, not an image of 28×28"),
            ({ $0.cut!.layout = .quadrants }, "the cut 'quadrants' of a 28×28 image"),
            ({ $0.cut!.height = 1 << 40 }, "cannot be cut into views"),
        ] as [((inout ViewShapes) -> Void, String)] {
            var bad = state
            edit(&bad.views!)
            XCTAssertThrowsError(try CheckpointState.decode(try JSONEncoder().encode(bad), path: "s.json")) { error in
                XCTAssertTrue("\(error)".contains(expected) && "\(error)".contains("s.json"), "\(error)")
            }
        }
    }

    func testCheckpointOfAnotherModelIsRejected() throws {
        let dir = try temporaryFolder(self)
        let run = try TinyRun(["training.epochs=1"])
        run.trainer.checkpointer = { t in try Checkpoint.save(t, run: dir, keep: 1) }
        _ = try run.trainer.run()
        let other = try TinyRun(["model.latent=[5, 6]"])
        let loaded = try Checkpoint.load(Checkpoint.list(run: dir)[0])
        XCTAssertThrowsError(try Checkpoint.restore(loaded, into: other.trainer)) { error in
            XCTAssertTrue("\(error)".contains("shape"), "\(error)")
        }
    }

    func testKeepsOnlyTheNewestCheckpoints() throws {
        let dir = try temporaryFolder(self)
        let run = try TinyRun(["training.epochs=3"])
        run.trainer.checkpointer = { t in try Checkpoint.save(t, run: dir, keep: 2) }
        _ = try run.trainer.run()
        let names = Checkpoint.list(run: dir).map { ($0 as NSString).lastPathComponent }
        XCTAssertEqual(names, ["step-000000030", "step-000000045"])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: Checkpoint.folder(run: dir)).filter { $0.hasPrefix(".") }
        XCTAssertTrue(leftovers.isEmpty, "no temporary folders remain")
    }

    func testFolderNamesCarryTheWholeStep() {
        XCTAssertEqual(Checkpoint.folderName(step: 12), "step-000000012")
        XCTAssertEqual(Checkpoint.folderName(step: 1_000_000_000_000), "step-1000000000000")
        XCTAssertEqual(Checkpoint.stepNumber(of: "/x/checkpoints/" + Checkpoint.folderName(step: 1_000_000_000_000)), 1_000_000_000_000)
    }

    func testLeftoversOfKilledRunsAreRemovedAndNeverListed() throws {
        let run = try temporaryFolder(self)
        let root = Checkpoint.folder(run: run), fm = FileManager.default
        for name in [
            "step-000000010", "step-000000020", ".step-000000030.tmp-99", ".pruned-step-000000005-98", "step-000000020.replaced-97",
            "step-000000040.replaced-96",
        ] {
            try fm.createDirectory(atPath: (root as NSString).appendingPathComponent(name), withIntermediateDirectories: true)
        }
        XCTAssertEqual(Checkpoint.list(run: run).map { ($0 as NSString).lastPathComponent }, ["step-000000010", "step-000000020"])
        let removed = Set(Checkpoint.removeLeftovers(run: run).map { ($0 as NSString).lastPathComponent })
        XCTAssertEqual(removed, [".step-000000030.tmp-99", ".pruned-step-000000005-98", "step-000000020.replaced-97"])
        // A set-aside copy whose checkpoint is gone is the only copy: it becomes the checkpoint again.
        XCTAssertEqual(
            Checkpoint.list(run: run).map { ($0 as NSString).lastPathComponent }, ["step-000000010", "step-000000020", "step-000000040"])
    }
}
