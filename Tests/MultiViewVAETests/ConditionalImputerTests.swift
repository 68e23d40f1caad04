import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// `mvvae impute`'s one path (ConditionalImputer) for every family: shapes, the predictive score equal to a
/// direct computation from the written draws, draws that do not depend on how the rows are split, and
/// a spread that is really there.
final class ConditionalImputerTests: XCTestCase {
    static let threeViews =
        "data: {source: linear-gaussian, modalities: 3, latentDimension: 2, dimensions: [5, 6, 7], samples: 120, dataSeed: 3, "
        + "noiseVariance: 0.1}"
    static let twoViews =
        "data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [5, 6], samples: 120, dataSeed: 3, "
        + "noiseVariance: 0.1}"
    /// Gaussian decoders with a fixed σ = e^{-0.5}, so the test can write the density down.
    static let logScale: Float = -0.5
    static func yaml(_ model: String, data: String = threeViews) -> String {
        "name: impute\nseed: 4\n\(data)\nmodel: {\(model), encoderHidden: [8], decoderHidden: [8], likelihood: gaussian, "
            + "fixedLogScale: \(logScale)}\ntraining: {batchSize: 20, validate: false}\nevaluation: {imputation: priorSamples}\n"
    }

    /// −log of (1/N) Σ_d Π_f N(x_f; m_df, σ²), per row, from the draws' means alone.
    func directScore(draws: [Matrix], truth: Matrix) -> [Double] {
        let logVar = 2 * Double(Self.logScale)
        return (0..<truth.rows).map { r in
            let logs = draws.map { m in
                (0..<truth.cols).reduce(0.0) { acc, f in
                    let e = Double(truth[r, f] - m[r, f])
                    return acc - 0.5 * (Foundation.log(2 * Double.pi) + logVar + e * e / Foundation.exp(logVar))
                }
            }
            let top = logs.max()!
            return -(top + Foundation.log(logs.map { Foundation.exp($0 - top) }.reduce(0, +) / Double(logs.count)))
        }
    }

    func check(_ imputer: ConditionalImputer, data: ExperimentData, given: [Int], file: StaticString = #filePath, line: UInt = #line) throws
    {
        let rows = data.test.count, k = imputer.viewDimensions.count
        let observed = Dictionary(uniqueKeysWithValues: given.map { ($0, data.test.matrix(view: $0)) })
        let missing = (0..<k).filter { !given.contains($0) }
        let truth = Dictionary(uniqueKeysWithValues: missing.map { ($0, data.test.matrix(view: $0)) })
        let all = try imputer.impute(observed: observed, samples: 5, seed: 8, truth: truth)
        XCTAssertEqual(all.map(\.modality), missing, file: file, line: line)
        for r in all {
            let cols = imputer.viewDimensions[r.modality]
            XCTAssertEqual(
                [r.mean.rows, r.mean.cols, r.deviation.rows, r.deviation.cols, r.draws.count], [rows, cols, rows, cols, 5], file: file,
                line: line)
            XCTAssertTrue(r.draws.allSatisfy { $0.rows == rows && $0.cols == cols }, file: file, line: line)
            let direct = directScore(draws: r.draws, truth: truth[r.modality]!)
            let scores = try XCTUnwrap(r.predictiveNLL, file: file, line: line)
            for i in 0..<rows {
                XCTAssertEqual(scores[i], direct[i], accuracy: 1e-3 * Swift.max(1, abs(direct[i])), "row \(i)", file: file, line: line)
            }
            XCTAssertGreaterThan(r.deviation.storage.max()!, 1e-4, "the draws differ", file: file, line: line)
        }
        // Rows split in two calls (positions carried by firstRow) give the same draws.
        let half = rows / 2
        let head = try imputer.impute(observed: observed.mapValues { $0.rows(0..<half) }, samples: 5, seed: 8)
        let tail = try imputer.impute(observed: observed.mapValues { $0.rows(half..<rows) }, samples: 5, seed: 8, firstRow: half)
        for (i, r) in all.enumerated() {
            for d in 0..<5 {
                let joined = head[i].draws[d].storage + tail[i].draws[d].storage
                XCTAssertEqual(
                    zip(joined, r.draws[d].storage).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-5, "draw \(d)", file: file, line: line)
            }
        }
    }

    func testJPVAE() throws {
        let run = try ModelRun<JPVAE>(yaml: Self.yaml("type: jpvae, latent: [2, 3], prior: {cross: bounded}", data: Self.twoViews))
        let conditional = LatentConditional(prior: try run.model.prior.value(arena: run.model.arena))
        let imputer = JPVAEImputer(model: run.model, conditional: conditional)
        try check(imputer, data: run.data, given: [0])
        try check(imputer, data: run.data, given: [1])
        XCTAssertThrowsError(try imputer.impute(observed: [:], samples: 2, seed: 1)) {
            XCTAssertTrue("\($0)".contains("some of the 2 views observed"), "\($0)")
        }
    }

    func testAggregatedGaussianAndMixture() throws {
        for aggregator in ["poe", "moe"] {
            let run = try ModelRun<AggregatedVAE>(
                yaml: Self.yaml("type: aggregated, aggregator: \(aggregator), latent: 3, privateLatent: 1"))
            try check(run.model, data: run.data, given: [1])
            try check(run.model, data: run.data, given: [0, 2])
        }
    }

    func testCoVAE() throws {
        let run = try ModelRun<CoVAE>(yaml: Self.yaml("type: covae, latent: 2, jointHidden: [8]"))
        let prior = try XCTUnwrap(run.model.blockPrior)
        run.model.arena.setValue(prior.factor, Matrix.randomNormal(rows: 1, cols: prior.factor.count, seed: 5, scale: 0.8))
        try check(run.model, data: run.data, given: [2])
        try check(run.model, data: run.data, given: [0, 1])
    }

    func testBadInputIsNamed() throws {
        let run = try ModelRun<AggregatedVAE>(yaml: Self.yaml("type: aggregated, aggregator: poe, latent: 3"))
        func message(_ x: [Int: Matrix], truth: [Int: Matrix] = [:]) -> String {
            do { _ = try run.model.impute(observed: x, samples: 2, seed: 1, truth: truth); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertEqual(message([0: Matrix(rows: 4, cols: 6)]), "the observed view 1 has 6 features; the model's view 1 has 5")
        XCTAssertEqual(
            message([0: Matrix(rows: 4, cols: 5), 1: Matrix(rows: 3, cols: 6)]),
            "the observed views need the same rows: view 1: 4, view 2: 3")
        XCTAssertEqual(
            message([0: Matrix(rows: 4, cols: 5)], truth: [2: Matrix(rows: 4, cols: 6)]), "the truth of view 3 is 4×6; expected 4×7")
        XCTAssertEqual(
            message([0: Matrix(rows: 4, cols: 5), 1: Matrix(rows: 4, cols: 6), 2: Matrix(rows: 4, cols: 7)]),
            "imputation needs some of the 3 views observed and some missing; got views 1,2,3")
    }
}
