import Foundation
import MVConfig
import MVCore
import MVModels

/// The one place that decides what a run resumes from (`mvvae train --resume`):
/// - `auto`: the newest checkpoint of the run folder that validates and fits the model, falling back
///   past damaged ones (a failed CRC, an unreadable state) and ones that do not fit (a tensor renamed
///   or reshaped, an impossible training position), each named; none that validates: the run starts from
///   scratch; valid ones of which none fits: refused, nothing changed (a fresh start would save over them);
/// - a path: that checkpoint, or an error; when it is an older checkpoint of the same run, the later
///   ones are moved aside as an abandoned trajectory, once it has been restored (a resume that fails
///   leaves the checkpoints as they were).
/// The run's config is the checkpoint's; only settings that leave the trajectory as it was may change.
public struct Resumption {
    public enum Source: Equatable {
        case auto
        case checkpoint(String)

        /// `--resume`'s value: "auto" or a checkpoint folder.
        public init(_ text: String) { self = text == "auto" ? .auto : .checkpoint(text) }
    }

    public let source: Source
    public let run: String
    /// The checkpoint to try first (nil: `auto` found none that validates).
    public let first: Checkpoint.Loaded?
    /// Prints what was skipped and why (rank 0 only; the others pass a no-op).
    let log: (String) -> Void

    /// Reads the first candidate: needed before the model exists, since its config is the run's.
    public init(_ source: Source, run: String, log: @escaping (String) -> Void) throws {
        self.source = source
        self.run = run
        self.log = log
        switch source {
        case .auto:
            let (found, skipped) = Checkpoint.newestValid(run: run)
            for s in skipped { log("resume: skipping \(s.path): \(s.reason)") }
            if found == nil { log("resume: no valid checkpoint in \(run); starting from scratch") }
            first = found
        case let .checkpoint(path):
            if FileManager.default.fileExists(atPath: Checkpoint.folder(run: path)) {
                throw ResumeError(
                    "--resume takes auto or one checkpoint folder (\(Checkpoint.folder(run: path))/step-…); \(path) is a run folder: "
                        + "give --run \(path) --resume auto")
            }
            first = try Checkpoint.load(path)
        }
    }

    /// The config the resumed run trains with: the checkpoint's, with `overrides` applied, which may
    /// change only training.epochs, training.stages.<name>.epochs, logEvery, keepCheckpoints,
    /// checkpointEveryEpochs and validate (repeating the run's own values is fine). `fresh` (--config with the
    /// overrides) must describe the same run up to those, its name and its evaluation settings: another
    /// config's model would otherwise be continued silently. Without a checkpoint: `fresh`.
    public func config(_ fresh: ExperimentConfig, overrides: [String], configPath: String = "--config") throws -> ExperimentConfig {
        guard let first else { return fresh }
        let source = "\(first.path)/state.json"
        let saved = try ExperimentConfig.parse(yaml: first.state.config, source: source)
        let resumed = try ExperimentConfig.parse(yaml: first.state.config, source: source, overrides: overrides)
        guard Self.trajectory(resumed, like: saved) == Self.trajectory(saved, like: saved) else {
            throw ResumeError(
                """
                --set \(overrides.joined(separator: " ")) would change the resumed run's configuration; on resume only \
                training.epochs, training.stages.<name>.epochs, logEvery, keepCheckpoints, checkpointEveryEpochs, validate, the name and \
                evaluation settings may change
                """)
        }
        let given = Self.trajectory(fresh, like: saved), kept = Self.trajectory(saved, like: saved)
        guard given == kept else {
            let parts = [
                ("seed", given.seed != kept.seed), ("data", given.data != kept.data), ("model", given.model != kept.model),
                ("training", given.training != kept.training),
            ].filter(\.1).map(\.0)
            throw ResumeError(
                "\(configPath) is not the configuration \(run) was trained with (its \(parts.joined(separator: ", ")) differ); nothing "
                    + "was changed. Resume with the run's own \((run as NSString).appendingPathComponent("config.yaml")), or train this "
                    + "config with another --run")
        }
        return resumed
    }

    /// `config` with what a resume may change (lengths, logging, checkpointing, validation, the name, the
    /// evaluation settings) set to `reference`'s: what is left decides the trajectory.
    static func trajectory(_ config: ExperimentConfig, like reference: ExperimentConfig) -> ExperimentConfig {
        var c = config
        c.name = reference.name
        c.evaluation = reference.evaluation
        c.training.epochs = reference.training.epochs
        c.training.logEvery = reference.training.logEvery
        c.training.keepCheckpoints = reference.training.keepCheckpoints
        c.training.checkpointEveryEpochs = reference.training.checkpointEveryEpochs
        c.training.validate = reference.training.validate
        // Stage lengths may change too (`restore` refuses a finished stage's or a shortened one).
        c.training.stages = c.training.stages.compactMapValues { stage in
            var s = stage
            s.epochs = nil
            return s.learningRate == nil ? nil : s
        }
        return c
    }

    /// Restores the first candidate that fits `trainer` (`auto`: falling back to older checkpoints of the
    /// run, which land wherever their saved state says, in whichever stage); returns it, or nil when
    /// nothing fits (`auto` only: the run starts from scratch). Collective only through the trainer.
    public func restore(into trainer: Trainer) throws -> Checkpoint.Loaded? {
        guard let first else { return nil }
        var older = source == .auto ? Array(Checkpoint.list(run: run).reversed().drop { $0 != first.path }.dropFirst()) : []
        var candidate: Checkpoint.Loaded? = first
        var restored: Checkpoint.Loaded?
        while let c = candidate {
            do {
                try Checkpoint.restore(c, into: trainer)
                restored = c
                break
            } catch TrainingError.checkpointMismatch(let why) where source == .auto {
                log("resume: skipping \(c.path): it does not fit this model: \(why)")
            } catch TrainingError.stageMismatch(let why) where source == .auto {
                log("resume: skipping \(c.path): \(why)")
            }
            candidate = nil
            while candidate == nil, !older.isEmpty {
                let path = older.removeFirst()
                do { candidate = try Checkpoint.load(path) } catch { log("resume: skipping \(path): \(error)") }
            }
        }
        guard let restored else {
            throw ResumeError(
                "no checkpoint of \(run) fits this model (each named above: the data or the model changed?); nothing was changed. "
                    + "To start afresh and keep them, train with another --run (or move \(Checkpoint.folder(run: run)) aside)")
        }
        log("resume: from \(restored.path) (step \(trainer.state.step), saved by \(restored.state.worldSize) rank(s))")
        return restored
    }

    /// A path resume from an older checkpoint of this run starts a new trajectory: the later ones are
    /// moved under `checkpoints/abandoned-after-<step>-*/` (kept, no longer found by `auto`). Rank 0 only,
    /// once `restore` succeeded.
    public func abandonLaterCheckpoints(after restored: Checkpoint.Loaded) throws {
        guard source != .auto,
            URL(fileURLWithPath: restored.path).standardizedFileURL.deletingLastPathComponent().path
                == URL(fileURLWithPath: Checkpoint.folder(run: run)).standardizedFileURL.path
        else { return }
        let step = restored.state.training.step
        for path in try Checkpoint.abandon(after: step, run: run) {
            log("resume: \(path) belongs to the abandoned trajectory; moved under checkpoints/abandoned-after-\(step)-*/")
        }
    }
}

/// A resume the run's own settings refuse (the same on every rank).
public struct ResumeError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
