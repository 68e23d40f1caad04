import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVModels
@testable import MVTraining

/// The categorical likelihood (`model.likelihood: categorical`, `model.categories` classes per token):
/// −log p against a direct computation, its gradient, per-token probabilities, a label view that is
/// learnt, and the inputs and configs it refuses.
final class CategoricalLikelihoodTests: XCTestCase {
    /// −Σ_tokens log softmax(o_token)_class in Double.
    func reference(_ o: Matrix, _ x: Matrix, classes: Int) -> [Double] {
        (0..<o.rows).map { r in
            var s = 0.0
            for start in stride(from: 0, to: o.cols, by: classes) {
                let logits = (start..<(start + classes)).map { Double(o[r, $0]) }
                let m = logits.max()!, lse = m + Foundation.log(logits.map { Foundation.exp($0 - m) }.reduce(0, +))
                for (i, j) in (start..<(start + classes)).enumerated() { s -= Double(x[r, j]) * (logits[i] - lse) }
            }
            return s
        }
    }

    /// One-hot tokens: row r, token t gets class (r + 2t) mod classes.
    func oneHot(rows: Int, tokens: Int, classes: Int) -> Matrix {
        var x = Matrix(rows: rows, cols: tokens * classes)
        for r in 0..<rows { for t in 0..<tokens { x[r, t * classes + (r + 2 * t) % classes] = 1 } }
        return x
    }

    func testNegativeLogLikelihoodMatchesADirectComputation() {
        for (tokens, classes) in [(1, 5), (3, 4)] {
            let arena = ParameterArena()
            let likelihood = Likelihood(
                "y", kind: .categorical, features: tokens * classes, fixedLogScale: nil, categories: tokens == 1 ? 0 : classes,
                arena: arena)
            arena.materialize(seed: 1)
            let o = Matrix.randomNormal(rows: 6, cols: tokens * classes, seed: 3, scale: 2),
                x = oneHot(rows: 6, tokens: tokens, classes: classes)
            let tape = Tape()
            let nll = tape.value(
                likelihood.negativeLogLikelihood(output: tape.constant(o), target: tape.constant(x), tape: tape, arena: arena))
            for (r, expected) in reference(o, x, classes: classes).enumerated() {
                XCTAssertEqual(Double(nll.storage[r]), expected, accuracy: 1e-4 * max(1, expected))
            }
            let p = tape.value(likelihood.mean(output: tape.constant(o), tape: tape))
            for r in 0..<6 {
                for t in 0..<tokens {
                    let total = (0..<classes).reduce(Float(0)) { $0 + p[r, t * classes + $1] }
                    XCTAssertEqual(total, 1, accuracy: 1e-5)
                }
            }
            // The gradient with respect to the decoder's output (a wrong VJP of any piece fails).
            GradientCheck([o, x], constants: [1]).run("categorical nll, \(tokens) token(s)") { t, v in
                likelihood.negativeLogLikelihood(output: v[0], target: v[1], tape: t, arena: arena)
            }
        }
    }

    func testConfigsAndDataThatCannotWorkAreRefused() throws {
        func parse(_ model: String) throws -> ExperimentConfig {
            try ExperimentConfig.parse(yaml: "data: {source: npy, views: [a.npy, b.npy]}\nmodel: \(model)\ntraining: {epochs: 1}")
        }
        XCTAssertThrowsError(try parse("{type: aggregated, likelihood: [gaussian, categorical], categories: 1}")) {
            XCTAssertTrue("\($0)".contains("model.categories"), "\($0)")
        }
        XCTAssertThrowsError(try parse("{type: aggregated, likelihood: gaussian, categories: 4}")) {
            XCTAssertTrue("\($0)".contains("categorical"), "\($0)")
        }
        let cfg = try parse("{type: aggregated, likelihood: [gaussian, categorical], categories: 4}")
        XCTAssertThrowsError(try ModelRegistry.makeModel(cfg, dimensions: [3, 10])) {
            XCTAssertTrue("\($0)".contains("view 2 has 10 features"), "\($0)")
        }
        // A view whose tokens are not one-hot.
        var y = oneHot(rows: 5, tokens: 2, classes: 4)
        y[3, 6] = 1
        let dataset = try MultiViewDataset(
            views: [.matrix(Matrix.randomNormal(rows: 5, cols: 3, seed: 1)), .matrix(y)], names: ["view1", "view2"])
        XCTAssertThrowsError(
            try ExperimentData.check(dataset, likelihoods: { $0 == 1 ? .categorical : .gaussian }, categories: 4)
        ) { error in
            XCTAssertTrue("\(error)".contains("row 3") && "\(error)".contains("columns 4…7"), "\(error)")
        }
        let good = try MultiViewDataset(
            views: [.matrix(Matrix.randomNormal(rows: 5, cols: 3, seed: 1)), .matrix(oneHot(rows: 5, tokens: 2, classes: 4))],
            names: ["view1", "view2"])
        XCTAssertNoThrow(try ExperimentData.check(good, likelihoods: { $0 == 1 ? .categorical : .gaussian }, categories: 4))
    }

    /// A PoE over a real-valued view and a label view (3 classes): the loss falls, and the label decoded
    /// from the real-valued view alone is right well above chance.
    func testALabelViewIsLearnt() throws {
        let cfg = try ExperimentConfig.parse(
            yaml: """
                seed: 4
                data: {source: npy, views: [a.npy, b.npy]}
                model: {type: aggregated, aggregator: poe, bound: masked, latent: 2, encoderHidden: [16], featureSize: 8,
                        decoderHidden: [16], likelihood: [gaussian, categorical]}
                training: {epochs: 1, batchSize: 30}
                """)
        let model = try XCTUnwrap(try ModelRegistry.makeModel(cfg, dimensions: [4, 3]) as? AggregatedVAE)
        let centers: [[Float]] = [[2, 0, 0, 1], [0, 2, 0, -1], [0, 0, 2, 0]]
        func fill(_ batch: Batch, step: Int) -> [Int] {
            var rng = RandomStream(seed: 3, stream: UInt64(step), block: 0)
            var labels: [Int] = []
            for r in 0..<30 {
                let c = min(Int(rng.nextUniform() * 3), 2)
                labels.append(c)
                batch.indices[r] = step * 30 + r
                for j in 0..<4 { batch.views[0][r * 4 + j] = centers[c][j] + 0.3 * (rng.nextUniform() - 0.5) }
                for j in 0..<3 { batch.views[1][r * 3 + j] = j == c ? 1 : 0 }
            }
            batch.setRows(30, epoch: 0)
            return labels
        }
        let batch = Batch(dimensions: [4, 3], capacity: 30, hasMask: false)
        let adam = Adam(count: model.arena.count, learningRate: 0.01)
        let tape = Tape()
        var losses: [Float] = []
        for step in 0..<300 {
            _ = fill(batch, step: step)
            tape.reset()
            model.arena.zeroGradients()
            let loss = tape.scale(try model.loss(batch, tape: tape, beta: 1, seed: 2).total, 1.0 / 30)
            tape.backward(loss)
            adam.update(model.arena)
            losses.append(tape.item(loss))
        }
        XCTAssertLessThan(losses.suffix(20).reduce(0, +) / 20, losses.prefix(20).reduce(0, +) / 20 - 1)
        // Decode the label from view 1 alone: q(z | x₁)'s mean through decoder 2.
        let labels = fill(batch, step: 1000)
        tape.reset()
        let x1 = tape.constant(Matrix(rows: 30, cols: 4, Array(UnsafeBufferPointer(start: batch.views[0], count: 120))))
        let h = model.features([x1, tape.constant(Matrix(rows: 30, cols: 3))], tape: tape)
        let only = tape.constant(Matrix(rows: 30, cols: 2, (0..<30).flatMap { _ in [Float(1), 0] }))
        let q = model.aggregator.distribution(features: h, mask: only, tape: tape, arena: model.arena)
        let p = tape.value(
            model.likelihoods[1].mean(output: model.decoders[1](q.gaussian.mean, tape: tape, arena: model.arena), tape: tape))
        let right = (0..<30).filter { r in (0..<3).max(by: { p[r, $0] < p[r, $1] }) == labels[r] }.count
        XCTAssertGreaterThan(right, 24, "labels decoded from view 1: \(right) of 30 right")
    }
}
