import ArgumentParser
import Foundation
import MultiViewVAE

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from a YAML config (data-parallel when started under mpirun).",
        discussion: """
            Metrics go to <run>/metrics.jsonl and <run>/metrics.csv, checkpoints to <run>/checkpoints/step-N/.
            SIGINT or SIGTERM saves a checkpoint at the next step and exits 0; a second signal exits at once.
            """)

    @Option(help: "YAML experiment config.")
    var config: String

    @Option(name: .customLong("run"), help: "Run folder (default: checkpoints/<name>-<date-time>).")
    var runFolder: String?

    @Option(name: .customLong("set"), help: "Override a config value, e.g. --set training.epochs=5 (repeatable).")
    var overrides: [String] = []

    @Option(help: "Resume: 'auto' (newest valid checkpoint in the run folder) or a checkpoint folder.")
    var resume: String?

    // Unconditional: "-1" is read as the value (and refused in validate) rather than as an unknown flag.
    @Option(
        parsing: .unconditional,
        help: "Stop after this many optimizer steps in total (checkpoint, exit 0; resume later with --resume auto).")
    var maxSteps: Int?

    @Option(help: "Progress output: auto (a bar on a terminal, plain lines otherwise), bar, or lines.")
    var progress: ProgressReporter.Style = .auto

    @Option(help: "BLAS threads for a single-process run (MPI ranks always use 1).")
    var threads: Int = 1

    func run() throws {
        let comm = try makeCommunicator()
        BLASThreads.set(comm.size > 1 ? 1 : max(threads, 1))
        let root = comm.rank == 0
        do {
            try train(comm: comm, root: root)
        } catch {
            // A config error is the same on every rank: rank 0 reports it. Anything else (a file missing
            // on one node, an MPI failure) may hit one rank only, so that rank reports it too.
            let stageMismatch: Bool
            if case TrainingError.stageMismatch = error { stageMismatch = true } else { stageMismatch = false }
            let deterministic =
                error is ConfigError || error is ValidationError || error is ExchangeSettingError || error is ResumeError
                || stageMismatch
            if root || !deterministic {
                let who = comm.size > 1 ? " (rank \(comm.rank))" : ""
                FileHandle.standardError.write("mvvae train\(who): \(error)\n".data(using: .utf8)!)
            }
            // Other ranks may be waiting in a collective for this one: end the whole job. With an error
            // every rank shares, rank 0 aborts first, so its message is out before the job is killed.
            if comm.size > 1 {
                if deterministic && !root { Thread.sleep(forTimeInterval: 2) }
                comm.abort(code: 1)
            }
            throw ExitCode(1)
        }
    }

    func validate() throws {
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be ≥ 1, got \(maxSteps)") }
        if threads < 1 { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
    }

    func train(comm: Communicator, root: Bool) throws {
        // First: a signal while the config and data load ends the process at once (nothing to save yet).
        StopSignals.install()
        var cfg = try ExperimentConfig.load(path: config, overrides: overrides)
        let (runDir, lock) = try resolveRunFolder(cfg, comm: comm)
        defer { withExtendedLifetime(lock) {} }
        let resumption = try resume.map { try Resumption(.init($0), run: runDir, log: root ? { print($0) } : { _ in }) }
        if let resumption { cfg = try resumption.config(cfg, overrides: overrides, configPath: config) }
        if root {
            try cfg.yaml().write(toFile: (runDir as NSString).appendingPathComponent("config.yaml"), atomically: true, encoding: .utf8)
        }
        try comm.barrier()
        let data = try ExperimentData(config: cfg.data, seed: cfg.seed)
        try data.checkValues(likelihoods: cfg.model.likelihood(view:), categories: cfg.model.categories)
        let model = try makeModel(cfg, views: data.shapes)
        let trainer = try Trainer(config: cfg, model: model, train: data.train, validation: data.validation, comm: comm)
        if let resumption, let restored = try resumption.restore(into: trainer), root {
            try resumption.abandonLaterCheckpoints(after: restored)
        }
        let reporter = ProgressReporter(every: cfg.training.logEvery, style: progress)
        let metrics = root ? try MetricsLog(run: runDir) : nil
        let tensorboard = root ? try TensorBoardWriter(folder: (runDir as NSString).appendingPathComponent("tensorboard")) : nil
        let stageNames = trainer.stages.map(\.name)
        trainer.observer = { event in
            guard root else { return }
            reporter.handle(event)
            switch event {
            case let .epochFinished(s):
                try? metrics?.append(s)
                var values: [(tag: String, value: Double)] = [
                    ("train/loss", s.trainLoss), ("train/reconstruction", s.trainReconstruction), ("train/kl", s.trainKL),
                    ("beta", Double(s.beta)), ("learning_rate", Double(trainer.optimizer.learningRate)),
                    ("samples_per_second", s.samplesPerSecond), ("exchange_share", s.seconds > 0 ? s.allreduceSeconds / s.seconds : 0),
                    ("stage", Double(stageNames.firstIndex(of: s.stage) ?? 0)), ("epoch", Double(s.epoch)),
                ]
                if let v = s.validationLoss { values.append(("validation/loss", v)) }
                if let v = s.validationReconstruction { values.append(("validation/reconstruction", v)) }
                if let v = s.validationKL { values.append(("validation/kl", v)) }
                try? tensorboard?.scalars(values, step: s.step)
            case let .step(_, _, step, _, _, _, loss, rate, _) where step % max(cfg.training.logEvery, 1) == 0:
                // At the progress lines' cadence, not every step: the step itself stays allocation-free.
                try? tensorboard?.scalars([("step/loss", loss), ("step/samples_per_second", rate)], step: step)
            default:
                break
            }
        }
        trainer.checkpointer = { t in
            if root {
                let path = try Checkpoint.save(t, run: runDir, keep: cfg.training.keepCheckpoints, views: data.shapes)
                reporter.handle(.checkpointSaved(path: path, step: t.state.step))
            }
            try comm.barrier()
        }
        if root { print("run folder: \(runDir)") }
        let limit = maxSteps ?? Int.max
        let outcome: TrainingOutcome
        StopSignals.trainingStarts()
        do {
            outcome = try trainer.run(shouldStop: { StopSignals.stopRequested || trainer.state.step + 1 >= limit })
        } catch let error as TrainingError {
            // In the first epoch, say which unscaled view is the likely cause.
            guard case .nonFinite(let step, _) = error, step < trainer.batchesPerEpoch else { throw error }
            let large = data.largeInputs(cfg.model.encoder)
            throw large.isEmpty ? error : InputScaleError(cause: error, large: large)
        }
        if root {
            // The curves to look at without installing anything; a run with no finished epoch has none.
            if let path = try? PlotCommand.draw(run: runDir) { print("loss curves: \(path)") }
            switch outcome {
            case .completed: print("done: \(trainer.state.step) steps; evaluate with: mvvae evaluate --run \(runDir)")
            case let .stopped(step):
                print("stopped at step \(step); resume with: mvvae train --config \(config) --run \(runDir) --resume auto")
            }
        }
    }

    /// The run folder, agreed on by all ranks (rank 0 picks the default name and broadcasts it), and rank 0's
    /// lock on it (`RunFolderLock`), held by the caller for the run.
    func resolveRunFolder(_ cfg: ExperimentConfig, comm: Communicator) throws -> (String, RunFolderLock?) {
        var dir = runFolder ?? ""
        // The default folder is checkpoints/<name>-<time>: a name with a path separator or "..", or longer than a
        // file name may be, would put it elsewhere or fail with the file system's raw error. Checked on every rank
        // (they read the same config), so none waits in the broadcast below.
        let safe = cfg.name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
        if runFolder == nil, cfg.name.isEmpty || cfg.name.count > 100 || cfg.name.hasPrefix(".") || !safe {
            throw ValidationError(
                "config key 'name': names the default run folder checkpoints/<name>-<time>: use 1 to 100 letters, digits, "
                    + "'-', '_' or '.', not starting with '.', got '\(cfg.name.prefix(120))' (or give --run FOLDER)")
        }
        if runFolder == nil, comm.rank == 0 { dir = try Self.newDefaultFolder(cfg.name) }
        dir = String(decoding: try comm.broadcast(bytes: Array(dir.utf8)), as: UTF8.self)
        var lock: RunFolderLock?
        if comm.rank == 0 {
            let fm = FileManager.default
            var folder: ObjCBool = false
            if fm.fileExists(atPath: dir, isDirectory: &folder), !folder.boolValue {
                throw ValidationError("--run \(dir) is a file; the run needs a folder (it is created if missing)")
            }
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            // Before anything is checked or cleaned: a run holding the folder may be mid-save.
            do { lock = try RunFolderLock(run: dir) } catch let busy as RunFolderLock.Busy { throw ValidationError(busy.description) }
            if resume == nil, !Checkpoint.list(run: dir).isEmpty {
                throw ValidationError(
                    "run folder \(dir) already holds checkpoints; pass --resume auto to continue it or choose another --run")
            }
            for path in Checkpoint.removeLeftovers(run: dir) { print("removed \(path), left by an interrupted run") }
        }
        try comm.barrier()
        return (dir, lock)
    }

    /// checkpoints/<name>-<time>, made here so two runs started in the same second (a sweep started in parallel)
    /// get folders of their own: the second takes <name>-<time>-2, and so on.
    static func newDefaultFolder(_ name: String) throws -> String {
        let f = DateFormatter()
        f.dateFormat = "yyyyMMdd-HHmmss"
        let base = "checkpoints/\(name)-\(f.string(from: Date()))"
        try FileManager.default.createDirectory(atPath: "checkpoints", withIntermediateDirectories: true)
        for n in 1...1000 {
            let dir = n == 1 ? base : "\(base)-\(n)"
            if mkdir(dir, 0o755) == 0 { return dir }
            guard errno == EEXIST else { throw ValidationError("cannot create the run folder \(dir): \(String(cString: strerror(errno)))") }
        }
        throw ValidationError("a thousand run folders \(base)-… exist already; give --run FOLDER")
    }
}

/// Builds the model a config names, for views of `shapes`.
func makeModel(_ cfg: ExperimentConfig, views shapes: ViewShapes) throws -> MultiViewModel {
    try ModelRegistry.makeModel(cfg, dimensions: shapes.dimensions, images: shapes.images)
}
