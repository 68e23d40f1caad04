import Foundation

/// Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019: weight decay decoupled from the
/// gradient) over the whole flat parameter buffer in one loop. Moments are flat buffers too, so
/// they checkpoint as two more arena-shaped tensors.
public final class Adam {
    public var learningRate: Float
    public let beta1: Float
    public let beta2: Float
    public let epsilon: Float
    /// Decoupled weight decay (AdamW); 0 gives plain Adam.
    public var weightDecay: Float
    /// Number of steps taken (drives bias correction).
    public var step: Int = 0
    public let count: Int
    public let m: UnsafeMutablePointer<Float>
    public let v: UnsafeMutablePointer<Float>

    public init(count: Int, learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999,
                epsilon: Float = 1e-8, weightDecay: Float = 0) {
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
        m.deallocate()
        v.deallocate()
    }

    /// One update of `params` from `grads` (both `count` floats).
    public func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>) {
        step += 1
        let b1 = beta1, b2 = beta2, eps = epsilon
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(step)))
        let c2 = 1 - Float(Foundation.pow(Double(b2), Double(step)))
        let lr = learningRate
        let stepSize = lr / c1
        let invSqrtC2 = 1 / c2.squareRoot()
        let decay = 1 - lr * weightDecay
        let m = self.m, v = self.v
        for i in 0..<count {
            let g = grads[i]
            let mi = b1 * m[i] + (1 - b1) * g
            let vi = b2 * v[i] + (1 - b2) * g * g
            m[i] = mi
            v[i] = vi
            params[i] = params[i] * decay - stepSize * mi / ((vi.squareRoot() * invSqrtC2) + eps)
        }
    }

    /// Steps the arena with its own gradient buffer.
    public func update(_ arena: ParameterArena) {
        precondition(arena.count == count, "optimizer sized for \(count) floats, arena has \(arena.count)")
        update(params: arena.values, grads: arena.gradients)
    }
}
