import Foundation

/// The one training loop, for any world size (DESIGN §1.2, §4).
///
/// Each step: this rank gathers its contiguous slice of the global batch, records the summed loss on
/// the tape and backpropagates into the arena's gradient buffer, with control scalars appended (loss
/// sums, row count, stop flag). The gradients are then summed over ranks and every rank divides by the
/// global row count: with rings, a reduce-scatter gives rank r the sum of its block, r takes the Adam
/// step there and an allgather returns the parameters; with ranks on one node, a `SharedMemoryExchange`
/// lets rank r's Adam pass read block r of every rank's gradients and write the shared parameters.
/// Randomness is keyed by global sample position, so `-np 1` and `-np N` follow one trajectory up to
/// float summation order.
public final class Trainer {
    public let config: ExperimentConfig
    public let model: MultiViewModel
    public let train: DataSubset
    public let validation: DataSubset?
    public let comm: Communicator
    public let optimizer: Adam
    public internal(set) var state = TrainingState()
    /// Receives progress; called on every rank (the tool prints on rank 0 only).
    public var observer: ((TrainingEvent) -> Void)?
    /// Called on every rank when a checkpoint is due (after an epoch, and on a requested stop).
    public var checkpointer: ((Trainer) throws -> Void)?
    /// Steps between replica-consistency checks.
    public var checksumEvery = 100
    /// Where step time goes, accumulated since the last `phases.reset()` (for benchmarks).
    public var phases = StepPhases()

    let tape = Tape(reserve: 512)
    let batch: Batch
    let positions: UnsafeMutablePointer<Int>
    /// The optimizer is sharded over ranks: rank r owns the parameters `shards[r]` — it receives their
    /// summed gradients (reduce-scatter), updates them and their Adam moments, and the updated blocks
    /// are allgathered. Each rank's optimizer work and memory traffic fall as 1/P.
    let shards: [Range<Int>]
    /// This rank's summed gradients (its shard); with one rank, the gradient buffer itself.
    let shardGradients: UnsafeMutablePointer<Float>
    /// Control scalars appended to the gradient buffer for the allreduce.
    enum Control {
        static let loss = 0, reconstruction = 1, kl = 2, rows = 3, stop = 4, nonFinite = 5, count = 6
        /// Where a rank publishes its count of skipped (non-finite) coordinates with a shared-memory exchange
        /// (after the first barrier; read after the second, and rewritten only after the next first one).
        static let skipped = count
    }
    /// The control scalars summed over ranks, this step.
    let summedControl = UnsafeMutablePointer<Float>.allocate(capacity: Control.count)
    /// Rows per forward pass when evaluating a split.
    static let evaluationChunk = 500

    public var batchesPerEpoch: Int { (train.count + config.training.batchSize - 1) / config.training.batchSize }
    public var totalSteps: Int { batchesPerEpoch * config.training.epochs }

    public init(config: ExperimentConfig, model: MultiViewModel, train: DataSubset, validation: DataSubset?,
                comm: Communicator) throws {
        guard train.count > 0 else { throw TrainingError.emptyTrainingSet }
        self.config = config
        self.model = model
        self.train = train
        self.validation = validation
        self.comm = comm
        let t = config.training
        optimizer = Adam(count: model.arena.count, learningRate: t.learningRate,
                         weightDecay: t.optimizer == .adamw ? t.weightDecay : 0)
        let localMax = (t.batchSize + comm.size - 1) / comm.size
        let capacity = Swift.max(localMax, Self.evaluationChunk)
        batch = Batch(dimensions: model.viewDimensions, capacity: capacity, hasMask: train.dataset.mask != nil)
        positions = .allocate(capacity: capacity)
        shards = (0..<comm.size).map { rankSlice(count: model.arena.count, rank: $0, size: comm.size) }
        shardGradients = comm.size == 1 ? model.arena.gradients : .allocate(capacity: Swift.max(shards[comm.rank].count, 1))
        // Every rank starts from rank 0's parameters.
        try comm.broadcast(model.arena.values, count: model.arena.count, root: 0)
    }

    deinit {
        positions.deallocate()
        summedControl.deallocate()
        if shardGradients != model.arena.gradients { shardGradients.deallocate() }
    }

    /// Collects every rank's shard of the Adam moments (before a checkpoint: rank 0 writes them all).
    public func gatherOptimizerState() throws {
        guard comm.size > 1 else { return }
        // Shared moments: every block is in the node's buffer once each rank has finished its step.
        if let exchange { return try exchange.synchronize() }
        try comm.allgather(optimizer.m, blocks: shards)
        try comm.allgather(optimizer.v, blocks: shards)
    }

    /// The coordinates whose Adam update this rank computes.
    public var optimizerShard: Range<Int> { exchange?.block ?? shards[comm.rank] }
    /// The shared-memory exchange while `run` uses one.
    var exchange: SharedMemoryExchange?

    /// The GEMMs of the last recorded step (see `Tape.gemmWorkload`).
    public func gemmWorkload() -> [GEMMShape] { tape.gemmWorkload() }

    /// Trains until the configured epochs are done or `shouldStop` turns true on any rank.
    /// Subnormal floats are flushed to zero meanwhile (see `FloatingPointMode`).
    public func run(shouldStop: () -> Bool = { false }) throws -> TrainingOutcome {
        try FloatingPointMode.withDenormalsFlushed {
            let arena = model.arena
            // Ranks on one node share parameters and gradients for the duration of the run.
            let exchange = comm.size > 1
                ? try comm.makeSharedMemoryExchange(parameterCount: arena.count, gradientCount: arena.count + ParameterArena.controlCapacity)
                : nil
            guard let exchange else { return try runLoop(shouldStop: shouldStop, exchange: nil) }
            // Local rank 0's parameters and moments go to the node's shared buffers (every rank holds the
            // same ones: broadcast at start, or loaded from one checkpoint).
            let first = exchange.localRank == 0
            arena.borrowStorage(values: exchange.parameters, gradients: exchange.gradients[exchange.localRank], copyValues: first)
            optimizer.borrowMoments(m: exchange.moments.m, v: exchange.moments.v, copy: first)
            try exchange.synchronize()
            self.exchange = exchange
            let outcome: TrainingOutcome
            do {
                outcome = try runLoop(shouldStop: shouldStop, exchange: exchange)
            } catch {
                // Other ranks may not have failed, so nothing collective here: the windows stay (the tool
                // aborts the job).
                leaveSharedStorage()
                throw error
            }
            try exchange.synchronize()
            leaveSharedStorage()
            try exchange.synchronize()
            try exchange.free()
            return outcome
        }
    }

    /// The arena and optimizer take private copies of what they held in the node's shared buffers.
    func leaveSharedStorage() {
        exchange = nil
        model.arena.returnBorrowedStorage()
        optimizer.returnBorrowedMoments()
    }

    func runLoop(shouldStop: () -> Bool, exchange: SharedMemoryExchange?) throws -> TrainingOutcome {
        let t = config.training
        let arena = model.arena
        let control = arena.control
        arena.zeroGradients()  // from here on the optimizer clears each gradient as it reads it
        observer?(.started(startStep: state.step, totalSteps: totalSteps, parameters: arena.parameterCount, worldSize: comm.size,
                           exchange: exchangeDescription(exchange)))
        var epochStart = monotonicSeconds()
        var epochSamplesThisRun = 0.0
        var allreduceSeconds = 0.0
        while state.epoch < t.epochs {
            let permutation = epochPermutation(count: train.count, seed: config.seed, epoch: state.epoch)
            while state.batchInEpoch < batchesPerEpoch {
                let globalStart = state.batchInEpoch * t.batchSize
                let globalCount = Swift.min(t.batchSize, train.count - globalStart)
                let slice = rankSlice(count: globalCount, rank: comm.rank, size: comm.size)
                for (i, p) in slice.enumerated() { positions[i] = permutation[globalStart + p] }
                load(count: slice.count, epoch: state.epoch, from: train)
                let beta = t.annealing.beta(step: state.step, totalSteps: totalSteps, top: t.beta)

                let t0 = monotonicSeconds()
                control.update(repeating: 0, count: Control.count)
                var t1 = t0
                if slice.count > 0 {
                    tape.reset()
                    let terms = try model.loss(batch, tape: tape, beta: beta, seed: config.seed)
                    t1 = monotonicSeconds()
                    tape.backward(terms.total)
                    control[Control.loss] = tape.item(terms.total)
                    control[Control.reconstruction] = tape.item(terms.reconstruction)
                    control[Control.kl] = tape.item(terms.kl)
                    control[Control.rows] = Float(rowsWithData())
                }
                control[Control.stop] = shouldStop() ? 1 : 0
                let reduceStart = monotonicSeconds()
                var reduceEnd = reduceStart, optimizerEnd = reduceStart
                if let exchange {
                    // Shared memory: once every local rank's gradients are final, this rank sums its block of
                    // them (and across nodes) and updates it in the node's shared parameters.
                    try exchange.synchronize()
                    try exchange.sumOverRanks(offset: arena.count, count: Control.count, into: summedControl)
                    reduceEnd = monotonicSeconds()
                    try checkLoss()
                    optimizer.learningRate = t.learningRate(step: state.step)
                    let skipped = try exchange.optimizerStep(optimizer, gradScale: 1 / Float(globalRows()))
                    // Every node updates every block identically, so the node's sum counts the whole job.
                    control[Control.skipped] = Float(skipped)
                    optimizerEnd = monotonicSeconds()
                    try exchange.synchronize()
                    var skippedEverywhere: Float = 0
                    for g in exchange.gradients { skippedEverywhere += g[arena.count + Control.skipped] }
                    summedControl[Control.nonFinite] = skippedEverywhere
                } else {
                    let mine = shards[comm.rank]
                    try comm.reduceScatterSum(arena.gradients, into: shardGradients, blocks: shards)
                    try comm.allreduceSum(control, count: Control.count)
                    summedControl.update(from: control, count: Control.count)
                    reduceEnd = monotonicSeconds()
                    try checkLoss()
                    // Mean gradient over the global batch on this rank's shard; its gradients come back zeroed.
                    optimizer.learningRate = t.learningRate(step: state.step)
                    var skipped = Float(optimizer.update(shard: mine, params: arena.values, grads: shardGradients,
                                                         gradScale: 1 / Float(globalRows()), zeroGradients: true))
                    if comm.size > 1 { arena.zeroGradients() }  // the local sums were only read by the reduce-scatter
                    optimizerEnd = monotonicSeconds()
                    if comm.size > 1 {
                        try comm.allreduceSum(&skipped, count: 1)
                        try comm.allgather(arena.values, blocks: shards)
                    }
                    summedControl[Control.nonFinite] = skipped
                }
                let gatherEnd = monotonicSeconds()
                // A non-finite gradient anywhere stops the run (those coordinates were left unchanged; the
                // step is not checkpointed).
                guard summedControl[Control.nonFinite] == 0 else {
                    throw TrainingError.nonFinite(step: state.step, loss: Double(summedControl[Control.loss]))
                }
                let exchangeSeconds = (reduceEnd - reduceStart) + (gatherEnd - optimizerEnd)
                allreduceSeconds += exchangeSeconds
                let rows = globalRows()
                let loss = Double(summedControl[Control.loss])
                phases.add(forward: t1 - t0, backward: reduceStart - t1, allreduce: exchangeSeconds,
                           optimizer: optimizerEnd - reduceEnd, rows: slice.count)

                state.step += 1
                state.batchInEpoch += 1
                state.epochLossSum += loss
                state.epochReconstructionSum += Double(summedControl[Control.reconstruction])
                state.epochKLSum += Double(summedControl[Control.kl])
                state.epochSamples += rows
                epochSamplesThisRun += rows
                let rate = epochSamplesThisRun / Swift.max(monotonicSeconds() - epochStart, 1e-9)
                observer?(.step(epoch: state.epoch, step: state.step, totalSteps: totalSteps, batchInEpoch: state.batchInEpoch,
                                batchesPerEpoch: batchesPerEpoch, loss: loss / rows, samplesPerSecond: rate))
                if state.step % checksumEvery == 0 { try checkReplicas() }
                if summedControl[Control.stop] > 0 {
                    observer?(.stopRequested(step: state.step))
                    try gatherOptimizerState()
                    try checkpointer?(self)
                    return .stopped(step: state.step)
                }
            }
            let seconds = monotonicSeconds() - epochStart
            var summary = EpochSummary(
                epoch: state.epoch + 1, step: state.step,
                beta: t.annealing.beta(step: Swift.max(state.step - 1, 0), totalSteps: totalSteps, top: t.beta),
                trainLoss: state.epochLossSum / state.epochSamples,
                trainReconstruction: state.epochReconstructionSum / state.epochSamples,
                trainKL: state.epochKLSum / state.epochSamples,
                seconds: seconds, samplesPerSecond: epochSamplesThisRun / Swift.max(seconds, 1e-9),
                allreduceSeconds: allreduceSeconds)
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
            if state.epoch == t.epochs || (every > 0 && state.epoch % every == 0) {
                try gatherOptimizerState()
                try checkpointer?(self)
            }
            epochStart = monotonicSeconds()
            epochSamplesThisRun = 0
            allreduceSeconds = 0
        }
        return .completed
    }

    func exchangeDescription(_ exchange: SharedMemoryExchange?) -> String {
        guard comm.size > 1 else { return "none" }
        guard let exchange else { return "rings" }
        let ranks = exchange.localSize == 1 ? "1 rank" : "\(exchange.localSize) ranks"
        return exchange.nodes == 1 ? "shared memory" : "shared memory on \(exchange.nodes) nodes of \(ranks), rings between them"
    }

    /// The global row count of this step (at least 1: it divides the summed loss and gradients).
    func globalRows() -> Double { Swift.max(Double(summedControl[Control.rows]), 1) }

    /// A non-finite summed loss stops the run before the optimizer step.
    func checkLoss() throws {
        let loss = Double(summedControl[Control.loss])
        guard loss.isFinite else { throw TrainingError.nonFinite(step: state.step, loss: loss) }
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

    /// Mean per-sample loss terms over a split with weight `beta`, shared out over ranks.
    /// The noise is keyed by a reserved epoch, so repeated evaluations see the same draws.
    public func evaluateLoss(_ subset: DataSubset, beta: Float) throws -> (loss: Double, reconstruction: Double, kl: Double) {
        let share = rankSlice(count: subset.count, rank: comm.rank, size: comm.size)
        var sums = [Double](repeating: 0, count: 4)
        var start = share.lowerBound
        while start < share.upperBound {
            let n = Swift.min(Self.evaluationChunk, share.upperBound - start)
            for i in 0..<n { positions[i] = start + i }
            load(count: n, epoch: 0xFFFF, from: subset)
            tape.reset()
            let terms = try model.loss(batch, tape: tape, beta: beta, seed: config.seed)
            sums[0] += Double(tape.item(terms.total))
            sums[1] += Double(tape.item(terms.reconstruction))
            sums[2] += Double(tape.item(terms.kl))
            sums[3] += Double(rowsWithData())
            start += n
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
