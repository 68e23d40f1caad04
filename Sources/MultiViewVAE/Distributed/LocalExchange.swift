/// One process: the gradient buffer already holds the sum, and Adam updates the trainable range.
final class LocalExchange: GradientExchange {
    let arena: ParameterArena
    let adam: Adam
    private(set) var optimizerBlock: Range<Int>
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

    func update(gradScale: Float) throws -> (skipped: Int, optimizerSeconds: Double) {
        let start = monotonicSeconds()
        let skipped = adam.update(shard: optimizerBlock, params: arena.values, grads: arena.gradients + optimizerBlock.lowerBound,
                                  gradScale: gradScale, zeroGradients: true)
        return (skipped, monotonicSeconds() - start)
    }

    func gatherOptimizerState() throws {}
    func restartOptimizer() throws { adam.restart(0..<adam.count) }

    func assign(_ values: [Float], at offset: Int) throws { arena.write(values, at: offset) }

    func finish() throws {}
    func abandon() {}
}
