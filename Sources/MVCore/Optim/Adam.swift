import CKernels
import Foundation

// `@exclusivity(unchecked)` on the properties the step touches: README, "The training step and the exchange".

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019: weight decay decoupled from the
/// gradient) over the whole flat parameter buffer in one loop. Moments are flat buffers too, so
/// they checkpoint as two more arena-shaped tensors.
public final class Adam {
    @exclusivity(unchecked) public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Decoupled weight decay (AdamW); 0 gives plain Adam.
    @exclusivity(unchecked) public var weightDecay: Float
    /// Number of steps taken (drives bias correction).
    @exclusivity(unchecked) public var step: Int = 0
    public let count: Int
    @exclusivity(unchecked) public private(set) var m: UnsafeMutablePointer<Float>
    @exclusivity(unchecked) public private(set) var v: UnsafeMutablePointer<Float>
    /// The optimizer's own moment buffers while `m`/`v` point at borrowed (shared) memory.
    @exclusivity(unchecked) private var ownMoments: (m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>)?

    public init(
        count: Int, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
        epsilon: Float = 1e-8, weightDecay: Float = 0
    ) {
        self.count = count
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        m = .allocate(capacity: Swift.max(count, 1))
        v = .allocate(capacity: Swift.max(count, 1))
        m.initialize(repeating: 0, count: Swift.max(count, 1))
        v.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    deinit {
        let own = ownMoments ?? (m, v)
        own.m.deallocate()
        own.v.deallocate()
    }

    /// Points `m` and `v` at other memory (`count` floats each), or back at the optimizer's own buffers
    /// (nil). The lender (a `StorageLoan`) copies the contents both ways.
    package func point(m newM: UnsafeMutablePointer<Float>?, v newV: UnsafeMutablePointer<Float>?) {
        if let newM, let newV {
            precondition(ownMoments == nil, "the optimizer already points at borrowed moments")
            ownMoments = (m, v)
            m = newM
            v = newV
        } else if let own = ownMoments {
            m = own.m
            v = own.v
            ownMoments = nil
        }
    }

    /// Forgets the moments of `range` and the step count: the next update is Adam's first again (a
    /// training stage that restarts the optimizer).
    public func restart(_ range: Range<Int>) {
        (m + range.lowerBound).update(repeating: 0, count: range.count)
        (v + range.lowerBound).update(repeating: 0, count: range.count)
        step = 0
    }

    /// One update of `params` from `gradScale · grads` (both `count` floats). The scale folds the
    /// division by the global row count into this pass instead of a separate one over the buffer;
    /// `zeroGradients` clears each gradient once read, which saves the next step a pass of its own.
    /// Returns how many coordinates had a non-finite gradient (those are left unchanged).
    @discardableResult
    public func update(
        params: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>, gradScale: Float = 1,
        zeroGradients: Bool = false
    ) -> Int {
        update(shard: 0..<count, params: params, grads: grads, gradScale: gradScale, zeroGradients: zeroGradients)
    }

    /// One update of the coordinates `shard` only: `params` and the moments from `shard.lowerBound` on,
    /// `grads` holding exactly the shard's gradients (`shard.count` floats). With the optimizer sharded
    /// over ranks, each rank updates its own block; Adam is elementwise, so the result equals the
    /// unsharded update.
    @discardableResult
    public func update(
        shard: Range<Int>, params allParams: UnsafeMutablePointer<Float>, grads: UnsafeMutablePointer<Float>,
        gradScale: Float = 1, zeroGradients: Bool = false
    ) -> Int {
        var source: UnsafeMutablePointer<Float>? = grads
        return update(
            shard: shard, params: allParams, gradientSources: &source, sourceCount: 1, gradScale: gradScale,
            zeroGradients: zeroGradients)
    }

    /// The update of `shard` from the sum of `sourceCount` gradient buffers, each pointing at the
    /// shard's first gradient and added in order (every rank's buffer when ranks share memory; see
    /// `SharedMemoryExchange`). Returns how many coordinates had a non-finite summed gradient: those keep
    /// their parameter and moments, and the caller stops training.
    public func update(
        shard: Range<Int>, params allParams: UnsafeMutablePointer<Float>,
        gradientSources: UnsafePointer<UnsafeMutablePointer<Float>?>, sourceCount: Int,
        gradScale: Float = 1, zeroGradients: Bool = false
    ) -> Int {
        precondition(shard.lowerBound >= 0 && shard.upperBound <= count, "shard \(shard) outside 0..<\(count)")
        return apply(
            beginStep(gradScale: gradScale), to: shard, params: allParams, gradientSources: gradientSources,
            sourceCount: sourceCount, zeroGradients: zeroGradients)
    }

    /// The constants of one step, shared by every block it updates.
    public struct StepConstants {
        let gradScale: Float, stepSize: Float, invSqrtC2: Float, decay: Float
    }

    /// Counts a step and returns its constants (bias corrections at the new count, the learning rate
    /// now). A step may then update its coordinates in any number of disjoint blocks (`apply`): the
    /// update is elementwise, so the blocks' results are the bits of one pass.
    public func beginStep(gradScale: Float = 1) -> StepConstants {
        step += 1
        let c1 = 1 - Float(Foundation.pow(Double(beta1), Double(step)))
        let c2 = 1 - Float(Foundation.pow(Double(beta2), Double(step)))
        return StepConstants(
            gradScale: gradScale, stepSize: learningRate / c1, invSqrtC2: 1 / c2.squareRoot(),
            decay: 1 - learningRate * weightDecay)
    }

    /// The step `constants` on the coordinates `block` (see `update(shard:…)` for the sources).
    public func apply(
        _ constants: StepConstants, to block: Range<Int>, params allParams: UnsafeMutablePointer<Float>,
        gradientSources: UnsafePointer<UnsafeMutablePointer<Float>?>, sourceCount: Int,
        zeroGradients: Bool
    ) -> Int {
        precondition(block.lowerBound >= 0 && block.upperBound <= count, "block \(block) outside 0..<\(count)")
        // The elementwise pass runs in C (CKernels): Swift turns SIMD square roots into scalar ones,
        // which made this pass compute-bound. Same operations and order as the scalar formula, same bits.
        return mvvae_adam_update(
            allParams + block.lowerBound, gradientSources, Int32(sourceCount), m + block.lowerBound,
            v + block.lowerBound, block.count, constants.gradScale, beta1, beta2, constants.stepSize,
            constants.invSqrtC2, epsilon, constants.decay, zeroGradients ? 1 : 0)
    }

    /// `apply` from one gradient buffer holding the block's gradients from its first coordinate on.
    public func apply(
        _ constants: StepConstants, to block: Range<Int>, params allParams: UnsafeMutablePointer<Float>,
        grads: UnsafeMutablePointer<Float>, zeroGradients: Bool
    ) -> Int {
        var source: UnsafeMutablePointer<Float>? = grads
        return apply(constants, to: block, params: allParams, gradientSources: &source, sourceCount: 1, zeroGradients: zeroGradients)
    }

    /// Steps the arena with its own gradient buffer.
    @discardableResult
    public func update(_ arena: ParameterArena, gradScale: Float = 1, zeroGradients: Bool = false) -> Int {
        precondition(arena.count == count, "optimizer sized for \(count) floats, arena has \(arena.count)")
        return update(params: arena.values, grads: arena.gradients, gradScale: gradScale, zeroGradients: zeroGradients)
    }
}
