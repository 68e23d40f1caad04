import Foundation
import MVCore
import MVConfig
import MVDistributed
import MVData
import MVModels

// `@exclusivity(unchecked)` on the properties the step touches: README, "The training step and the exchange".

/// The one training loop, for any world size and any recipe (README, "How it is built").
///
/// A model trains in stages (its recipe): each stage trains some parameter groups with its own loss
/// and freezes the rest, may restart Adam, and may end with a computation over the training split.
/// Each step: this rank gathers its contiguous slice of the global batch, records the stage's summed
/// loss on the tape and backpropagates into the arena's gradient buffer, with control scalars
/// appended (loss sums, row count, stop flag); the `GradientExchange` sums them over ranks and takes
/// the optimizer step, dividing by the global row count. Randomness is keyed by global sample
/// position, so `-np 1` and `-np N` follow one trajectory up to float summation order.
public final class Trainer {
    public let config: ExperimentConfig
    public let model: MultiViewModel
    public let train: DataSubset
    public let validation: DataSubset?
    public let comm: Communicator
    public let optimizer: Adam
    /// The model's recipe with this config's lengths and learning rates.
    public let stages: [TrainingStage]
    /// How ranks exchange gradients (read from the environment at start; tests may set it).
    @exclusivity(unchecked) public var exchangeSettings: ExchangeSettings
    @exclusivity(unchecked) public internal(set) var state = TrainingState()
    /// Receives progress; called on every rank (the tool prints on rank 0 only).
    @exclusivity(unchecked) public var observer: ((TrainingEvent) -> Void)?
    /// Called on every rank when a checkpoint is due (after an epoch, and on a requested stop).
    @exclusivity(unchecked) public var checkpointer: ((Trainer) throws -> Void)?
    /// The coordinates whose Adam update this rank computed in the last stage it ran.
    @exclusivity(unchecked) public private(set) var optimizerShard: Range<Int>

    let tape = Tape(reserve: 512)
    let batch: Batch
    let positions: UnsafeMutablePointer<Int>
    /// The step's totals summed over ranks (`StepTotals`' layout).
    let summedControl = UnsafeMutablePointer<Float>.allocate(capacity: StepTotals.count)
    /// This epoch's clock on this rank: its start, samples and exchange seconds since then.
    @exclusivity(unchecked) var epochClock = (start: 0.0, samples: 0.0, exchangeSeconds: 0.0)
    /// The spike guard's running mean of the loss per row in the current stage, and its step count
    /// (not saved: after a resume it re-arms after 50 steps; it never changes the trajectory).
    @exclusivity(unchecked) var spikeMean = 0.0, spikeSteps = 0
    /// Rows per forward pass when evaluating a split.
    static let evaluationChunk = 500

    public var batchesPerEpoch: Int { (train.count + config.training.batchSize - 1) / config.training.batchSize }
    public var totalSteps: Int { batchesPerEpoch * stages.reduce(0) { $0 + $1.epochs } }
    /// The stage in progress (the last one once every stage is done).
    public var stage: TrainingStage { stages[Swift.min(state.stage, stages.count - 1)] }
    var stageSteps: Int { batchesPerEpoch * stage.epochs }

    public init(
        config: ExperimentConfig, model: MultiViewModel, train: DataSubset, validation: DataSubset?,
        comm: Communicator
    ) throws {
        guard train.count > 0 else { throw TrainingError.emptyTrainingSet }
        self.config = config
        self.model = model
        self.train = train
        self.validation = validation
        self.comm = comm
        stages = try TrainingStage.resolve(model.recipe, arena: model.arena, training: config.training)
        exchangeSettings = try ExchangeSettings.fromEnvironment(ProcessInfo.processInfo.environment)
        let t = config.training
        optimizer = Adam(
            count: model.arena.count, learningRate: t.learningRate,
            weightDecay: t.optimizer == .adamw ? t.weightDecay : 0)
        // A rank never holds more rows than the split has, whatever batchSize says (a batch size far beyond
        // the data would otherwise size buffers by it, or overflow).
        let batchRows = Swift.min(t.batchSize, train.count)
        let localMax = (batchRows + comm.size - 1) / comm.size
        let capacity = Swift.max(localMax, Self.evaluationChunk)
        batch = Batch(dimensions: model.viewDimensions, capacity: capacity, hasMask: train.dataset.mask != nil)
        positions = .allocate(capacity: capacity)
        tape.communicator = comm
        tape.sparseInputLimit = t.sparseInput
        optimizerShard = rankSlice(count: model.arena.count, rank: comm.rank, size: comm.size)
        // Every rank starts from rank 0's parameters.
        try comm.broadcast(model.arena.values, count: model.arena.count, root: 0)
    }

    deinit {
        positions.deallocate()
        summedControl.deallocate()
    }

    /// The GEMMs of the last recorded step (see `Tape.gemmWorkload`).
    public func gemmWorkload() -> [GEMMShape] { tape.gemmWorkload() }

    /// Trains until every stage is done or `shouldStop` turns true on any rank.
    /// Subnormal floats are flushed to zero meanwhile (see `FloatingPointMode`).
    public func run(shouldStop: () -> Bool = { false }) throws -> TrainingOutcome {
        try FloatingPointMode.withDenormalsFlushed {
            let exchange = try makeGradientExchange(
                comm: comm, arena: model.arena, optimizer: optimizer, settings: exchangeSettings,
                controlCount: StepTotals.count)
            let outcome: TrainingOutcome
            do {
                outcome = try runStages(shouldStop: shouldStop, exchange: exchange)
            } catch {
                exchange.abandon()
                throw error
            }
            try exchange.finish()
            return outcome
        }
    }

    func runStages(shouldStop: () -> Bool, exchange: GradientExchange) throws -> TrainingOutcome {
        let arena = model.arena
        arena.zeroGradients()  // from here on the optimizer clears each gradient as it reads it
        observer?(
            .started(
                startStep: state.step, totalSteps: totalSteps, parameters: arena.parameterCount, worldSize: comm.size,
                exchange: exchange.description))
        try enterStage(exchange, restarting: false)
        while true {
            if state.epoch - state.stageStartEpoch >= stage.epochs {
                guard state.stage + 1 < stages.count else { return .completed }
                try advanceStage(exchange)
                continue
            }
            let permutation = epochPermutation(count: train.count, seed: config.seed, epoch: state.epoch)
            epochClock = (monotonicSeconds(), 0, 0)
            while state.batchInEpoch < batchesPerEpoch {
                let stop = try step(permutation, shouldStop: shouldStop, exchange: exchange)
                if stop {
                    observer?(.stopRequested(step: state.step))
                    try checkpoint(exchange)
                    return .stopped(step: state.step)
                }
            }
            try finishEpoch(exchange)
        }
    }

    /// One optimizer step on the next global batch of `permutation`: forward, then the exchange's
    /// backward pass, sums over ranks, checks and optimizer step in the order it needs
    /// (`GradientExchange.step`), then bookkeeping. True when a stop was requested.
    func step(_ permutation: [Int], shouldStop: () -> Bool, exchange: GradientExchange) throws -> Bool {
        let rows = gatherBatch(permutation)
        let stageStep = state.step - state.stageStartStep
        let start = monotonicSeconds()
        var totals = StepTotals()
        let loss = try forward(stageStep: stageStep, rows: rows, totals: &totals)
        totals.stop = shouldStop() ? 1 : 0
        totals.write(to: model.arena.control)
        let forwardSeconds = monotonicSeconds() - start
        let done = try exchange.step(
            control: StepTotals.count, into: summedControl,
            backward: { observer in try backward(loss, reportingTo: observer) },
            check: { summed in try check(StepTotals(summed), stageStep: stageStep) })
        let summed = StepTotals(summedControl)
        guard done.skipped == 0 else { throw TrainingError.nonFinite(step: state.step, loss: Double(summed.loss)) }
        try record(summed, rows: rows, forwardSeconds: forwardSeconds, exchange: done)
        return summed.stop > 0
    }

    /// Loads this rank's slice of the next global batch of `permutation`; returns its row count.
    func gatherBatch(_ permutation: [Int]) -> Int {
        let size = config.training.batchSize, globalStart = state.batchInEpoch * size
        let slice = rankSlice(count: Swift.min(size, train.count - globalStart), rank: comm.rank, size: comm.size)
        for (i, p) in slice.enumerated() { positions[i] = permutation[globalStart + p] }
        load(count: slice.count, epoch: state.epoch, from: train)
        return slice.count
    }

    /// Records the stage's loss of the batch on the tape and fills the step's totals; nil when this rank
    /// records nothing (no rows, and a loss that needs no collective).
    func forward(stageStep: Int, rows: Int, totals: inout StepTotals) throws -> Var? {
        guard rows > 0 || model.recordsCollectives(stage: state.stage) else { return nil }
        let t = config.training
        let beta = t.annealing.beta(step: stageStep, totalSteps: batchesPerEpoch * stage.epochs, top: t.beta)
        tape.reset()
        let terms: LossTerms
        do { terms = try model.loss(batch, tape: tape, beta: beta, seed: config.seed, stage: state.stage) } catch let e
            as LinearAlgebraError
        {
            throw TrainingError.numericalBreakdown(step: state.step, what: "\(e) in the loss")
        }
        totals.loss = tape.item(terms.total)
        totals.reconstruction = tape.item(terms.reconstruction)
        totals.kl = tape.item(terms.kl)
        totals.rows = Float(rowsWithData())
        return terms.total
    }

    /// The reverse pass from `loss` into the arena's gradients, reporting finished parameters to `observer`.
    func backward(_ loss: Var?, reportingTo observer: ParameterGradientObserver?) throws {
        guard let loss else { return }
        tape.backward(loss, finished: observer)
        if let failure = tape.collectiveFailure { throw failure }
    }

    /// The summed totals (identical on every rank) checked before any parameter changes: a non-finite
    /// loss or an impossible one stops the run. Returns the gradient scale, 1 / rows, with the stage's
    /// learning rate set. (A non-finite gradient anywhere stops it after the step, whose coordinates
    /// there were left unchanged.) Neither step is checkpointed.
    func check(_ summed: StepTotals, stageStep: Int) throws -> Float {
        let loss = Double(summed.loss), rows = summed.meanDivisor
        guard loss.isFinite else { throw TrainingError.nonFinite(step: state.step, loss: loss) }
        try checkBreakdown(loss: loss, kl: Double(summed.kl), rows: rows, stageStep: stageStep)
        optimizer.learningRate = stage.learningRate(step: stageStep)
        return 1 / Float(rows)
    }

    /// The step's bookkeeping: the state's counters and sums, progress (with where the step's time went),
    /// and every `exchangeSettings.replicaCheckEvery` steps the replicas compared.
    func record(_ summed: StepTotals, rows localRows: Int, forwardSeconds: Double, exchange done: ExchangeStep) throws {
        let rows = summed.meanDivisor, loss = Double(summed.loss)
        state.step += 1
        state.batchInEpoch += 1
        state.epochLossSum += loss
        state.epochReconstructionSum += Double(summed.reconstruction)
        state.epochKLSum += Double(summed.kl)
        state.epochSamples += rows
        epochClock.samples += rows
        epochClock.exchangeSeconds += done.exchangeSeconds
        let rate = epochClock.samples / Swift.max(monotonicSeconds() - epochClock.start, 1e-9)
        observer?(
            .step(
                stage: stage.name, epoch: state.epoch - state.stageStartEpoch, step: state.step, totalSteps: totalSteps,
                batchInEpoch: state.batchInEpoch, batchesPerEpoch: batchesPerEpoch, loss: loss / rows, samplesPerSecond: rate,
                times: StepPhases(
                    forward: forwardSeconds, backward: done.backwardSeconds, allreduce: done.exchangeSeconds,
                    optimizer: done.optimizerSeconds, rows: localRows)))
        if state.step % exchangeSettings.replicaCheckEvery == 0 { try checkReplicas() }
    }

    /// A checkpoint of the current state, with every rank's optimizer moments completed first (rank 0 writes).
    func checkpoint(_ exchange: GradientExchange) throws {
        try exchange.gatherOptimizerState()
        try checkpointer?(self)
    }

    /// The epoch's summary (with the validation loss), then a checkpoint when one is due.
    func finishEpoch(_ exchange: GradientExchange) throws {
        let t = config.training
        let seconds = monotonicSeconds() - epochClock.start
        let stageEpoch = state.epoch - state.stageStartEpoch + 1
        var summary = EpochSummary(
            stage: stage.name, stageEpoch: stageEpoch, epoch: state.epoch + 1, step: state.step,
            beta: t.annealing.beta(step: Swift.max(state.step - state.stageStartStep - 1, 0), totalSteps: stageSteps, top: t.beta),
            trainLoss: state.epochLossSum / state.epochSamples,
            trainReconstruction: state.epochReconstructionSum / state.epochSamples,
            trainKL: state.epochKLSum / state.epochSamples,
            seconds: seconds, samplesPerSecond: epochClock.samples / Swift.max(seconds, 1e-9),
            allreduceSeconds: epochClock.exchangeSeconds)
        if t.validate, let validation, validation.count > 0 {
            let v = try evaluateLoss(validation, beta: 1)
            summary.validationLoss = v.loss
            summary.validationReconstruction = v.reconstruction
            summary.validationKL = v.kl
        }
        state.epoch += 1
        state.batchInEpoch = 0
        state.epochLossSum = 0; state.epochReconstructionSum = 0; state.epochKLSum = 0; state.epochSamples = 0
        observer?(.epochFinished(summary))
        let every = t.checkpointEveryEpochs
        if stageEpoch == stage.epochs || (every > 0 && stageEpoch % every == 0) { try checkpoint(exchange) }
    }

    /// Prepares the current stage: only its parameters train (and are exchanged and updated).
    func enterStage(_ exchange: GradientExchange, restarting: Bool) throws {
        let stage = self.stage
        model.arena.trainable = stage.trainable
        try exchange.train(stage.trainable)
        if restarting { try exchange.restartOptimizer() }
        optimizerShard = exchange.optimizerBlock
        observer?(
            .stageStarted(
                name: stage.name, index: state.stage, of: stages.count, epochs: stage.epochs,
                trainable: model.arena.parameterCount(in: stage.trainable), restartsOptimizer: restarting))
    }

    /// The stage's end: its computation over the training split sets parameters on every rank; then
    /// the next stage starts.
    func advanceStage(_ exchange: GradientExchange) throws {
        let assignments = try model.finishStage(state.stage, split: self)
        for a in assignments { try exchange.assign(a.values, at: a.view.offset) }
        observer?(.stageFinished(name: stage.name, assigned: assignments.map(\.view.name)))
        state.stage += 1
        state.stageStartEpoch = state.epoch
        state.stageStartStep = state.step
        try enterStage(exchange, restarting: stage.restartsOptimizer)
    }

    /// Starts the next `run` at the beginning of stage `name`, as if the stages before it had run
    /// (for benchmarks: their end-of-stage computations do not run). Returns false for an unknown name.
    public func start(atStage name: String) -> Bool {
        guard let index = stages.firstIndex(where: { $0.name == name }) else { return false }
        state.stage = index
        state.stageStartEpoch = state.epoch
        state.stageStartStep = state.step
        return true
    }

    /// Checks a restored state against this config's recipe: the stage exists under the same name, the
    /// finished stages kept their lengths, and the current one is not shortened below what it has run.
    public func checkResumedStage(savedName: String?, savedEpochs: [Int]? = nil) throws {
        // Fields a damaged or hand-edited state.json could hold that no run writes.
        let s = state
        guard s.stage >= 0, s.epoch >= 0, s.step >= 0, s.stageStartEpoch >= 0, s.stageStartEpoch <= s.epoch,
            s.stageStartStep >= 0, s.stageStartStep <= s.step, (0...batchesPerEpoch).contains(s.batchInEpoch),
            s.step == s.epoch * batchesPerEpoch + s.batchInEpoch, s.epochSamples >= 0,
            [s.epochLossSum, s.epochReconstructionSum, s.epochKLSum, s.epochSamples].allSatisfy(\.isFinite)
        else {
            throw TrainingError.stageMismatch(
                "the saved training position is impossible for this run (stage \(s.stage), epoch \(s.epoch), batch "
                    + "\(s.batchInEpoch) of \(batchesPerEpoch), step \(s.step), stage started at epoch \(s.stageStartEpoch), step "
                    + "\(s.stageStartStep))"
            )
        }
        guard state.stage < stages.count else {
            throw TrainingError.stageMismatch(
                "the checkpoint is in stage \(state.stage + 1), but this model trains in \(stages.count) stage(s)")
        }
        if let savedName, savedName != stage.name {
            throw TrainingError.stageMismatch(
                "the checkpoint is in stage '\(savedName)', but this model's stage \(state.stage + 1) is '\(stage.name)'")
        }
        if let savedEpochs, savedEpochs.count == stages.count {
            for (i, stage) in stages[..<state.stage].enumerated() where stage.epochs != savedEpochs[i] {
                throw TrainingError.stageMismatch(
                    "the finished stage '\(stage.name)' ran \(savedEpochs[i]) epoch(s); training.stages.\(stage.name).epochs "
                        + "cannot change on resume (now \(stage.epochs))"
                )
            }
        }
        let before = stages[..<state.stage].reduce(0) { $0 + $1.epochs }
        if before != state.stageStartEpoch {
            throw TrainingError.stageMismatch(
                "the finished stage(s) \(stages[..<state.stage].map(\.name).joined(separator: ", ")) ran \(state.stageStartEpoch) "
                    + "epoch(s) in all; training.stages.<name>.epochs of a finished stage cannot change on resume (now \(before))"
            )
        }
        // Epochs of the stage that have run, counting one in progress.
        let started = state.epoch - state.stageStartEpoch + (state.batchInEpoch > 0 ? 1 : 0)
        if started > stage.epochs {
            throw TrainingError.stageMismatch(
                "stage '\(stage.name)' has already run into epoch \(started); its length cannot shrink to \(stage.epochs) on resume")
        }
    }

    /// Rows of the batch with at least one observed view: a row with none contributes no loss, so it
    /// must not count towards the mean either.
    func rowsWithData() -> Int {
        guard let mask = batch.mask else { return batch.rows }
        let k = batch.viewCount
        var n = 0
        for r in 0..<batch.rows where (0..<k).contains(where: { mask[r * k + $0] != 0 }) { n += 1 }
        return n
    }

    /// Gathers `count` rows at `positions` of `subset` into the batch.
    func load(count: Int, epoch: Int, from subset: DataSubset) {
        let pos = UnsafeBufferPointer(start: positions, count: count)
        for k in 0..<batch.viewCount { subset.gather(view: k, positions: pos, into: batch.views[k]) }
        if let mask = batch.mask { subset.gatherMask(positions: pos, into: mask) }
        batch.indices.update(from: positions, count: count)
        batch.setRows(count, epoch: epoch)
    }

    /// `body` over this rank's share of `subset` in chunks (rows in order; noise keyed by `epoch`). With
    /// `everyRankAlike` (bodies that sum over ranks: a batch-level objective), the split is cut into
    /// global chunks and each rank takes its slice of every one, so each chunk holds the same rows at
    /// every world size and every rank runs every chunk (empty slices included).
    func forEachChunk(of subset: DataSubset, epoch: Int, everyRankAlike: Bool = false, _ body: () throws -> Void) rethrows {
        let chunk = Self.evaluationChunk
        func run(_ rows: Range<Int>) throws {
            for (i, p) in rows.enumerated() { positions[i] = p }
            load(count: rows.count, epoch: epoch, from: subset)
            tape.reset()
            try body()
        }
        if everyRankAlike {
            var start = 0
            repeat {
                let global = start..<Swift.min(start + chunk, subset.count)
                let mine = rankSlice(count: global.count, rank: comm.rank, size: comm.size)
                try run((global.lowerBound + mine.lowerBound)..<(global.lowerBound + mine.upperBound))
                start = global.upperBound
            } while start < subset.count
            return
        }
        let share = rankSlice(count: subset.count, rank: comm.rank, size: comm.size)
        var start = share.lowerBound
        while start < share.upperBound {
            let n = Swift.min(chunk, share.upperBound - start)
            try run(start..<(start + n))
            start += n
        }
    }

    /// Mean per-sample loss terms of the current stage over a split with weight `beta`, shared out over
    /// ranks. The noise is keyed by a reserved epoch, so repeated evaluations see the same draws.
    public func evaluateLoss(_ subset: DataSubset, beta: Float) throws -> (loss: Double, reconstruction: Double, kl: Double) {
        var sums = [Double](repeating: 0, count: 4)
        let stage = Swift.min(state.stage, stages.count - 1)
        try forEachChunk(of: subset, epoch: 0xFFFF, everyRankAlike: model.recordsCollectives(stage: stage)) {
            let terms = try model.loss(batch, tape: tape, beta: beta, seed: config.seed, stage: stage)
            sums[0] += Double(tape.item(terms.total))
            sums[1] += Double(tape.item(terms.reconstruction))
            sums[2] += Double(tape.item(terms.kl))
            sums[3] += Double(rowsWithData())
        }
        try sums.withUnsafeMutableBufferPointer { try comm.allreduceSum($0.baseAddress!, count: 4) }
        let n = Swift.max(sums[3], 1)
        return (sums[0] / n, sums[1] / n, sums[2] / n)
    }

    /// Every replica must hold the same parameters: compare checksums across ranks.
    func checkReplicas() throws {
        guard comm.size > 1 else { return }
        let c = model.arena.checksum()
        let high = try comm.max(c), low = -(try comm.max(-c))
        if high != low { throw TrainingError.replicasDiverged(step: state.step, spread: high - low) }
    }
}

extension Trainer {
    /// Stops a step whose summed numbers (identical on every rank) are impossible: an exact KL below 0
    /// beyond rounding (10⁻³ per row), or, with `training.spikeGuard`, a loss per row far above the
    /// stage's running mean.
    func checkBreakdown(loss: Double, kl: Double, rows: Double, stageStep: Int) throws {
        let perRow = loss / Swift.max(rows, 1)
        if model.klIsExact(stage: state.stage), kl < -1e-3 * Swift.max(rows, 1) {
            throw TrainingError.numericalBreakdown(
                step: state.step, what: "the KL term is \(kl) over \(Int(rows)) rows, but it is a closed form that cannot be negative")
        }
        let factor = config.training.spikeGuard
        guard factor > 0 else { return }
        if stageStep == 0 || spikeSteps > stageStep { spikeMean = 0; spikeSteps = 0 }
        if spikeSteps >= 50, perRow - spikeMean > factor * (abs(spikeMean) + 1) {
            throw TrainingError.numericalBreakdown(
                step: state.step,
                what: String(
                    format: "the loss per row jumped to %.4g against a running mean of %.4g (training.spikeGuard = %g)", perRow, spikeMean,
                    factor))
        }
        spikeSteps += 1
        spikeMean += (perRow - spikeMean) / Double(Swift.min(spikeSteps, 100))
    }
}

extension Trainer: TrainingSplitSums {
    /// End-of-stage sums over the training split (noise keyed by a reserved epoch of its own).
    public func sum(count: Int, _ body: (Batch, Tape, UnsafeMutablePointer<Double>) throws -> Void) throws -> [Double] {
        var sums = [Double](repeating: 0, count: Swift.max(count, 1))
        try sums.withUnsafeMutableBufferPointer { s in
            try forEachChunk(of: train, epoch: 0xFFFE) { try body(batch, tape, s.baseAddress!) }
            try comm.allreduceSum(s.baseAddress!, count: s.count)
        }
        return Array(sums.prefix(count))
    }
}
