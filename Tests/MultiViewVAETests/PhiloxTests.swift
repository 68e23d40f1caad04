import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class PhiloxTests: XCTestCase {
    private func words(_ c: Philox4x32.Counter) -> [UInt32] { [c.0, c.1, c.2, c.3] }

    /// Known-answer vectors for philox4x32_10 from Random123's kat_vectors file
    /// (format there: counter[4] key[2] → output[4]).
    func testKnownAnswerVectors() {
        let cases: [(counter: Philox4x32.Counter, key: Philox4x32.Key, expected: [UInt32])] = [
            (
                (0, 0, 0, 0), (0, 0),
                [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8]
            ),
            (
                (0xffff_ffff, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff), (0xffff_ffff, 0xffff_ffff),
                [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd]
            ),
            (
                (0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344), (0xa409_3822, 0x299f_31d0),
                [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1]
            ),
        ]
        for (i, c) in cases.enumerated() {
            let got = words(Philox4x32.block(counter: c.counter, key: c.key))
            XCTAssertEqual(got, c.expected, "KAT vector \(i): got \(got.map { String($0, radix: 16) })")
        }
    }

    /// Stream layout: seed 0, stream 0, block 0 is the all-zero counter and key.
    func testStreamStartsAtCounterZero() {
        var rng = RandomStream(seed: 0, stream: 0)
        let first = (0..<4).map { _ in rng.nextUInt32() }
        XCTAssertEqual(first, [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8])
    }

    func testUniformEndpointsAreExcluded() {
        // The extreme raw words must still map strictly inside (0, 1).
        for w: UInt32 in [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_fe00, 0xffff_ffff] {
            let u = RandomStream.openUnitInterval(w)
            XCTAssertGreaterThan(u, 0, "word \(String(w, radix: 16))")
            XCTAssertLessThan(u, 1, "word \(String(w, radix: 16))")
        }
    }

    func testUniformMoments() {
        // 100k draws: the standard error of the mean is √(1/12/1e5) ≈ 9e-4; allow 5e-3 (> 5σ).
        var rng = RandomStream(seed: 42, stream: 7)
        let n = 100_000
        var sum = 0.0, sumSq = 0.0
        for _ in 0..<n {
            let u = rng.nextUniform()
            XCTAssert(u > 0 && u < 1)
            sum += Double(u); sumSq += Double(u) * Double(u)
        }
        let mean = sum / Double(n)
        XCTAssertEqual(mean, 0.5, accuracy: 5e-3)
        XCTAssertEqual(sumSq / Double(n) - mean * mean, 1.0 / 12, accuracy: 3e-3)
    }

    func testNormalMoments() {
        // 100k draws: standard errors are 1/√n ≈ 3.2e-3 for the mean and √(2/n) ≈ 4.5e-3 for the
        // variance; tolerances 0.015 and 0.025 are about 5σ.
        var rng = RandomStream(seed: 42, stream: 8)
        let n = 100_000
        var sum = 0.0, sumSq = 0.0
        for _ in 0..<n {
            let z = Double(rng.nextNormal())
            XCTAssert(z.isFinite)
            sum += z; sumSq += z * z
        }
        let mean = sum / Double(n)
        XCTAssertEqual(mean, 0, accuracy: 0.015)
        XCTAssertEqual(sumSq / Double(n) - mean * mean, 1, accuracy: 0.025)
    }

    func testPermutationIsAPermutation() {
        var rng = RandomStream(seed: 3, stream: 1)
        for n in [0, 1, 2, 7, 100] {
            let p = rng.permutation(n)
            XCTAssertEqual(p.sorted(), Array(0..<n), "permutation(\(n))")
        }
        // A 100-element shuffle that left everything in place would mean the shuffle did nothing.
        XCTAssertNotEqual(rng.permutation(100), Array(0..<100))
    }

    func testNextIntStaysInRange() {
        var rng = RandomStream(seed: 4)
        var seen = Set<Int>()
        for _ in 0..<1_000 {
            let k = rng.nextInt(below: 5)
            XCTAssert((0..<5).contains(k))
            seen.insert(k)
        }
        XCTAssertEqual(seen, Set(0..<5))
    }

    private func draws(seed: UInt64, stream: UInt64, count: Int = 16) -> [UInt32] {
        var rng = RandomStream(seed: seed, stream: stream)
        return (0..<count).map { _ in rng.nextUInt32() }
    }

    func testStreamsDifferAndReproduce() {
        XCTAssertEqual(draws(seed: 9, stream: 5), draws(seed: 9, stream: 5), "same (seed, stream) reproduces")
        XCTAssertNotEqual(draws(seed: 9, stream: 5), draws(seed: 9, stream: 6), "different streams differ")
        XCTAssertNotEqual(draws(seed: 9, stream: 5), draws(seed: 10, stream: 5), "different seeds differ")
        // Streams whose ids differ only in the high 32 bits must differ too (they fill counter words 2–3).
        XCTAssertNotEqual(draws(seed: 9, stream: 1), draws(seed: 9, stream: 1 | (1 << 32)))
        XCTAssertEqual(
            Matrix.randomNormal(rows: 3, cols: 3, seed: 1, stream: 2),
            Matrix.randomNormal(rows: 3, cols: 3, seed: 1, stream: 2))
    }
}
