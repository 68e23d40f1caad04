import MVCore

/// One process: the gradient buffer already holds the sum, and Adam updates the trainable range,
/// either in one pass after the backward pass (`update`) or block by block during it (`IncrementalUpdate`).
final class LocalExchange: IncrementalUpdate {
    let arena: ParameterArena
    let adam: Adam
    private(set) var optimizerBlock: Range<Int>
    /// The step under way: its constants, the blocks already updated, and their totals.
    private var pending: Adam.StepConstants?
    private var updated = UpdatedBlocks()
    private var skipped = 0, seconds = 0.0
    var description: String { "none" }

    init(arena: ParameterArena, optimizer: Adam) {
        self.arena = arena
        adam = optimizer
        optimizerBlock = arena.trainable
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
