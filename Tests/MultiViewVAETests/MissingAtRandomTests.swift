import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// `data.missingRate`: views dropped completely at random, at the asked share, at least one kept per row.
final class MissingAtRandomTests: XCTestCase {
    func testDroppedShareMatchesTheRateAndEveryRowKeepsAView() throws {
        let rows = 20_000, k = 4
        let mask = try MissingAtRandom.mask(rows: rows, views: k, rate: 0.3, seed: 11, part: 0)
        let dropped = mask.values.filter { $0 == 0 }.count
        // Binomial spread of the share over 80 000 entries is ≈ 0.0016; 0.008 is five of them.
        XCTAssertEqual(Double(dropped) / Double(rows * k), 0.3, accuracy: 0.008)
        for r in 0..<rows { XCTAssertTrue((0..<k).contains { mask.isObserved(row: r, view: $0) }, "row \(r) lost every view") }
        // Missing completely at random: every view is dropped about equally often.
        for s in 0..<k { XCTAssertEqual(Double(rows - mask.observedCount(view: s)) / Double(rows), 0.3, accuracy: 0.015) }
    }

    func testTheMaskIsDeterministicPerSeedAndPart() throws {
        let a = try MissingAtRandom.mask(rows: 500, views: 4, rate: 0.3, seed: 1, part: 0)
        XCTAssertEqual(a, try MissingAtRandom.mask(rows: 500, views: 4, rate: 0.3, seed: 1, part: 0))
        XCTAssertNotEqual(a.values, try MissingAtRandom.mask(rows: 500, views: 4, rate: 0.3, seed: 2, part: 0).values)
        XCTAssertNotEqual(a.values, try MissingAtRandom.mask(rows: 500, views: 4, rate: 0.3, seed: 1, part: 1).values)
        // Row i's draws do not depend on how many rows there are.
        let longer = try MissingAtRandom.mask(rows: 800, views: 4, rate: 0.3, seed: 1, part: 0)
        XCTAssertEqual(Array(longer.values.prefix(500 * 4)), a.values)
    }

    func testTheLargestRateLeavesExactlyOneViewPerRow() throws {
        let mask = try MissingAtRandom.mask(rows: 300, views: 3, rate: MissingAtRandom.maximumRate(views: 3), seed: 4, part: 0)
        for r in 0..<300 { XCTAssertEqual((0..<3).filter { mask.isObserved(row: r, view: $0) }.count, 1) }
        XCTAssertEqual(MissingAtRandom.dropProbability(rate: 0, views: 4), 0)
    }

    func testAnExplicitMaskIsKeptAndCombined() throws {
        var values = [UInt8](repeating: 1, count: 400 * 3)
        for r in 0..<400 { values[r * 3] = 0 }  // view 0 never observed
        values[5 * 3 + 1] = 0; values[5 * 3 + 2] = 0  // row 5 observes nothing
        let explicit = try ViewMask(rows: 400, views: 3, values: values)
        let mask = try MissingAtRandom.mask(rows: 400, views: 3, rate: 0.5, seed: 3, part: 0, explicit: explicit)
        for r in 0..<400 {
            XCTAssertFalse(mask.isObserved(row: r, view: 0), "an explicitly missing view stays missing")
            if r != 5 { XCTAssertTrue(mask.isObserved(row: r, view: 1) || mask.isObserved(row: r, view: 2), "row \(r)") }
        }
        XCTAssertFalse(mask.isObserved(row: 5, view: 1) || mask.isObserved(row: 5, view: 2), "a row the data leaves empty stays empty")
    }

    func testFashionQuadrantsGetTheMaskInEverySplitAndKeepTheTruthForTest() throws {
        let config = try ExperimentConfig.parse(
            yaml: """
                seed: 2
                data: {source: fashion-mnist, imageViews: quadrants, missingRate: 0.3, validationSize: 500, trainLimit: 2000,
                       testLimit: 1000}
                model: {type: aggregated, latent: 4}
                """)
        let data = try ExperimentData(config: config.data, seed: config.seed)
        for part in [data.train, data.validation, data.test] {
            let missing = part.indices.reduce(0) { n, r in n + (0..<4).filter { !part.dataset.isObserved(row: r, view: $0) }.count }
            XCTAssertEqual(Double(missing) / Double(4 * part.count), 0.3, accuracy: 0.04)
        }
        let truth = try XCTUnwrap(data.unmaskedTest)
        XCTAssertEqual(truth.indices, data.test.indices)
        let r = try XCTUnwrap(data.test.indices.first { !data.test.dataset.isObserved(row: $0, view: 0) })
        let hidden = truth.dataset.matrix(view: 0, rows: r..<(r + 1)), shown = data.test.dataset.matrix(view: 0, rows: r..<(r + 1))
        XCTAssertTrue(shown.storage.allSatisfy { $0 == 0 }, "a dropped quadrant reads as zeros")
        XCTAssertGreaterThan(hidden.storage.reduce(0, +), 0, "its true pixels are kept for scoring")
        XCTAssertEqual(data.imageCut?.pixels.count, 4)
    }

    func testBadMissingRatesAreClearErrors() throws {
        func message(_ data: String) -> String {
            do {
                _ = try ExperimentConfig.parse(yaml: "data: {\(data)}\nmodel: {type: aggregated}")
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertTrue(message("imageViews: quadrants, missingRate: -0.1").contains("data.missingRate"), message("missingRate: -0.1"))
        XCTAssertTrue(message("imageViews: quadrants, missingRate: 1").contains("[0, 1)"))
        let tooMany = message("imageViews: quadrants, missingRate: 0.8")
        XCTAssertTrue(tooMany.contains("data.missingRate") && tooMany.contains("at most 0.75"), tooMany)
        XCTAssertTrue(message("imageViews: top-bottom, missingRate: 0.6").contains("at most 0.5"))
        XCTAssertTrue(message("missingRate: lots").contains("data.missingRate"), message("missingRate: lots"))
        XCTAssertEqual(message("imageViews: quadrants, missingRate: 0.75"), "no error")
        let draws = try? ExperimentConfig.parse(yaml: "model: {type: aggregated}\nevaluation: {importanceSamples: 0}")
        XCTAssertNil(draws)
        do {
            _ = try ExperimentConfig.parse(yaml: "model: {type: aggregated}\nevaluation: {importanceSamples: 0}")
        } catch { XCTAssertTrue("\(error)".contains("evaluation.importanceSamples"), "\(error)") }
    }
}
