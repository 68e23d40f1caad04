import MVCore

// `@exclusivity(unchecked)` on the properties the step touches: README, "The training step and the exchange".

/// One process: the gradient buffer already holds the sum, and Adam updates the trainable range,
/// block by block during the backward pass as the tape reports each parameter's gradient complete
/// (the step's checks need only the loss, so they run before the pass), or in one pass after it.
/// The bits are those of one pass after the backward pass either way.
final class LocalExchange: GradientExchange, ParameterGradientObserver {
    let arena: ParameterArena
    let adam: Adam
    @exclusivity(unchecked) private(set) var optimizerBlock: Range<Int>
    /// The step under way: its constants, the blocks already updated, and their totals.
    @exclusivity(unchecked) private var pending: Adam.StepConstants?
    @exclusivity(unchecked) private var updated = UpdatedBlocks()
    @exclusivity(unchecked) private var skipped = 0, seconds = 0.0
    let updatesDuringBackward: Bool
    var description: String { "none" }

    init(arena: ParameterArena, optimizer: Adam, updatesDuringBackward: Bool) {
        self.arena = arena
        adam = optimizer
        optimizerBlock = arena.trainable
        self.updatesDuringBackward = updatesDuringBackward
    }

    /// Checks, then the backward pass with the update inside (or the order of every other exchange).
    func step(
        control count: Int, into summed: UnsafeMutablePointer<Float>,
        backward: (ParameterGradientObserver?) throws -> Void,
        check: (UnsafeMutablePointer<Float>) throws -> Float
    ) throws -> ExchangeStep {
        guard updatesDuringBackward else { return try stepAfterBackward(control: count, into: summed, backward: backward, check: check) }
        let start = monotonicSeconds()
        try sumGradients(control: count, into: summed)
        let copied = monotonicSeconds()
        beginUpdate(gradScale: try check(summed))
        let updateStart = monotonicSeconds()
        var failure: Error?
        do { try backward(self) } catch { failure = error }
        let update = finishUpdate()
        if let failure { throw failure }
        return ExchangeStep(
            skipped: update.skipped, backwardSeconds: monotonicSeconds() - updateStart - update.optimizerSeconds,
            exchangeSeconds: copied - start, optimizerSeconds: update.optimizerSeconds)
    }

    func train(_ range: Range<Int>) throws { optimizerBlock = range }

    func sumGradients(control count: Int, into summed: UnsafeMutablePointer<Float>) throws {
        summed.update(from: arena.control, count: count)
    }

    /// The whole block in one pass: an incremental step that no report interrupts.
    func update(gradScale: Float) throws -> (skipped: Int, optimizerSeconds: Double) {
        beginUpdate(gradScale: gradScale)
        return finishUpdate()
    }

    func beginUpdate(gradScale: Float) {
        pending = adam.beginStep(gradScale: gradScale)
        updated.removeAll()
        skipped = 0
        seconds = 0
    }

    func parameterGradientFinished(_ gradient: UnsafeMutablePointer<Float>, count: Int) {
        let offset = gradient - arena.gradients
        guard offset >= 0, offset + count <= arena.count else { return }  // not a view into this arena
        let block = (offset..<(offset + count)).clamped(to: optimizerBlock)
        guard !block.isEmpty else { return }
        updateBlock(block)
        updated.append(block)
    }

    func finishUpdate() -> (skipped: Int, optimizerSeconds: Double) {
        updated.forEachGap(in: optimizerBlock) { updateBlock($0) }
        pending = nil
        return (skipped, seconds)
    }

    private func updateBlock(_ block: Range<Int>) {
        guard let pending else { preconditionFailure("an incremental update outside beginUpdate/finishUpdate") }
        let start = monotonicSeconds()
        skipped += adam.apply(pending, to: block, params: arena.values, grads: arena.gradients + block.lowerBound, zeroGradients: true)
        seconds += monotonicSeconds() - start
    }

    func gatherOptimizerState() throws {}
    func restartOptimizer() throws { adam.restart(0..<adam.count) }

    func assign(_ values: [Float], at offset: Int) throws { arena.write(values, at: offset) }

    func finish() throws {}
    func abandon() {}
}
