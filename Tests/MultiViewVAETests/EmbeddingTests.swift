import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// `mvvae encode`'s one code path (EmbeddingModel): for each family the embedding equals the model's own
/// encoder on the same rows, does not depend on the chunking, and CoVAE's missing-view part matches
/// Monte Carlo draws through the prior conditional.
final class EmbeddingTests: XCTestCase {
    static let threeViews =
        "data: {source: linear-gaussian, modalities: 3, latentDimension: 2, dimensions: [5, 6, 7], samples: 120, dataSeed: 3, "
        + "noiseVariance: 0.1}"
    static let twoViews =
        "data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [5, 6], samples: 120, dataSeed: 3, "
        + "noiseVariance: 0.1}"
    static func yaml(_ model: String, data: String = threeViews) -> String {
        "name: embed\nseed: 4\n\(data)\nmodel: {\(model), encoderHidden: [8], decoderHidden: [8], likelihood: "
            + "gaussian}\ntraining: {batchSize: 20, validate: false}\n"
    }

    func views(_ data: ExperimentData, _ ks: [Int]) -> [Int: Matrix] {
        Dictionary(uniqueKeysWithValues: ks.map { ($0, data.test.matrix(view: $0)) })
    }

    func assertClose(
        _ a: Matrix, _ b: Matrix, _ tolerance: Float = 1e-5, _ what: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(a.rows, b.rows, what, file: file, line: line)
        XCTAssertEqual(a.cols, b.cols, what, file: file, line: line)
        let worst = zip(a.storage, b.storage).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, tolerance, what, file: file, line: line)
    }

    func testJPVAEGivesEachGivenViewsEncoder() throws {
        let run = try ModelRun<JPVAE>(yaml: Self.yaml("type: jpvae, latent: [2, 3]", data: Self.twoViews))
        let e = try run.model.embed(views(run.data, [0, 1]), seed: 1, chunk: 7)
        XCTAssertEqual(e.columns, ["view1.z1", "view1.z2", "view2.z1", "view2.z2", "view2.z3"])
        XCTAssertNil(e.draw)
        let tape = Tape()
        for (offset, k) in [(0, 0), (2, 1)] {
            let q = run.model.views[k].encode(tape.constant(run.data.test.matrix(view: k)), tape: tape, arena: run.model.arena)
            let mean = tape.value(q.mean), logVar = tape.value(q.logVar)
            for r in 0..<mean.rows {
                for j in 0..<mean.cols {
                    XCTAssertEqual(e.mean[r, offset + j], mean[r, j], accuracy: 1e-5)
                    XCTAssertEqual(e.logVariance![r, offset + j], logVar[r, j], accuracy: 1e-5)
                }
            }
        }
    }

    func testAggregatedMasksTheViewsNotGiven() throws {
        let run = try ModelRun<AggregatedVAE>(yaml: Self.yaml("type: aggregated, aggregator: poe, latent: 3"))
        let x = views(run.data, [1])
        let e = try run.model.embed(x, seed: 1, chunk: 5)
        XCTAssertEqual(e.columns, ["z1", "z2", "z3"])
        // The same posterior as the aggregator's with views 1 and 3 masked, whatever their inputs.
        let tape = Tape(), n = x[1]!.rows
        let inputs = [Matrix.randomNormal(rows: n, cols: 5, seed: 2), x[1]!, Matrix.randomNormal(rows: n, cols: 7, seed: 3)].map {
            tape.constant($0)
        }
        let mask = Matrix(rows: n, cols: 3, (0..<n).flatMap { _ in [Float(0), 1, 0] })
        let q = run.model.aggregator.distribution(
            features: run.model.features(inputs, tape: tape), mask: tape.constant(mask), tape: tape, arena: run.model.arena)
        assertClose(e.mean, tape.value(q.gaussian.mean), 1e-5, "mean")
        assertClose(e.logVariance!, tape.value(q.gaussian.logVar), 1e-5, "log-variance")
    }

    func testMixtureDrawsDoNotDependOnTheChunking() throws {
        let run = try ModelRun<AggregatedVAE>(yaml: Self.yaml("type: aggregated, aggregator: moe, latent: 3, privateLatent: 2"))
        let x = views(run.data, [0, 2])
        let a = try run.model.embed(x, seed: 9, chunk: 4), b = try run.model.embed(x, seed: 9, chunk: 1000)
        XCTAssertNil(a.logVariance)
        XCTAssertEqual(a.columns, ["z1", "z2", "z3", "view1.private1", "view1.private2", "view3.private1", "view3.private2"])
        assertClose(a.mean, b.mean, 1e-5, "means")
        assertClose(try XCTUnwrap(a.draw), try XCTUnwrap(b.draw), 1e-5, "draws")
        XCTAssertGreaterThan(zip(a.draw!.storage, a.mean.storage).map { abs($0 - $1) }.max()!, 0.01, "a draw is not the mean")
    }

    func testCoVAEMissingViewsFollowThePriorConditional() throws {
        let run = try ModelRun<CoVAE>(yaml: Self.yaml("type: covae, latent: 2, jointHidden: [8]"))
        let prior = try XCTUnwrap(run.model.blockPrior)
        run.model.arena.setValue(prior.factor, Matrix.randomNormal(rows: 1, cols: prior.factor.count, seed: 5, scale: 0.8))
        // All views: the joint encoder's mean and the diagonal of its covariance.
        let all = try run.model.embed(views(run.data, [0, 1, 2]), seed: 1, chunk: 9)
        let tape = Tape()
        let joint = run.model.encodeJoint(
            concatenated: tape.constant(.sideBySide((0..<3).map { run.data.test.matrix(view: $0) })), tape: tape)
        assertClose(all.mean, tape.value(joint.mean), 1e-5, "joint mean")
        let sigma = tape.value(joint.covariance(tape: tape))
        for r in [0, 7] { for i in 0..<6 { XCTAssertEqual(all.logVariance![r, i], Foundation.log(sigma[r, i * 6 + i]), accuracy: 1e-4) } }
        // View 2 given: z_2 from its encoder; z_1, z_3 against Monte Carlo through z_M = R z_O + F ε.
        let e = try run.model.embed(views(run.data, [1]), seed: 1, chunk: 6)
        XCTAssertEqual(e.columns.count, 6)
        let q = run.model.encode(1, tape.constant(run.data.test.matrix(view: 1)), tape: tape)
        let mu = tape.value(q.mean), lv = tape.value(q.logVar)
        let (regression, factor, missing) = try CoVAEInference(model: run.model, seed: 1).conditional(observed: [1])
        XCTAssertEqual(missing, [0, 2])
        let row = 3, draws = 40_000
        var rng = RandomStream(seed: 77)
        var sum = [Double](repeating: 0, count: 4), squares = sum
        for _ in 0..<draws {
            let zo = (0..<2).map { mu[row, $0] + Foundation.exp(0.5 * lv[row, $0]) * rng.nextNormal() }
            let eps = (0..<4).map { _ in rng.nextNormal() }
            for i in 0..<4 {
                var z: Float = 0
                for c in 0..<2 { z += regression[i, c] * zo[c] }
                for j in 0..<4 { z += factor[i, j] * eps[j] }
                sum[i] += Double(z); squares[i] += Double(z * z)
            }
        }
        for (i, col) in [0, 1, 4, 5].enumerated() {
            let m = sum[i] / Double(draws), v = squares[i] / Double(draws) - m * m
            XCTAssertEqual(Double(e.mean[row, col]), m, accuracy: 4 * (v / Double(draws)).squareRoot(), "mean of coordinate \(col)")
            XCTAssertEqual(
                Double(Foundation.exp(e.logVariance![row, col])), v, accuracy: 4 * v * (2 / Double(draws)).squareRoot(),
                "variance of coordinate \(col)")
        }
        for j in 0..<2 {
            XCTAssertEqual(e.mean[row, 2 + j], mu[row, j], accuracy: 1e-5)
            XCTAssertEqual(e.logVariance![row, 2 + j], lv[row, j], accuracy: 1e-5)
        }
    }

    func testBadInputIsNamed() throws {
        let run = try ModelRun<JPVAE>(yaml: Self.yaml("type: jpvae, latent: [2, 3]", data: Self.twoViews))
        func message(_ x: [Int: Matrix]) -> String {
            do { _ = try run.model.embed(x, seed: 1); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(message([:]), "give at least one view to encode")
        XCTAssertEqual(message([0: Matrix(rows: 4, cols: 6)]), "view 1 has 6 features; this model's view 1 has 5")
        XCTAssertEqual(message([3: Matrix(rows: 4, cols: 5)]), "view 4 does not exist: this model has views 1…2")
        XCTAssertEqual(
            message([0: Matrix(rows: 4, cols: 5), 1: Matrix(rows: 3, cols: 6)]),
            "the views to encode have different numbers of rows: view 1: 4, view 2: 3")
    }
}
