import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// With one process the optimizer steps each parameter during the backward pass, as soon as the tape
/// reports its gradient complete. That must give the bits of one Adam pass after the backward pass, for
/// every model family and every stage (frozen groups, restarted Adam, end-of-stage assignments).
final class IncrementalUpdateTests: XCTestCase {
    static let runs: [(name: String, yaml: String)] = [
        (
            "jpvae",
            """
            name: incremental-jpvae
            seed: 31
            data: {source: fashion-mnist, imageViews: top-bottom, validationSize: 100, trainLimit: 200, testLimit: 50, missingRate: 0.2}
            model: {type: jpvae, latent: [3, 4], encoderHidden: [8], decoderHidden: [8], prior: {cross: scaledOrthogonal, learnAlpha: true}}
            training: {epochs: 2, batchSize: 20, learningRate: 0.003, validate: false, logEvery: 1000}
            """
        ),
        (
            "mopoe every component, private latents",
            """
            name: incremental-mopoe
            seed: 32
            data: {source: linear-gaussian, modalities: 3, latentDimension: 2, dimensions: [6, 5, 4], samples: 300, missingRate: 0.2}
            model: {type: aggregated, aggregator: mopoe, bound: masked, latent: 2, privateLatent: 1, encoderHidden: [16],
                    featureSize: 8, decoderHidden: [8], likelihood: gaussian}
            training: {epochs: 2, batchSize: 24, learningRate: 0.003, validate: false, logEvery: 1000}
            """
        ),
        (
            "moe one per row",
            """
            name: incremental-moe
            seed: 33
            data: {source: linear-gaussian, modalities: 3, latentDimension: 2, dimensions: [6, 5, 4], samples: 300}
            model: {type: aggregated, aggregator: moe, bound: elbo, mixtureSampling: onePerRow, latent: 2, encoderHidden: [16],
                    featureSize: 8, decoderHidden: [], likelihood: gaussian}
            training: {epochs: 2, batchSize: 24, learningRate: 0.003, validate: false, logEvery: 1000}
            """
        ),
        (
            "self-attention, learnt mixture",
            """
            name: incremental-attention
            seed: 34
            data: {source: linear-gaussian, modalities: 3, latentDimension: 2, dimensions: [6, 5, 4], samples: 300}
            model: {type: aggregated, aggregator: selfAttention, bound: mixture, mixtureComponents: 2, latent: 2, encoderHidden: [8],
                    featureSize: 8, poolingSize: 8, attentionHeads: 2, attentionBlocks: 1, aggregatorHidden: [8], decoderHidden: [8],
                    likelihood: gaussian}
            training: {epochs: 2, batchSize: 24, learningRate: 0.002, validate: false, logEvery: 1000}
            """
        ),
        (
            "covae, both stages",
            """
            name: incremental-covae
            seed: 35
            data: {source: fashion-mnist, imageViews: top-bottom, validationSize: 100, trainLimit: 121, testLimit: 50}
            model: {type: covae, latent: 3, encoderHidden: [16], decoderHidden: [16], jointHidden: [16]}
            training: {batchSize: 24, learningRate: 0.003, validate: false, logEvery: 1000, stages: {pretrain: {epochs: 1},
                       train: {epochs: 2}}}
            """
        ),
        (
            "jnf shared, three stages",
            """
            name: incremental-jnf
            seed: 36
            data: {source: fashion-mnist, imageViews: top-bottom, validationSize: 100, trainLimit: 121, testLimit: 50}
            model: {type: jnf, variant: shared, latent: 3, encoderHidden: [16], decoderHidden: [16], jointHidden: [16], flowHidden: [8,
                    8], hmcSteps: 5, leapfrogSteps: 3}
            training: {batchSize: 24, learningRate: 0.003, validate: false, logEvery: 1000, stages: {joint: {epochs: 1},
                       projectors: {epochs: 1}, unimodal: {epochs: 1}}}
            """
        ),
        (
            "staged probe",
            """
            name: incremental-staged
            seed: 37
            data: {source: fashion-mnist, imageViews: top-bottom, validationSize: 100, trainLimit: 120, testLimit: 50}
            model: {type: stagedProbe, latent: 4, encoderHidden: [16], decoderHidden: [16]}
            training: {batchSize: 24, learningRate: 0.003, validate: false, logEvery: 1000, stages: {encoder: {epochs: 1},
                       head: {epochs: 1, learningRate: 0.01}}}
            """
        ),
    ]

    /// Parameters, then Adam's m and v, and Adam's step count after the whole run.
    func train(_ yaml: String, duringBackward: Bool) throws -> (state: [Float], adamStep: Int) {
        let config = try ExperimentConfig.parse(yaml: yaml)
        let data = try ExperimentData(config: config.data, seed: config.seed)
        let model = try ModelRegistry.makeModel(config, dimensions: data.dimensions)
        let trainer = try Trainer(config: config, model: model, train: data.train, validation: nil, comm: LocalCommunicator())
        trainer.exchangeSettings.updatesDuringBackward = duringBackward
        XCTAssertEqual(try trainer.run(), .completed)
        let n = model.arena.count, adam = trainer.optimizer
        let buffers: [UnsafeMutablePointer<Float>] = [model.arena.values, adam.m, adam.v]
        return (buffers.flatMap { Array(UnsafeBufferPointer(start: $0, count: n)) }, adam.step)
    }

    func testEveryFamilyTrainsToTheSameBitsAsOnePassAfterTheBackwardPass() throws {
        for (name, yaml) in Self.runs {
            let during = try train(yaml, duringBackward: true), after = try train(yaml, duringBackward: false)
            XCTAssertEqual(during.adamStep, after.adamStep, name)
            XCTAssertEqual(during.state.count, after.state.count, name)
            let differing = zip(during.state, after.state).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differing, 0, "\(name): \(differing) of \(during.state.count) floats differ")
            XCTAssertTrue(during.state.allSatisfy(\.isFinite), name)
        }
    }

    /// The tape reports a parameter recorded twice once, at its earlier leaf (after the later one's
    /// consumers and its own have run), and never a parameter the graph does not use; the exchange
    /// updates that one in its final sweep, so its moments still move.
    func testReportsComeOnceAtTheEarliestLeafAndTheSweepCoversTheRest() throws {
        let arena = ParameterArena()
        let a = arena.register("a", rows: 2, cols: 3, initializer: .constant(0.5))
        let b = arena.register("b", rows: 3, cols: 1, initializer: .constant(-0.25))
        let unused = arena.register("unused", rows: 1, cols: 4, initializer: .constant(1))
        arena.materialize(seed: 1)
        final class Recorder: ParameterGradientObserver {
            var reports: [(offset: Int, count: Int, gradient: [Float])] = []
            let base: UnsafeMutablePointer<Float>
            init(base: UnsafeMutablePointer<Float>) { self.base = base }
            func parameterGradientFinished(_ gradient: UnsafeMutablePointer<Float>, count: Int) {
                reports.append((gradient - base, count, Array(UnsafeBufferPointer(start: gradient, count: count))))
            }
        }
        let tape = Tape()
        func record() -> Var {
            let x = tape.constant(Matrix(rows: 4, cols: 2, [1, 2, -1, 0.5, 3, -2, 0.25, 1]))
            let first = tape.matmul(x, tape.parameter(a, in: arena))  // 4 × 3
            let second = tape.matmul(tape.matmul(x, tape.parameter(a, in: arena)), tape.parameter(b, in: arena))
            return tape.sum(tape.add(tape.sum(tape.mul(first, first)), tape.sum(second)))
        }
        let recorder = Recorder(base: arena.gradients)
        let loss = record()
        tape.backward(loss, finished: recorder)
        XCTAssertEqual(recorder.reports.map(\.offset), [b.offset, a.offset], "b's only leaf comes after a's second one")
        XCTAssertEqual(recorder.reports.map(\.count), [b.count, a.count])
        let complete = Array(UnsafeBufferPointer(start: arena.gradients + a.offset, count: a.count))
        XCTAssertEqual(recorder.reports[1].gradient, complete, "a was reported with both leaves' contributions in")

        // The exchange's step with the update inside the backward pass equals the one pass after it, and
        // moves the unused parameter's moments too.
        let summed = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { summed.deallocate() }
        func step(incremental: Bool) -> [Float] {
            arena.write([Float](repeating: 0.5, count: a.count), at: a.offset)
            arena.write([Float](repeating: -0.25, count: b.count), at: b.offset)
            arena.write([Float](repeating: 1, count: unused.count), at: unused.offset)
            arena.zeroGradients()
            let adam = Adam(count: arena.count, learningRate: 0.01)
            let exchange = LocalExchange(arena: arena, optimizer: adam, updatesDuringBackward: incremental)
            for _ in 0..<3 {
                tape.reset()
                let loss = record()
                arena.gradients[unused.offset] = 0.125  // as if another term had reached it
                var observers: [Bool] = []
                let done = try? exchange.step(
                    control: 0, into: summed,
                    backward: { observer in
                        observers.append(observer != nil)
                        tape.backward(loss, finished: observer)
                    }, check: { _ in 0.5 })
                XCTAssertEqual(done?.skipped, 0)
                XCTAssertEqual(observers, [incremental], "the pass reports finished parameters only when it updates during it")
            }
            return Array(UnsafeBufferPointer(start: arena.values, count: arena.count))
                + Array(UnsafeBufferPointer(start: adam.m, count: arena.count))
                + Array(UnsafeBufferPointer(start: adam.v, count: arena.count))
        }
        // A check that throws stops the step before any parameter changes, in either order.
        for incremental in [true, false] {
            arena.zeroGradients()
            let before = Array(UnsafeBufferPointer(start: arena.values, count: arena.count))
            let exchange = LocalExchange(arena: arena, optimizer: Adam(count: arena.count), updatesDuringBackward: incremental)
            tape.reset()
            let loss = record()
            struct Refused: Error {}
            XCTAssertThrowsError(
                try exchange.step(
                    control: 0, into: summed, backward: { tape.backward(loss, finished: $0) },
                    check: { _ in throw Refused() })
            ) { XCTAssertTrue($0 is Refused) }
            XCTAssertEqual(Array(UnsafeBufferPointer(start: arena.values, count: arena.count)), before, "incremental: \(incremental)")
        }
        let during = step(incremental: true), after = step(incremental: false)
        XCTAssertEqual(during.map(\.bitPattern), after.map(\.bitPattern))
        XCTAssertNotEqual(during[unused.offset], 1, "the unused parameter moved")
        XCTAssertTrue((0..<arena.count).allSatisfy { arena.gradients[$0] == 0 }, "every gradient cleared for the next step")
    }

    /// A non-finite gradient, in a reported block or in the sweep, is counted and leaves its coordinate
    /// as it was (the trainer then stops the run), as the one-pass update does.
    func testNonFiniteGradientsAreCountedAndLeftOut() throws {
        let arena = ParameterArena()
        let a = arena.register("a", rows: 1, cols: 3, initializer: .constant(0.5))
        let unused = arena.register("unused", rows: 1, cols: 2, initializer: .constant(1))
        arena.materialize(seed: 1)
        let exchange = LocalExchange(arena: arena, optimizer: Adam(count: arena.count), updatesDuringBackward: true)
        let tape = Tape()
        let loss = tape.sum(tape.mul(tape.parameter(a, in: arena), tape.constant(Matrix(rows: 1, cols: 3, [1, .nan, 2]))))
        arena.gradients[unused.offset + 1] = .infinity
        exchange.beginUpdate(gradScale: 1)
        tape.backward(loss, finished: exchange)
        XCTAssertEqual(exchange.finishUpdate().skipped, 2)
        XCTAssertEqual(arena.values[a.offset + 1], 0.5, "the NaN coordinate kept its value")
        XCTAssertEqual(arena.values[unused.offset + 1], 1, "the infinite one too")
        XCTAssertNotEqual(arena.values[a.offset], 0.5, "finite coordinates moved")
    }

    func testGapsAreWhatNoBlockCovers() {
        var blocks = UpdatedBlocks()
        var gaps: [Range<Int>] = []
        blocks.append(40..<50); blocks.append(2..<10); blocks.append(10..<12); blocks.append(20..<30)
        blocks.forEachGap(in: 0..<60) { gaps.append($0) }
        XCTAssertEqual(gaps, [0..<2, 12..<20, 30..<40, 50..<60])
        gaps = []
        blocks.forEachGap(in: 2..<45) { gaps.append($0) }
        XCTAssertEqual(gaps, [12..<20, 30..<40])
        blocks.removeAll()
        gaps = []
        blocks.forEachGap(in: 5..<9) { gaps.append($0) }
        XCTAssertEqual(gaps, [5..<9])
    }
}
