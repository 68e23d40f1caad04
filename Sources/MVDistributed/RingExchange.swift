import MVCore

// `@exclusivity(unchecked)` on the properties the step touches: README, "The training step and the exchange".

/// Ranks that do not share memory (or `MVVAE_EXCHANGE=rings`): the optimizer is sharded. Rank r of P
/// owns block r of the trainable range: a reduce-scatter gives it the summed gradients of its block, it
/// takes the Adam step there, and an allgather brings every rank the updated parameters. Adam is
/// elementwise, so this equals the replicated step, while each rank's optimizer work falls as 1/P.
final class RingExchange: GradientExchange {
    let comm: Communicator
    let arena: ParameterArena
    let adam: Adam
    /// The blocks of the trainable range, relative to its start, by rank.
    @exclusivity(unchecked) private var blocks: [Range<Int>] = []
    @exclusivity(unchecked) private var trainable: Range<Int> = 0..<0
    /// This rank's summed gradients (sized for the largest block of the whole arena).
    private let blockGradients: UnsafeMutablePointer<Float>
    private let capacity: Int
    var description: String { "rings" }
    var optimizerBlock: Range<Int> {
        (blocks[comm.rank].lowerBound + trainable.lowerBound)..<(blocks[comm.rank].upperBound + trainable.lowerBound)
    }

    init(comm: Communicator, arena: ParameterArena, optimizer: Adam) {
        self.comm = comm
        self.arena = arena
        adam = optimizer
        capacity = Swift.max(rankSlice(count: arena.count, rank: 0, size: comm.size).count, 1)
        blockGradients = .allocate(capacity: capacity)
        blockGradients.initialize(repeating: 0, count: capacity)
        setBlocks(arena.trainable)
    }

    deinit { blockGradients.deallocate() }

    private func setBlocks(_ range: Range<Int>) {
        trainable = range
        blocks = (0..<comm.size).map { rankSlice(count: range.count, rank: $0, size: comm.size) }
    }

    /// A new split of the optimizer's blocks: every rank first gets every block's moments.
    func train(_ range: Range<Int>) throws {
        try gatherOptimizerState()
        setBlocks(range)
    }

    func sumGradients(control count: Int, into summed: UnsafeMutablePointer<Float>) throws {
        try comm.reduceScatterSum(arena.gradients + trainable.lowerBound, into: blockGradients, blocks: blocks)
        try comm.allreduceSum(arena.control, count: count)
        summed.update(from: arena.control, count: count)
    }

    func update(gradScale: Float) throws -> (skipped: Int, optimizerSeconds: Double) {
        let start = monotonicSeconds()
        var skipped = Float(
            adam.update(
                shard: optimizerBlock, params: arena.values, grads: blockGradients, gradScale: gradScale,
                zeroGradients: true))
        // The local sums were only read by the reduce-scatter.
        (arena.gradients + trainable.lowerBound).update(repeating: 0, count: trainable.count)
        let seconds = monotonicSeconds() - start
        try comm.allreduceSum(&skipped, count: 1)
        try comm.allgather(arena.values + trainable.lowerBound, blocks: blocks)
        return (Int(skipped), seconds)
    }

    func gatherOptimizerState() throws {
        try comm.allgather(adam.m + trainable.lowerBound, blocks: blocks)
        try comm.allgather(adam.v + trainable.lowerBound, blocks: blocks)
    }

    func restartOptimizer() throws { adam.restart(0..<adam.count) }

    func assign(_ values: [Float], at offset: Int) throws { arena.write(values, at: offset) }

    func finish() throws {}
    func abandon() {}
}
