import ArgumentParser
import Foundation
import MultiViewVAE

/// Steady-state training speed of a config, with where the time goes and how it compares with the
/// step's own matrix products run alone (the GEMM floor).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure steady-state training speed (run under mpirun for several ranks).",
        discussion: """
            Trains --warmup steps, then times --steps more: samples/s, ms per step split into forward,
            backward, exchange (combining the ranks' gradients and parameters, waits included) and
            optimizer, achieved GFLOP/s, the GEMM floor (this rank's GEMMs of one step timed alone in the
            same run) and this rank's Adam pass timed alone. Prints a Markdown table row on rank 0.
            """)

    @Option(help: "YAML experiment config.")
    var config: String = "configs/jpvae-fashion-orthogonal.yaml"

    @Option(help: "Global batch size.")
    var batch: Int = 128

    @Option(help: "Timed steps.")
    var steps: Int = 200

    @Option(help: "Untimed warm-up steps.")
    var warmup: Int = 30

    @Option(name: .customLong("set"), help: "Override a config value (repeatable).")
    var overrides: [String] = []

    @Option(help: "The stage of the model's recipe to time (default: the first).")
    var stage: String?

    @Flag(help: "Print the Markdown table header first.")
    var header = false

    func validate() throws {
        guard batch >= 1, steps >= 1, warmup >= 1 else { throw ValidationError("--batch, --steps and --warmup must be ≥ 1") }
    }

    func run() throws {
        let comm = try makeCommunicator()
        BLASThreads.set(1)
        let settings =
            overrides + ["training.batchSize=\(batch)", "training.validate=false", "training.epochs=1000", "data.validationSize=0"]
        var cfg = try ExperimentConfig.load(path: config, overrides: settings)
        let data = try ExperimentData(config: cfg.data, seed: cfg.seed)
        var model = try makeModel(cfg, views: data.shapes)
        // Every stage long enough for the timed steps.
        let names = model.recipe.map(\.name)
        cfg = try ExperimentConfig.load(path: config, overrides: settings + names.map { "training.stages.\($0).epochs=1000" })
        model = try makeModel(cfg, views: data.shapes)
        let trainer = try Trainer(config: cfg, model: model, train: data.train, validation: nil, comm: comm)
        if let stage, !trainer.start(atStage: stage) {
            throw ValidationError("--stage \(stage): this model's stages are \(names.joined(separator: ", "))")
        }
        var wallStart = 0.0, wallEnd = 0.0
        var mallocsAtStart: UInt = 0, mallocsAtEnd: UInt = 0
        let countMallocs = MallocCounter.function()
        // The window runs from the stop check of step `warmup − 1` to that of step `warmup + steps − 1`:
        // exactly `steps` whole steps, without the run's setup and teardown (shared windows, checkpoints).
        // Where the time of the steps the window touches went (the steps numbered warmup … warmup + steps,
        // counting from 1: the window opens and closes in the middle of a step); averaged over p.steps.
        var p = StepPhases()
        trainer.observer = { event in
            if case let .step(_, _, step, _, _, _, _, _, times) = event, step >= warmup, step <= warmup + steps { p.add(times) }
        }
        _ = try trainer.run(shouldStop: {
            if trainer.state.step + 1 == warmup {
                GEMMProfile.isEnabled = true
                GEMMProfile.reset()
                mallocsAtStart = countMallocs?() ?? 0
                MallocCounter.armTrace()
                wallStart = monotonicSeconds()
            }
            let stop = trainer.state.step + 1 >= warmup + steps
            if stop {
                GEMMProfile.isEnabled = false
                wallEnd = monotonicSeconds()
                mallocsAtEnd = countMallocs?() ?? 0
            }
            return stop
        })
        let wall = wallEnd - wallStart
        GEMMProfile.isEnabled = false
        let gemmInStep = GEMMProfile.seconds / Double(steps)  // the profiled window is exactly `steps` steps
        let mallocs = countMallocs.map { _ in Double(mallocsAtEnd - mallocsAtStart) / Double(steps) }
        let floor = GEMMBenchmark.floor(trainer.gemmWorkload(), seconds: 1)
        let adamAlone = optimizerAlone(trainer, seconds: 0.5)
        let n = Double(max(p.steps, 1))
        let stepMs = 1000 * wall / Double(steps)
        let ms = { (x: Double) in 1000 * x / n }
        let samples = Double(batch) * Double(steps) / wall
        let flopsPerStep = try comm.sum(floor.flops)  // all ranks' GEMM flops of one global step
        if comm.rank == 0 {
            if header {
                let trained = model.arena.parameterCount(in: trainer.stage.trainable)
                print(
                    "(\(cfg.name), stage \(trainer.stage.name): \(trained) of \(model.arena.parameterCount) parameters trained, "
                        + "\(trainer.stage.trainable.count) of \(model.arena.count) floats in the gradient buffer; kernels "
                        + "\(BLASKernel.coreName))"
                )
                print(
                    "| ranks | batch | samples/s | ms/step | forward | backward | exchange | optimizer | GFLOP/s | GEMM floor ms "
                        + "(rank 0) | step / floor | floor GFLOP/s | GEMMs in step ms | Adam alone ms | step / (floor + Adam) | "
                        + "mallocs/step |"
                )
                print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            }
            print(
                String(
                    format: "| %d | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.2f | %.2f | %.1f | %.2f | %.2f | %.2f | %@ |",
                    comm.size, batch, samples, stepMs, ms(p.forward), ms(p.backward), ms(p.allreduce), ms(p.optimizer),
                    flopsPerStep / (wall / Double(steps)) / 1e9, 1000 * floor.seconds, (wall / Double(steps)) / max(floor.seconds, 1e-12),
                    floor.flops / max(floor.seconds, 1e-12) / 1e9,
                    1000 * gemmInStep, 1000 * adamAlone, (wall / Double(steps)) / max(floor.seconds + adamAlone, 1e-12),
                    mallocs.map { String(format: "%.2f", $0) } ?? "n/a (preload scripts/malloc_counter.c)"))
        }
    }
}

/// The allocation counter of scripts/malloc_counter.c, when that library is preloaded.
enum MallocCounter {
    typealias Count = @convention(c) () -> UInt

    static func function() -> (() -> UInt)? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mvvae_malloc_count") else { return nil }
        let f = unsafeBitCast(symbol, to: Count.self)
        return { f() }
    }

    /// Starts the counter's optional backtraces (MVVAE_MALLOC_TRACE=N) from the first timed step on.
    static func armTrace() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mvvae_malloc_trace_arm") else { return }
        unsafeBitCast(symbol, to: (@convention(c) () -> Void).self)()
    }
}

/// The median time of this rank's Adam pass alone (its shard, one gradient source), repeated for about
/// `seconds` after training: the optimizer's share of the step when nothing else runs. Adam reads and
/// writes 32 bytes per coordinate, so this is a memory-bandwidth floor, like the GEMM floor a compute one.
func optimizerAlone(_ trainer: Trainer, seconds: Double) -> Double {
    let shard = trainer.optimizerShard, arena = trainer.model.arena
    var times: [Double] = []
    // As in training, subnormals flushed: the moments decay towards them where gradients are zero.
    FloatingPointMode.withDenormalsFlushed {
        let start = monotonicSeconds()
        while monotonicSeconds() - start < seconds || times.count < 5 {
            let t0 = monotonicSeconds()
            trainer.optimizer.update(shard: shard, params: arena.values, grads: arena.gradients + shard.lowerBound, zeroGradients: true)
            times.append(monotonicSeconds() - t0)
        }
    }
    times.sort()
    return times[times.count / 2]
}
