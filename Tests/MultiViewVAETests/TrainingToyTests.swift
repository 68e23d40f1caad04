import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// A small MLP trained with Adam on a fixed synthetic regression problem: the arena, the layers,
/// the tape and the optimizer together must drive the loss well below where it starts.
final class TrainingToyTests: XCTestCase {
    /// y = sin(2 x₁) + 0.5 x₂² − x₁x₂ on x ~ U(−1, 1)², 256 points.
    func makeData() -> (x: Matrix, y: Matrix) {
        let x = Matrix.randomUniform(rows: 256, cols: 2, seed: 11, low: -1, high: 1)
        var y = Matrix(rows: 256, cols: 1)
        for i in 0..<256 {
            let a = x[i, 0], b = x[i, 1]
            y[i, 0] = sin(2 * a) + 0.5 * b * b - a * b
        }
        return (x, y)
    }

    func testMLPRegressionLossFallsBelowThreshold() {
        let (x, y) = makeData()
        let arena = ParameterArena()
        let mlp = MLP("net", sizes: [2, 32, 32, 1], activation: .tanh, arena: arena)
        arena.materialize(seed: 3)
        let adam = Adam(count: arena.count, learningRate: 1e-2)
        let tape = Tape()
        var first: Float = .nan, last: Float = .nan
        var bytesAfterFirstStep = 0
        for step in 0..<600 {
            tape.reset()
            arena.zeroGradients()
            let xv = tape.constant(x), yv = tape.constant(y)
            let pred = mlp(xv, tape: tape, arena: arena)
            let loss = tape.mean(tape.square(tape.sub(pred, yv)))
            tape.backward(loss)
            adam.update(arena)
            if step == 0 { first = tape.item(loss); bytesAfterFirstStep = tape.allocatedBytes }
            last = tape.item(loss)
        }
        XCTAssertGreaterThan(first, 0.1, "the untrained network should be far off")
        XCTAssertLessThan(last, 0.005, "mean squared error after 600 Adam steps")
        XCTAssertEqual(tape.allocatedBytes, bytesAfterFirstStep, "replaying the same graph must reuse tape buffers")
    }

    func testAdamWDecaysWeightsWithZeroGradient() {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 4); defer { p.deallocate() }
        let g = UnsafeMutablePointer<Float>.allocate(capacity: 4); defer { g.deallocate() }
        p.initialize(repeating: 2, count: 4)
        g.initialize(repeating: 0, count: 4)
        let opt = Adam(count: 4, learningRate: 0.1, weightDecay: 0.5)
        opt.update(params: p, grads: g)
        XCTAssertEqual(p[0], 2 * (1 - 0.1 * 0.5), accuracy: 1e-6)
    }

    func testAdamFirstStepMovesEachParameterByLearningRate() {
        // With bias correction, the first Adam step is −lr·sign(g) (up to ε).
        let p = UnsafeMutablePointer<Float>.allocate(capacity: 3); defer { p.deallocate() }
        let g = UnsafeMutablePointer<Float>.allocate(capacity: 3); defer { g.deallocate() }
        p.initialize(repeating: 1, count: 3)
        g[0] = 0.3; g[1] = -7; g[2] = 1e-3
        let opt = Adam(count: 3, learningRate: 0.01)
        opt.update(params: p, grads: g)
        XCTAssertEqual(p[0], 0.99, accuracy: 1e-5)
        XCTAssertEqual(p[1], 1.01, accuracy: 1e-5)
        XCTAssertEqual(p[2], 0.99, accuracy: 1e-4)
    }

    func testArenaViewsAreAlignedAndInitialisationIsSeeded() {
        func build(seed: UInt64) -> ParameterArena {
            let arena = ParameterArena()
            _ = Dense("a", inputs: 3, outputs: 5, arena: arena)
            _ = Dense("b", inputs: 5, outputs: 2, init: .xavier, arena: arena)
            arena.materialize(seed: seed)
            return arena
        }
        let a1 = build(seed: 1), a2 = build(seed: 1), a3 = build(seed: 2)
        XCTAssertEqual(a1.views.map(\.name), ["a.weight", "a.bias", "b.weight", "b.bias"])
        for v in a1.views { XCTAssertEqual(v.offset % ParameterArena.alignment, 0) }
        XCTAssertEqual(a1.checksum(), a2.checksum())
        XCTAssertNotEqual(a1.checksum(), a3.checksum())
        let w = a1.value(a1.view(named: "b.weight")!)
        let bound = (6 / Float(7)).squareRoot()
        XCTAssertTrue(w.storage.allSatisfy { abs($0) <= bound })
        XCTAssertEqual(a1.value(a1.view(named: "a.bias")!).storage, [0, 0, 0, 0, 0])
    }

    func testFrozenParameterGetsNoGradient() {
        let arena = ParameterArena()
        arena.beginGroup("weight")
        let weight = arena.register("d.weight", rows: 2, cols: 2, initializer: .kaimingNormal(fanIn: 2))
        arena.beginGroup("bias")
        let bias = arena.register("d.bias", rows: 1, cols: 2, initializer: .zeros)
        arena.materialize(seed: 1)
        arena.trainable = arena.range(ofGroups: ["bias"])!
        let tape = Tape()
        let x = tape.constant(Matrix([[1, 2]]))
        let out = tape.add(tape.matmul(x, tape.parameter(weight, in: arena)), tape.parameter(bias, in: arena))
        tape.backward(tape.sum(out))
        XCTAssertEqual(arena.gradient(weight).storage, [0, 0, 0, 0])
        XCTAssertEqual(arena.gradient(bias).storage, [1, 1])
        XCTAssertNil(arena.range(ofGroups: ["bias", "nothing"]))
    }
}

final class ShardedAdamTests: XCTestCase {
    /// Updating the parameters in blocks (one per rank) equals one update of the whole buffer.
    func testShardedUpdatesEqualTheFullUpdate() {
        let n = 103
        let p0 = Matrix.randomNormal(rows: 1, cols: n, seed: 1), g = Matrix.randomNormal(rows: 1, cols: n, seed: 2)
        var full = p0.storage, sharded = p0.storage
        let a = Adam(count: n, learningRate: 0.01, weightDecay: 0.1), b = Adam(count: n, learningRate: 0.01, weightDecay: 0.1)
        for _ in 0..<3 {
            var grads = g.storage
            grads.withUnsafeMutableBufferPointer { gp in
                _ = full.withUnsafeMutableBufferPointer { a.update(params: $0.baseAddress!, grads: gp.baseAddress!, gradScale: 0.5) }
            }
            let blocks = (0..<3).map { rankSlice(count: n, rank: $0, size: 3) }
            for block in blocks {
                var shardGrads = Array(g.storage[block])
                shardGrads.withUnsafeMutableBufferPointer { gp in
                    _ = sharded.withUnsafeMutableBufferPointer {
                        b.update(shard: block, params: $0.baseAddress!, grads: gp.baseAddress!, gradScale: 0.5)
                    }
                }
                b.step -= 1  // one optimizer step per training step, whatever the number of blocks
            }
            b.step += 1
        }
        XCTAssertEqual(full, sharded)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: a.m, count: n)), Array(UnsafeBufferPointer(start: b.m, count: n)))
    }
}
