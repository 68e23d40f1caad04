import Foundation
import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVModels

/// The Poisson, negative-binomial and zero-inflated NB likelihoods with mean ℓ·softmax(logits)
/// (`countNegativeLogLikelihood`): their values equal scipy.stats' log-pmfs on a grid, their VJPs pass finite
/// differences (logits, log θ, the zero logits ρ), a row of zeros scores 0 with no gradient, and ψ equals known values.
final class CountLikelihoodTests: XCTestCase {
    /// scipy.stats' log-pmfs of the grid (Tests/python/count_densities.py).
    func scipy(x: [Double], mu: [Double], theta: [Double], pi: [Double] = []) throws -> [Double] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("python/count_densities.py").path
        let process = Process(), input = Pipe(), output = Pipe(), err = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script]
        (process.standardInput, process.standardOutput, process.standardError) = (input, output, err)
        try process.run()
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: ["x": x, "mu": mu, "theta": theta, "pi": pi]))
        input.fileHandleForWriting.closeFile()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "count_densities.py: \(message) (python3 needs scipy: run launch/setup)")
        }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [Double])
    }
    struct Failure: Error, CustomStringConvertible { let description: String }

    /// Rows of counts (one all zero), logits and log θ for the checks.
    let counts = Matrix(rows: 4, cols: 3, [0, 3, 1, 7, 0, 2, 0, 0, 0, 12, 5, 30])
    let logits = Matrix(rows: 4, cols: 3, [0.3, -0.2, 0.8, 1.1, -0.5, 0.1, 0.4, 0.2, -0.3, -1.0, 0.6, 0.9])
    let logTheta = Matrix(rows: 1, cols: 3, [-0.4, 0.7, 1.6])
    /// ρ: π from 0.12 to 0.8 (and one far out, where log π and log(1 − π) need care).
    let rho = Matrix(rows: 1, cols: 3, [-2, 1.4, 0.3])

    func testValuesEqualScipy() throws {
        for (negativeBinomial, inflated) in [(false, false), (true, false), (true, true)] {
            let tape = Tape()
            let y = tape.value(
                tape.countNegativeLogLikelihood(
                    tape.constant(counts), logits: tape.variable(logits), logDispersion: negativeBinomial ? tape.variable(logTheta) : nil,
                    zeroLogits: inflated ? tape.variable(rho) : nil))
            var x: [Double] = [], mu: [Double] = [], theta: [Double] = [], pi: [Double] = []
            for r in 0..<4 {
                let library = (0..<3).reduce(0.0) { $0 + Double(counts[r, $1]) }
                let z = (0..<3).reduce(0.0) { $0 + exp(Double(logits[r, $1])) }
                for j in 0..<3 where library > 0 {
                    x.append(Double(counts[r, j]))
                    mu.append(library * exp(Double(logits[r, j])) / z)
                    if negativeBinomial { theta.append(exp(Double(logTheta[0, j]))) }
                    if inflated { pi.append(1 / (1 + exp(-Double(rho[0, j])))) }
                }
            }
            let reference = try scipy(x: x, mu: mu, theta: theta, pi: pi)
            var q = 0
            for r in 0..<4 {
                let library = (0..<3).reduce(0.0) { $0 + Double(counts[r, $1]) }
                guard library > 0 else {
                    XCTAssertEqual(y[r, 0], 0, "a row of zeros")
                    continue
                }
                let expected = -(reference[q] + reference[q + 1] + reference[q + 2])
                q += 3
                XCTAssertEqual(
                    Double(y[r, 0]), expected, accuracy: 1e-4 * max(1, abs(expected)), "row \(r), NB \(negativeBinomial), ZI \(inflated)")
            }
        }
    }

    func testGradients() {
        GradientCheck([counts, logits], constants: [0]).run("poisson") { t, v in
            t.countNegativeLogLikelihood(v[0], logits: v[1], logDispersion: nil)
        }
        GradientCheck([counts, logits, logTheta], constants: [0]).run("negativeBinomial") { t, v in
            t.countNegativeLogLikelihood(v[0], logits: v[1], logDispersion: v[2])
        }
        GradientCheck([counts, logits, logTheta, rho], constants: [0]).run("zeroInflatedNegativeBinomial") { t, v in
            t.countNegativeLogLikelihood(v[0], logits: v[1], logDispersion: v[2], zeroLogits: v[3])
        }
    }

    /// Far-out zero logits (π within 1e-9 of 0 or 1) keep the value finite and equal to its limits.
    func testZeroInflationLimits() {
        let tape = Tape(), x = tape.constant(counts), o = tape.constant(logits), d = tape.constant(logTheta)
        let plain = tape.value(tape.countNegativeLogLikelihood(x, logits: o, logDispersion: d))
        let none = tape.value(
            tape.countNegativeLogLikelihood(
                x, logits: o, logDispersion: d, zeroLogits: tape.constant(Matrix(rows: 1, cols: 3, repeating: -40))))
        let all = tape.value(
            tape.countNegativeLogLikelihood(
                x, logits: o, logDispersion: d, zeroLogits: tape.constant(Matrix(rows: 1, cols: 3, repeating: 40))))
        for r in 0..<4 {
            XCTAssertEqual(none[r, 0], plain[r, 0], accuracy: 1e-4, "π → 0 is the negative binomial")
            XCTAssertTrue(all[r, 0].isFinite)
        }
        // π → 1: every non-zero count costs −log(1 − π) ≈ 40 nats on top of its NB term; a zero costs nothing.
        XCTAssertEqual(all[3, 0], 3 * 40 + plain[3, 0], accuracy: 1e-3 * all[3, 0], "row 3: three non-zero counts")
        XCTAssertGreaterThan(all[0, 0], 80)
        XCTAssertLessThan(all[0, 0], 80 + plain[0, 0], "row 0: its zero's NB term is gone")
    }

    func testDigamma() {
        // ψ(1) = −γ, ψ(1/2) = −γ − 2 log 2, ψ(10) = H_9 − γ.
        let gamma = 0.5772156649015329
        XCTAssertEqual(digamma(1), -gamma, accuracy: 1e-12)
        XCTAssertEqual(digamma(0.5), -gamma - 2 * log(2.0), accuracy: 1e-12)
        XCTAssertEqual(digamma(10), (1...9).reduce(0.0) { $0 + 1 / Double($1) } - gamma, accuracy: 1e-12)
    }

    /// The likelihood of a view: NB registers a per-feature log θ; both give shares as the mean.
    func testLikelihoodWiring() {
        let arena = ParameterArena()
        let nb = Likelihood("v", kind: .negativeBinomial, features: 3, fixedLogScale: nil, arena: arena)
        let poisson = Likelihood("w", kind: .poisson, features: 3, fixedLogScale: nil, arena: arena)
        XCTAssertNotNil(nb.logDispersion)
        XCTAssertNil(poisson.logDispersion)
        arena.materialize(seed: 1)
        let tape = Tape()
        let shares = tape.value(poisson.mean(output: tape.constant(logits), tape: tape))
        for r in 0..<4 { XCTAssertEqual((0..<3).reduce(0) { $0 + shares[r, $1] }, 1, accuracy: 1e-6) }
        // Expected counts: the shares times each row's observed total (reconstruction errors are in counts).
        let expected = poisson.expectedCounts(shares, given: counts)
        for r in 0..<4 {
            let total = (0..<3).reduce(Float(0)) { $0 + counts[r, $1] }
            for j in 0..<3 { XCTAssertEqual(expected[r, j], shares[r, j] * total, accuracy: 1e-5) }
        }
        XCTAssertEqual(
            tape.shape(nb.negativeLogLikelihood(output: tape.variable(logits), target: tape.constant(counts), tape: tape, arena: arena))
                .cols, 1)
    }
}
