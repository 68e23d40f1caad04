import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The SelfAttention aggregator, Gaussian and 3-component mixture heads: permutation invariance,
/// masking = leaving out, masked features ignored, the empty set, gradients into every parameter and
/// into the features, and training through AggregatedVAE.
final class SelfAttentionTests: XCTestCase {
    let rows = 3, featureSize = 4, latent = 2, modalities = 3, width = 4
    let mask = Matrix([[1, 0, 1], [1, 1, 1], [0, 1, 0]])

    func features(seed: UInt64) -> [Matrix] { (0..<modalities).map { uniform(rows, featureSize, seed: seed + UInt64($0)) } }

    func make(components: Int) -> (SelfAttention, ParameterArena) {
        let arena = ParameterArena()
        let a = SelfAttention(
            "sa", features: featureSize, latent: latent, modalities: modalities, hidden: [5], width: width,
            heads: 2, blocks: 2, components: components, activation: .tanh, arena: arena)
        arena.materialize(seed: 3)
        randomize(arena, seed: 4, scale: 0.5)
        return (a, arena)
    }

    /// Every number q is made of: each component's mean and log-variance, then the weights.
    func evaluate(_ agg: Aggregator, _ arena: ParameterArena, _ f: [Matrix], _ m: Matrix) -> [Matrix] {
        let tape = Tape()
        let q = agg.distribution(features: f.map { tape.constant($0) }, mask: tape.constant(m), tape: tape, arena: arena)
        return q.components.flatMap { [tape.value($0.mean), tape.value($0.logVar)] } + (q.weights.map { [tape.value($0)] } ?? [])
    }

    func assertClose(_ a: [Matrix], _ b: [Matrix], _ tolerance: Float, _ what: String, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, line: line)
        for (x, y) in zip(a, b) { XCTAssertLessThan(x.maxAbsDifference(y), tolerance, what, line: line) }
    }

    /// A scalar that depends on every part of q (weights included), for gradient checks.
    func contraction(_ q: PosteriorMixture, tape: Tape) -> Var {
        var total = tape.scalar(0)
        for (c, g) in q.components.enumerated() {
            let r1 = Matrix.randomNormal(rows: rows, cols: latent, seed: 50 + UInt64(c)),
                r2 = Matrix.randomNormal(rows: rows, cols: latent, seed: 60 + UInt64(c))
            total = tape.add(
                total, tape.add(tape.sum(tape.mul(g.mean, tape.constant(r1))), tape.sum(tape.mul(g.logVar, tape.constant(r2)))))
        }
        if let w = q.weights {
            total = tape.add(total, tape.sum(tape.mul(w, tape.constant(Matrix.randomNormal(rows: rows, cols: tape.cols(w), seed: 70)))))
        }
        return total
    }

    func testPermutingModalitiesLeavesQUnchanged() {
        let perm = [2, 0, 1]
        let f = features(seed: 20)
        var pm = Matrix(rows: rows, cols: modalities)
        for r in 0..<rows { for (i, s) in perm.enumerated() { pm[r, i] = mask[r, s] } }
        for components in [1, 3] {
            let (sa, arena) = make(components: components)
            let permuted = SelfAttention(
                embeddings: perm.map { sa.embeddings[$0] }, blocks: sa.blocks, finalNorm: sa.finalNorm, head: sa.head)
            assertClose(evaluate(sa, arena, f, mask), evaluate(permuted, arena, perm.map { f[$0] }, pm), 1e-5, "components \(components)")
        }
    }

    func testMaskingAModalityEqualsLeavingItOut() {
        let f = features(seed: 30)
        let m3 = Matrix([[1, 0, 1], [1, 0, 1], [0, 0, 1]]), m2 = Matrix([[1, 1], [1, 1], [0, 1]])
        for components in [1, 3] {
            let (sa, arena) = make(components: components)
            let pair = SelfAttention(
                embeddings: [sa.embeddings[0], sa.embeddings[2]], blocks: sa.blocks, finalNorm: sa.finalNorm, head: sa.head)
            assertClose(evaluate(sa, arena, f, m3), evaluate(pair, arena, [f[0], f[2]], m2), 1e-6, "components \(components)")
        }
    }

    func testMaskedFeaturesAreIgnored() {
        for components in [1, 3] {
            let (sa, arena) = make(components: components)
            var f2 = features(seed: 10)
            let q1 = evaluate(sa, arena, f2, mask)
            for r in 0..<rows { for s in 0..<modalities where mask[r, s] == 0 { for c in 0..<featureSize { f2[s][r, c] = 9 } } }
            assertClose(q1, evaluate(sa, arena, f2, mask), 1e-7, "components \(components)")
        }
    }

    func testEmptySetGivesThePrior() {
        let empty = Matrix(rows: rows, cols: modalities)
        for components in [1, 3] {
            let (sa, arena) = make(components: components)
            let q = evaluate(sa, arena, features(seed: 1), empty)
            for part in q.prefix(2 * (components == 1 ? 1 : components + 1)) { XCTAssertEqual(part.frobeniusNorm, 0, accuracy: 1e-7) }
            if components > 1 {
                // All weight on the prior component (the last).
                let w = q.last!
                for r in 0..<rows { for c in 0...components { XCTAssertEqual(w[r, c], c == components ? 1 : 0, accuracy: 1e-7) } }
            }
        }
    }

    func testGradientsIntoEveryParameterAndTheFeatures() throws {
        let f = features(seed: 40)
        for components in [1, 3] {
            let (sa, arena) = make(components: components)
            try checkArenaGradient(arena, step: 1e-2, tolerance: 2e-2) { tape in
                contraction(
                    sa.distribution(features: f.map { tape.constant($0) }, mask: tape.constant(mask), tape: tape, arena: arena), tape: tape)
            }
            var check = GradientCheck(f + [mask], constants: [modalities])
            check.tolerance = 2e-2
            check.run("self-attention features, components \(components)") { t, v in
                let q = sa.distribution(features: Array(v.prefix(self.modalities)), mask: v[self.modalities], tape: t, arena: arena)
                return self.contraction(q, tape: t)
            }
        }
    }

    func testReplayDoesNotAllocate() {
        let (sa, arena) = make(components: 3)
        let f = features(seed: 41)
        let tape = Tape()
        func step() {
            tape.reset()
            arena.zeroGradients()
            let q = sa.distribution(features: f.map { tape.variable($0) }, mask: tape.constant(mask), tape: tape, arena: arena)
            tape.backward(contraction(q, tape: tape))
        }
        step()
        let bytes = tape.allocatedBytes
        step()
        XCTAssertEqual(tape.allocatedBytes, bytes)
    }

    func testConfigValidatesHeads() throws {
        let ok = try ExperimentConfig.parse(
            yaml: "model: {type: aggregated, aggregator: selfAttention, latent: 2, poolingSize: 12, attentionHeads: 3}")
        XCTAssertEqual(ok.model.aggregated.attentionHeads, 3)
        XCTAssertEqual(ok.model.aggregated.attentionBlocks, 2)
        for (yaml, key) in [
            ("poolingSize: 10, attentionHeads: 4", "model.attentionHeads"), ("attentionHeads: 0", "model.attentionHeads"),
            ("attentionBlocks: 0", "model.attentionBlocks"),
        ] {
            XCTAssertThrowsError(
                try ExperimentConfig.parse(yaml: "model: {type: aggregated, aggregator: selfAttention, latent: 2, \(yaml)}")
            ) { error in
                guard case let ConfigError.invalidValue(k, message) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(k, key, yaml)
                if yaml.hasPrefix("poolingSize") { XCTAssertTrue(message.contains("divisible"), message) }
            }
        }
    }

    /// One variant also has private latents (they sit beside the aggregator, so any aggregator takes them).
    func testTrainsUnderTheMaskedAndMixtureBounds() throws {
        // Three modalities x_s = z W_s + noise from a 2-d latent; a fifth of the rows miss one modality.
        let n = 400
        let z = Matrix.randomNormal(rows: n, cols: 2, seed: 1)
        let views = [5, 4, 3].enumerated().map { s, d in
            z * Matrix.randomNormal(rows: 2, cols: d, seed: 10 + UInt64(s))
                + Matrix.randomNormal(rows: n, cols: d, seed: 20 + UInt64(s), scale: 0.3)
        }
        var rng = RandomStream(seed: 5)
        var observed = [UInt8](repeating: 1, count: n * 3)
        for r in 0..<n where rng.nextUniform() < 0.2 { observed[r * 3 + rng.nextInt(below: 3)] = 0 }
        let data = try MultiViewDataset(views: views.map { ViewSource.matrix($0) }, mask: try ViewMask(rows: n, views: 3, values: observed))
        for (bound, components, privateLatent) in [("masked", 1, 0), ("masked", 3, 2), ("mixture", 3, 0)] {
            let config = try ExperimentConfig.parse(
                yaml: """
                    seed: 2
                    data: {source: npy, views: [a.npy, b.npy, c.npy]}
                    model: {type: aggregated, aggregator: selfAttention, bound: \(bound), mixtureComponents: \(components),
                            privateLatent: \(privateLatent), latent: 2,
                            encoderHidden: [16], featureSize: 8, poolingSize: 8, attentionHeads: 2, attentionBlocks: 2,
                            aggregatorHidden: [8], decoderHidden: [16], likelihood: gaussian}
                    training: {epochs: 4, batchSize: 40, learningRate: 0.01, validate: false}
                    """)
            let model = AggregatedVAE(config: config.model, dimensions: data.dimensions, seed: 2)
            XCTAssertTrue(model.aggregator is SelfAttention)
            let trainer = try Trainer(config: config, model: model, train: DataSubset.all(data), validation: nil, comm: LocalCommunicator())
            var losses: [Double] = []
            trainer.observer = { if case let .epochFinished(s) = $0 { losses.append(s.trainLoss) } }
            XCTAssertEqual(try trainer.run(), .completed)
            XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(bound) \(components) \(privateLatent)")
            XCTAssertLessThan(losses.last!, losses.first! - 1, "\(bound) \(components) \(privateLatent): \(losses)")
        }
    }
}
