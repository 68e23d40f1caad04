import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// The JPVAE joint prior: Cayley map, the three parameterisations of C, and the KL of Eq. 9.
final class JointPriorTests: XCTestCase {
    func prior(
        _ cross: PriorConfig.Cross, alpha: Float = 0.9, learnAlpha: Bool = false, negativeSigns: Int = 0,
        n1: Int, n2: Int, seed: UInt64 = 5
    ) throws -> (CrossCovariance, ParameterArena) {
        let config = try ExperimentConfig.parse(
            yaml: """
                model: {type: jpvae, prior: {cross: \(cross.rawValue), alpha: \(alpha), learnAlpha: \(learnAlpha),
                        negativeSigns: \(negativeSigns)}}
                """
        ).model.jpvae.prior
        let arena = ParameterArena()
        let c = CrossCovariance(config: config, n1: n1, n2: n2, arena: arena)
        arena.materialize(seed: 0)
        randomize(arena, seed: seed)
        return (c, arena)
    }

    func testCayleyMapIsOrthogonal() throws {
        for (m, signs) in [(1, 0), (2, 1), (5, 0), (6, 2)] {
            let arena = ParameterArena()
            let o = CayleyOrthogonal("o", order: m, negativeSigns: signs, arena: arena)
            arena.materialize(seed: 0)
            randomize(arena, seed: UInt64(m), scale: 1.5)
            let tape = Tape()
            let q = tape.value(try o(tape: tape, arena: arena))
            XCTAssertLessThan((q.transposed * q).maxAbsDifference(.identity(m)), 1e-4, "OᵀO = I for m = \(m)")
            XCTAssertLessThan((q * q.transposed).maxAbsDifference(.identity(m)), 1e-4, "OOᵀ = I for m = \(m)")
            let det = try q.logDeterminant()
            XCTAssertEqual(det.sign, signs % 2 == 0 ? 1 : -1, "J with \(signs) negative entries sets the determinant's sign")
        }
    }

    func testBoundedKeepsLargestSingularValueBelowOne() throws {
        for seed in 1...20 as ClosedRange<UInt64> {
            let (c, arena) = try prior(.bounded, n1: 4, n2: 6, seed: seed)
            randomize(arena, seed: seed, scale: 3)  // large parameters push σ towards ±1
            let m = try c.value(arena: arena)
            let eig = try (m.transposed * m).symmetricEigen().values
            XCTAssertLessThan(eig.max()!.squareRoot(), 1, "σ₁(C) < 1 (seed \(seed))")
        }
    }

    func testScaledOrthogonalHasEverySingularValueAlpha() throws {
        for (n1, n2) in [(3, 5), (4, 4), (5, 3)] {
            let (c, arena) = try prior(.scaledOrthogonal, alpha: 0.8, n1: n1, n2: n2)
            let m = try c.value(arena: arena)
            XCTAssertEqual(m.rows, n2); XCTAssertEqual(m.cols, n1)
            let small = n1 <= n2 ? m.transposed * m : m * m.transposed
            XCTAssertLessThan(small.maxAbsDifference(0.64 * .identity(min(n1, n2))), 1e-4)
        }
        let (learnt, arena) = try prior(.scaledOrthogonal, alpha: 0.5, learnAlpha: true, n1: 2, n2: 2)
        arena.setValue(arena.view(named: "prior.alpha")!, Matrix([[atanh(0.3)]]))
        let m = try learnt.value(arena: arena)
        XCTAssertLessThan((m.transposed * m).maxAbsDifference(0.09 * .identity(2)), 1e-5, "learnt α = tanh(a)")
    }

    func testGradientsFlowThroughEveryParameterization() throws {
        let r = Matrix.randomNormal(rows: 4, cols: 3, seed: 8)
        for (cross, learn) in [(PriorConfig.Cross.bounded, false), (.scaledOrthogonal, false), (.scaledOrthogonal, true)] {
            let (c, arena) = try prior(cross, learnAlpha: learn, negativeSigns: 1, n1: 3, n2: 4)
            try checkArenaGradient(arena) { tape in
                let cv = try c(tape: tape, arena: arena)!
                return tape.sum(tape.mul(cv, tape.constant(r)))
            }
        }
    }

    // MARK: KL of Eq. 9

    struct Posterior { var mu1, lv1, mu2, lv2: Matrix }

    func randomPosterior(rows: Int, n1: Int, n2: Int, seed: UInt64) -> Posterior {
        Posterior(
            mu1: .randomNormal(rows: rows, cols: n1, seed: seed), lv1: .randomNormal(rows: rows, cols: n1, seed: seed + 1, scale: 0.5),
            mu2: .randomNormal(rows: rows, cols: n2, seed: seed + 2), lv2: .randomNormal(rows: rows, cols: n2, seed: seed + 3, scale: 0.5))
    }

    func jpvae(_ cross: PriorConfig.Cross, n1: Int, n2: Int, seed: UInt64) throws -> JPVAE {
        let config = try ExperimentConfig.parse(
            yaml: """
                model: {type: jpvae, latent: [\(n1), \(n2)], encoderHidden: [4], decoderHidden: [4], prior: {cross: \(cross.rawValue),
                        alpha: 0.7}}
                """
        ).model
        let model = JPVAE(config: config, dimensions: [3, 3], seed: 1)
        randomize(model.arena, seed: seed, scale: 0.4)
        return model
    }

    /// Eq. 9 per row from the tape, and Σ_C from the model's C.
    func eq9(_ model: JPVAE, _ q: Posterior) throws -> (kl: Matrix, sigmaC: [[Double]]) {
        let tape = Tape()
        let kl = try model.klDivergence(
            (tape.constant(q.mu1), tape.constant(q.lv1)), (tape.constant(q.mu2), tape.constant(q.lv2)),
            tape: tape
        ).joint
        let c = try model.prior.value(arena: model.arena)
        let n1 = c.cols, n2 = c.rows, n = n1 + n2
        var s = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for i in 0..<n { s[i][i] = 1 }
        for i in 0..<n2 { for j in 0..<n1 { s[n1 + i][j] = Double(c[i, j]); s[j][n1 + i] = Double(c[i, j]) } }
        return (tape.value(kl), s)
    }

    func testEq9EqualsGenericGaussianKL() throws {
        for cross in PriorConfig.Cross.allCases {
            for (n1, n2) in [(2, 3), (3, 3), (4, 2)] {
                let model = try jpvae(cross, n1: n1, n2: n2, seed: 3)
                let q = randomPosterior(rows: 4, n1: n1, n2: n2, seed: 10)
                let (kl, sigmaC) = try eq9(model, q)
                for r in 0..<4 {
                    let mean = (q.mu1.row(r) + q.mu2.row(r)).map(Double.init)
                    let lv = (q.lv1.row(r) + q.lv2.row(r)).map(Double.init)
                    var cov = [[Double]](repeating: [Double](repeating: 0, count: n1 + n2), count: n1 + n2)
                    for i in 0..<(n1 + n2) { cov[i][i] = exp(lv[i]) }
                    let expected = try GaussianKL.full(meanQ: mean, covQ: cov, meanP: [Double](repeating: 0, count: n1 + n2), covP: sigmaC)
                    XCTAssertEqual(
                        Double(kl[r, 0]), expected, accuracy: 2e-4 * max(1, abs(expected)),
                        "\(cross) n1=\(n1) n2=\(n2) row \(r)")
                }
            }
        }
    }

    func testEq9MatchesMonteCarlo() throws {
        let model = try jpvae(.scaledOrthogonal, n1: 2, n2: 3, seed: 4)
        let q = randomPosterior(rows: 1, n1: 2, n2: 3, seed: 20)
        let (kl, sigmaC) = try eq9(model, q)
        // KL = E_q[log q(z) − log p_C(z)], estimated from 200 000 draws.
        let mean = (q.mu1.row(0) + q.mu2.row(0)).map(Double.init)
        let sd = (q.lv1.row(0) + q.lv2.row(0)).map { exp(0.5 * Double($0)) }
        let l = try GaussianKL.cholesky(sigmaC)
        var logDetP = 0.0
        for i in 0..<5 { logDetP += 2 * log(l[i][i]) }
        var rng = RandomStream(seed: 123)
        var sum = 0.0, sumSq = 0.0
        let draws = 200_000
        for _ in 0..<draws {
            var z = [Double](repeating: 0, count: 5), logQ = 0.0
            for i in 0..<5 {
                let e = Double(rng.nextNormal())
                z[i] = mean[i] + sd[i] * e
                logQ += -0.5 * e * e - log(sd[i])
            }
            let y = GaussianKL.forwardSolve(l, z)
            let logP = -0.5 * y.reduce(0) { $0 + $1 * $1 } - 0.5 * logDetP
            let d = logQ - logP  // the (2π) constants cancel
            sum += d; sumSq += d * d
        }
        let mc = sum / Double(draws)
        let se = ((sumSq / Double(draws) - mc * mc) / Double(draws)).squareRoot()
        XCTAssertEqual(Double(kl[0, 0]), mc, accuracy: 4 * se + 1e-3, "Eq. 9 vs Monte Carlo (±4 s.e. = \(4 * se))")
    }

    func testZeroPriorKLIsSumOfStandardKLs() throws {
        let model = try jpvae(.zero, n1: 2, n2: 2, seed: 1)
        let q = randomPosterior(rows: 3, n1: 2, n2: 2, seed: 30)
        let (kl, _) = try eq9(model, q)
        for r in 0..<3 {
            let e =
                GaussianKL.diagonalToStandard(mean: q.mu1.row(r).map(Double.init), logVar: q.lv1.row(r).map(Double.init))
                + GaussianKL.diagonalToStandard(mean: q.mu2.row(r).map(Double.init), logVar: q.lv2.row(r).map(Double.init))
            XCTAssertEqual(Double(kl[r, 0]), e, accuracy: 1e-4)
        }
    }

    func testKLGradientMatchesFiniteDifferences() throws {
        // Through D₁, D₂ (inverse), ln|D₁| (log-determinant) and the Cayley map, into the arena.
        let model = try jpvae(.bounded, n1: 2, n2: 3, seed: 6)
        let q = randomPosterior(rows: 2, n1: 2, n2: 3, seed: 40)
        try checkArenaGradient(model.arena, tolerance: 2e-2) { tape in
            let kl = try model.klDivergence(
                (tape.constant(q.mu1), tape.constant(q.lv1)),
                (tape.constant(q.mu2), tape.constant(q.lv2)), tape: tape
            ).joint
            return tape.sum(kl)
        }
    }
}
