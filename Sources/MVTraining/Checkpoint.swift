import Foundation
import MVCore
import MVIO
import MVConfig
import MVData
import MVModels

/// A saved training state: `<run>/checkpoints/step-<n>/` with
/// - `model.safetensors`: every arena view under its name, and the Adam moments as `adam.m.<name>` and
///   `adam.v.<name>` (float32; readable with `safetensors.numpy.load_file`);
/// - `state.json`: the trainer's position, the optimizer step, the resolved config, the world size at
///   save, and the CRC-32 of the tensor file;
/// - `state.json.crc32`: the CRC-32 of state.json's bytes (8 hex digits), so that a flipped bit in it is
///   refused as one in the tensors is (format 3 on; older checkpoints have none and load without).
/// Written by rank 0 into a temporary folder, fsynced, then renamed into place, so a checkpoint folder
/// either is complete or does not exist.
public struct CheckpointState: Codable, Equatable {
    /// 2: the training state records the stage (format 1, from before stages, is read as stage 0).
    /// 3: state.json has its CRC-32 beside it (formats 1 and 2 are read without one).
    public static let currentFormat = 3
    public static let readableFormats = 1...3
    public var format: Int
    public var training: TrainingState
    /// The name of the stage in progress and every stage's length at save (nil in format 1).
    public var stage: String?
    public var stageEpochs: [Int]?
    public var adamStep: Int
    public var seed: UInt64
    public var worldSize: Int
    public var configFingerprint: String
    public var config: String
    public var tensorFile: String
    public var tensorCRC32: UInt32
    public var savedAt: String
    /// The data's views as the model was built for them (absent in checkpoints written before it was
    /// recorded: then the data set is read to learn the views' sizes).
    public var views: ViewShapes?

    /// Decodes and validates `state.json`'s bytes (its CRC is checked by the caller); `path` names the
    /// file in errors. Everything a damaged or hand-edited file could get wrong is refused here.
    public static func decode(_ data: Data, path: String) throws -> CheckpointState {
        let state: CheckpointState
        do { state = try JSONDecoder().decode(CheckpointState.self, from: data) } catch {
            throw CheckpointError(path: path, .invalidState("not a valid checkpoint state file (\(error))"))
        }
        guard readableFormats.contains(state.format) else {
            throw CheckpointError(
                path: path,
                .invalidState(
                    "checkpoint format \(state.format) is not supported (this build reads formats "
                        + "\(readableFormats.lowerBound)–\(readableFormats.upperBound))"
                ))
        }
        guard ExperimentConfig.fingerprint(ofYAML: state.config) == state.configFingerprint else {
            throw CheckpointError(
                path: path,
                .invalidState("the embedded config does not match its fingerprint \(state.configFingerprint): the file is damaged"))
        }
        // The tensor file sits beside state.json: a name with a slash would read some other file.
        guard !state.tensorFile.isEmpty, !state.tensorFile.contains("/"), state.tensorFile != "..", state.tensorFile != "." else {
            throw CheckpointError(path: path, .invalidState("tensorFile '\(state.tensorFile)' is not a file name in the checkpoint folder"))
        }
        guard state.adamStep >= 0, state.worldSize >= 1 else {
            throw CheckpointError(
                path: path, .invalidState("adamStep \(state.adamStep) and worldSize \(state.worldSize) must be ≥ 0 and ≥ 1"))
        }
        if let problem = state.views?.problem {
            throw CheckpointError(path: path, .invalidState("the recorded views do not describe data: \(problem)"))
        }
        return state
    }
}

public enum Checkpoint {
    public static let folderPrefix = "step-"
    public static let stateFile = "state.json"
    public static let stateChecksumFile = "state.json.crc32"
    public static let tensorFile = "model.safetensors"

    /// The checkpoints folder of a run.
    public static func folder(run: String) -> String { (run as NSString).appendingPathComponent("checkpoints") }

    /// Saves the trainer's state (call on rank 0 only) with the data's `views`; keeps the newest `keep` checkpoints.
    @discardableResult
    public static func save(_ trainer: Trainer, run: String, keep: Int, views: ViewShapes? = nil) throws -> String {
        let fm = FileManager.default
        let root = folder(run: run)
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        let name = folderName(step: trainer.state.step)
        let final = (root as NSString).appendingPathComponent(name)
        let temp = (root as NSString).appendingPathComponent(".\(name).tmp-\(getpid())")
        try? fm.removeItem(atPath: temp)
        try fm.createDirectory(atPath: temp, withIntermediateDirectories: false)
        defer { try? fm.removeItem(atPath: temp) }  // gone after the rename; a failed save leaves nothing

        let arena = trainer.model.arena, adam = trainer.optimizer
        var writer = SafeTensorsWriter()
        for v in arena.views {
            writer.add(name: v.name, shape: [v.rows, v.cols], data: UnsafeBufferPointer(start: arena.values + v.offset, count: v.count))
        }
        for v in arena.views {
            writer.add(
                name: "adam.m.\(v.name)", shape: [v.rows, v.cols], data: UnsafeBufferPointer(start: adam.m + v.offset, count: v.count))
        }
        for v in arena.views {
            writer.add(
                name: "adam.v.\(v.name)", shape: [v.rows, v.cols], data: UnsafeBufferPointer(start: adam.v + v.offset, count: v.count))
        }
        let tensorPath = (temp as NSString).appendingPathComponent(tensorFile)
        let fingerprint = try trainer.config.fingerprint()
        let tensorCRC = try writer.write(
            to: tensorPath,
            metadata: [
                "format": "mvvae-checkpoint", "version": "\(CheckpointState.currentFormat)",
                "config_fingerprint": fingerprint, "step": "\(trainer.state.step)",
            ])
        let state = CheckpointState(
            format: CheckpointState.currentFormat, training: trainer.state, stage: trainer.stage.name,
            stageEpochs: trainer.stages.map(\.epochs), adamStep: adam.step, seed: trainer.config.seed,
            worldSize: trainer.comm.size, configFingerprint: fingerprint, config: try trainer.config.yaml(),
            tensorFile: tensorFile, tensorCRC32: tensorCRC,
            savedAt: ISO8601DateFormatter().string(from: Date()), views: views)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let stateBytes = try encoder.encode(state)
        try writeDurably(stateBytes, to: (temp as NSString).appendingPathComponent(stateFile))
        let stateCRC = stateBytes.withUnsafeBytes { crc32($0) }
        try writeDurably(Data(String(format: "%08x\n", stateCRC).utf8), to: (temp as NSString).appendingPathComponent(stateChecksumFile))
        // Saving a step again (a resumed run stopping where it stopped before): move the old folder
        // aside first, so a valid checkpoint exists at every moment.
        let aside = final + ".replaced-\(getpid())"
        let replacing = fm.fileExists(atPath: final)
        if replacing {
            guard rename(final, aside) == 0 else {
                throw CheckpointError(
                    path: final, .io(operation: "move the previous checkpoint aside", message: String(cString: strerror(errno))))
            }
        }
        guard rename(temp, final) == 0 else {
            let reason = String(cString: strerror(errno))
            if replacing { _ = rename(aside, final) }
            throw CheckpointError(path: final, .io(operation: "rename checkpoint into place", message: reason))
        }
        fsyncDirectory(root)
        if replacing { try? fm.removeItem(atPath: aside) }
        // Keep the newest `keep`, never the one just written.
        // Pruned by renaming first: a kill during the removal leaves a hidden folder (cleaned at the next
        // start), never a step-N/ without its state.json.
        for old in list(run: run).filter({ $0 != final }).dropLast(keep - 1) {
            let doomed = (root as NSString).appendingPathComponent(".pruned-\((old as NSString).lastPathComponent)-\(getpid())")
            if rename(old, doomed) == 0 { try? fm.removeItem(atPath: doomed) }
        }
        return final
    }

    /// Removes what killed runs leave behind in the run's checkpoints folder: unfinished saves
    /// (`.step-N.tmp-PID/`), half-pruned folders (`.pruned-…`) and set-aside copies (`step-N.replaced-PID`)
    /// whose step-N/ exists; a set-aside copy without its step-N/ is the only copy and becomes step-N/
    /// again. Call at the start of a run, before any save. Returns what was removed.
    @discardableResult
    public static func removeLeftovers(run: String) -> [String] {
        let root = folder(run: run), fm = FileManager.default
        let names = (try? fm.contentsOfDirectory(atPath: root)) ?? []
        var removed: [String] = []
        for name in names {
            let path = (root as NSString).appendingPathComponent(name)
            let stale: Bool
            if name.hasPrefix(".step-") && name.contains(".tmp-") || name.hasPrefix(".pruned-") {
                stale = true
            } else if name.hasPrefix(folderPrefix), let cut = name.range(of: ".replaced-") {
                let original = (root as NSString).appendingPathComponent(String(name[..<cut.lowerBound]))
                stale = fm.fileExists(atPath: original)
                if !stale { _ = rename(path, original) }
            } else {
                stale = false
            }
            if stale, (try? fm.removeItem(atPath: path)) != nil { removed.append(path) }
        }
        return removed
    }

    /// Moves the run's checkpoints with a later step than `step` into `checkpoints/abandoned-<step>/`
    /// (resuming from an older checkpoint starts a new trajectory; the old one is kept, not deleted,
    /// and no longer found by `--resume auto`). Returns the moved folders.
    @discardableResult
    public static func abandon(after step: Int, run: String) throws -> [String] {
        let later = list(run: run).filter { stepNumber(of: $0).map { $0 > step } ?? false }
        guard !later.isEmpty else { return [] }
        let fm = FileManager.default
        let dest = (folder(run: run) as NSString).appendingPathComponent("abandoned-after-\(step)-\(getpid())")
        try fm.createDirectory(atPath: dest, withIntermediateDirectories: true)
        for path in later {
            try fm.moveItem(atPath: path, toPath: (dest as NSString).appendingPathComponent((path as NSString).lastPathComponent))
        }
        return later
    }

    /// `step-` and the step zero-padded to 9 digits (more when it has more; never through 32 bits).
    public static func folderName(step: Int) -> String {
        let digits = String(step)
        return folderPrefix + String(repeating: "0", count: Swift.max(0, 9 - digits.count)) + digits
    }

    /// The step encoded in a checkpoint folder's name.
    public static func stepNumber(of path: String) -> Int? {
        let name = (path as NSString).lastPathComponent
        return name.hasPrefix(folderPrefix) ? Int(name.dropFirst(folderPrefix.count)) : nil
    }

    /// Checkpoint folders of a run, oldest first.
    public static func list(run: String) -> [String] {
        let root = folder(run: run)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { $0.hasPrefix(folderPrefix) && !$0.contains(".") }.sorted().map {
            (root as NSString).appendingPathComponent($0)
        }
    }

    /// A checkpoint read back and checked against its CRC.
    public struct Loaded {
        public let path: String
        public let state: CheckpointState
        public let tensors: SafeTensorsFile
        /// The saved model family's former parameter names (`ModelRegistry.Entry.formerName`).
        let formerName: (String) -> String?

        /// Where parameter `name` (or its moment, `adam.m.`/`adam.v.` + name) is stored: under that
        /// name, or in a checkpoint written before every family named its views alike, its former one.
        public func storedName(_ name: String) -> String {
            Checkpoint.storedName(name, has: { tensors.shape($0) != nil }, formerName: formerName)
        }
    }

    /// `name` if the file `has` it, else its former name (after an `adam.m.`/`adam.v.` prefix) if the
    /// file has that, else `name` (whose absence the caller reports).
    public static func storedName(_ name: String, has: (String) -> Bool, formerName: (String) -> String?) -> String {
        if has(name) { return name }
        for prefix in ["adam.m.", "adam.v.", ""] where name.hasPrefix(prefix) {
            if let former = formerName(String(name.dropFirst(prefix.count))), has(prefix + former) { return prefix + former }
        }
        return name
    }

    /// Reads and validates one checkpoint folder.
    public static func load(_ path: String) throws -> Loaded {
        let statePath = (path as NSString).appendingPathComponent(stateFile)
        guard let data = FileManager.default.contents(atPath: statePath) else {
            throw CheckpointError(path: statePath, .io(operation: "read", message: "missing or unreadable"))
        }
        // The state's own checksum first: a flipped bit is named as corruption, not read as a strange value.
        let checksumPath = (path as NSString).appendingPathComponent(stateChecksumFile)
        let recordedState = FileManager.default.contents(atPath: checksumPath)
        if let recordedState {
            guard let text = String(data: recordedState, encoding: .utf8),
                let recorded = UInt32(text.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16)
            else {
                throw CheckpointError(path: checksumPath, .invalidState("not a CRC-32 (8 hex digits)"))
            }
            let found = data.withUnsafeBytes { crc32($0) }
            guard found == recorded else {
                throw CheckpointError(path: statePath, .stateChecksumMismatch(found: found, recorded: recorded))
            }
        }
        let state = try CheckpointState.decode(data, path: statePath)
        if recordedState == nil && state.format >= 3 {
            throw CheckpointError(
                path: checksumPath,
                .io(operation: "read", message: "missing: format \(state.format) checkpoints keep state.json's CRC-32 there"))
        }
        let tensorPath = (path as NSString).appendingPathComponent(state.tensorFile)
        let crc = try crc32(ofFile: tensorPath)
        guard crc == state.tensorCRC32 else {
            throw CheckpointError(path: tensorPath, .checksumMismatch(found: crc, recorded: state.tensorCRC32))
        }
        let family = try? ExperimentConfig.parse(yaml: state.config, source: statePath).model.type
        return Loaded(
            path: path, state: state, tensors: try SafeTensorsFile(path: tensorPath),
            formerName: family.map { ModelRegistry.entry($0).formerName } ?? { _ in nil })
    }

    /// The newest checkpoint of `run` that validates; the ones skipped on the way, with why.
    public static func newestValid(run: String) -> (Loaded?, skipped: [(path: String, reason: String)]) {
        var skipped: [(String, String)] = []
        for path in list(run: run).reversed() {
            do { return (try load(path), skipped) } catch { skipped.append((path, "\(error)")) }
        }
        return (nil, skipped)
    }

    /// Why `loaded` cannot be put into `arena` (and, with `moments`, Adam's moments), or nil: every
    /// tensor the model has is present, float32 (a checkpoint is never written otherwise), of the right
    /// shape and finite, and nothing else is there. Reads the tensors but writes nothing.
    public static func fitProblem(_ loaded: Loaded, arena: ParameterArena, moments: Bool) -> String? {
        let prefixes = moments ? ["", "adam.m.", "adam.v."] : [""]
        var scratch = [Float]()
        for v in arena.views {
            for prefix in prefixes {
                let name = loaded.storedName(prefix + v.name)
                guard let shape = loaded.tensors.shape(name) else { return "\(loaded.path) has no tensor '\(name)'" }
                guard shape == [v.rows, v.cols] else {
                    return "tensor '\(name)' in \(loaded.path) has shape \(shape), the model needs [\(v.rows), \(v.cols)]"
                }
                guard loaded.tensors.dtype(name) == .f32 else {
                    return "tensor '\(name)' in \(loaded.path) is \(loaded.tensors.dtype(name)?.rawValue ?? "?"), checkpoints hold F32"
                }
                scratch = [Float](repeating: 0, count: v.count)
                do {
                    try scratch.withUnsafeMutableBufferPointer { try loaded.tensors.read(name, into: $0.baseAddress!, count: v.count) }
                } catch { return "\(error)" }
                if let bad = scratch.firstIndex(where: { !$0.isFinite }) {
                    return "tensor '\(name)' in \(loaded.path) holds \(scratch[bad]) at element \(bad): not a state training can leave"
                }
            }
        }
        let expected = Set(arena.views.flatMap { v in prefixes.map { loaded.storedName($0 + v.name) } })
        if moments, let extra = loaded.tensors.names.first(where: { !expected.contains($0) }) {
            return "\(loaded.path) holds tensor '\(extra)' that this model does not have"
        }
        return nil
    }

    /// Puts a loaded checkpoint into the trainer: parameters, Adam moments and step, training position.
    /// Everything is checked first (`fitProblem`, the saved position against the recipe), so a refused
    /// checkpoint leaves the trainer as it was.
    public static func restore(_ loaded: Loaded, into trainer: Trainer) throws {
        let arena = trainer.model.arena, adam = trainer.optimizer
        if let problem = fitProblem(loaded, arena: arena, moments: true) { throw TrainingError.checkpointMismatch(problem) }
        let before = trainer.state
        trainer.state = loaded.state.training
        do { try trainer.checkResumedStage(savedName: loaded.state.stage, savedEpochs: loaded.state.stageEpochs) } catch {
            trainer.state = before
            throw TrainingError.stageMismatch("\(loaded.path): \(error)")
        }
        for v in arena.views {
            for (prefix, base) in [("", arena.values), ("adam.m.", adam.m), ("adam.v.", adam.v)] {
                try loaded.tensors.read(loaded.storedName(prefix + v.name), into: base + v.offset, count: v.count)
            }
        }
        adam.step = loaded.state.adamStep
    }

    /// Loads only the parameters (for evaluation and imputation), refusing a checkpoint that does not fit.
    public static func loadParameters(_ loaded: Loaded, into arena: ParameterArena) throws {
        if let problem = fitProblem(loaded, arena: arena, moments: false) { throw TrainingError.checkpointMismatch(problem) }
        for v in arena.views { try loaded.tensors.read(loaded.storedName(v.name), into: arena.values + v.offset, count: v.count) }
    }

    static func writeDurably(_ data: Data, to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CheckpointError(path: path, .io(operation: "open", message: String(cString: strerror(errno)))) }
        defer { close(fd) }
        try data.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count {
                let n = write(fd, raw.baseAddress! + off, raw.count - off)
                if n < 0 { throw CheckpointError(path: path, .io(operation: "write", message: String(cString: strerror(errno)))) }
                off += n
            }
        }
        guard fsync(fd) == 0 else { throw CheckpointError(path: path, .io(operation: "fsync", message: String(cString: strerror(errno)))) }
    }

    static func fsyncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }
}
