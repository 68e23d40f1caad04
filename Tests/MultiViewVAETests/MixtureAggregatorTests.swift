import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Mixture aggregators (MoE, MoPoE, the mixture head of SumPooling): their weights and components,
/// sampling frequencies, permutation invariance, masking = leaving out, the empty set, and gradients.
/// A mixture is compared through what defines it: its log-density at fixed points and its mean.
final class MixtureAggregatorTests: XCTestCase {
    let rows = 4, featureSize = 4, latent = 2, modalities = 3
    let mask = Matrix([[1, 0, 1], [1, 1, 1], [0, 1, 0], [0, 0, 0]])

    func features(seed: UInt64) -> [Matrix] { (0..<modalities).map { uniform(rows, featureSize, seed: seed + UInt64($0)) } }

    /// An aggregator built into its own arena, initialised from `seed` and its weights spread out.
    func built<A>(seed: UInt64, _ make: (ParameterArena) -> A) -> (A, ParameterArena) {
        let arena = ParameterArena()
        let a = make(arena)
        arena.materialize(seed: seed)
        randomize(arena, seed: seed + 1, scale: 0.6)
        return (a, arena)
    }

    func makeMoE() -> (MixtureOfExperts, ParameterArena) {
        built(seed: 2) { MixtureOfExperts("moe", features: featureSize, latent: latent, modalities: modalities, arena: $0) }
    }

    func makeMoPoE() -> (MixtureOfProductsOfExperts, ParameterArena) {
        built(seed: 4) { MixtureOfProductsOfExperts("mopoe", features: featureSize, latent: latent, modalities: modalities, arena: $0) }
    }

    func makeMixtureSumPooling() -> (SumPooling, ParameterArena) {
        built(seed: 6) {
            SumPooling(
                "sp", features: featureSize, latent: latent, modalities: modalities, hidden: [5], pooling: 6,
                components: 3, activation: .tanh, arena: $0)
        }
    }

    var all: [(String, Aggregator, ParameterArena)] {
        let (moe, a1) = makeMoE(), (mopoe, a2) = makeMoPoE(), (sp, a3) = makeMixtureSumPooling()
        return [("MoE", moe, a1), ("MoPoE", mopoe, a2), ("mixture SumPooling", sp, a3)]
    }

    /// Fixed points at which to compare densities: rows × latent each.
    let points = (0..<5).map { Matrix.randomNormal(rows: 4, cols: 2, seed: 100 + UInt64($0), scale: 1.5) }

    /// log q(z_i | x_S) at every point, and the mixture's mean.
    func signature(_ agg: Aggregator, _ arena: ParameterArena, _ f: [Matrix], _ m: Matrix) -> (density: [Matrix], mean: Matrix) {
        let tape = Tape()
        let q = agg.distribution(features: f.map { tape.constant($0) }, mask: tape.constant(m), tape: tape, arena: arena)
        return (points.map { tape.value(tape.logDensity(tape.constant($0), q)) }, tape.value(tape.mean(q)))
    }

    func assertSame(
        _ a: (density: [Matrix], mean: Matrix), _ b: (density: [Matrix], mean: Matrix), _ name: String,
        accuracy: Float = 1e-4, file: StaticString = #filePath, line: UInt = #line
    ) {
        for (x, y) in zip(a.density, b.density) {
            XCTAssertLessThan(x.maxAbsDifference(y), accuracy, "\(name): log-density", file: file, line: line)
        }
        XCTAssertLessThan(a.mean.maxAbsDifference(b.mean), accuracy, "\(name): mean", file: file, line: line)
    }

    func testMixtureOfExpertsWeightsAreUniformOverTheObservedExperts() {
        let (moe, arena) = makeMoE()
        let tape = Tape()
        let f = features(seed: 1)
        let q = moe.distribution(features: f.map { tape.constant($0) }, mask: tape.constant(mask), tape: tape, arena: arena)
        XCTAssertEqual(tape.value(q.weights!), Matrix([[0.5, 0, 0.5, 0], [1.0 / 3, 1.0 / 3, 1.0 / 3, 0], [0, 1, 0, 0], [0, 0, 0, 1]]))
        // Component s is expert s: its mean is the head's first `latent` outputs.
        for s in 0..<modalities {
            let head = tape.value(moe.unimodal.experts[s](tape.constant(f[s]), tape: tape, arena: arena))
            XCTAssertLessThan(tape.value(q.components[s].mean).maxAbsDifference(head.columns(0..<latent)), 1e-6)
        }
    }

    func testMixtureOfProductsOfExpertsMixesThePoEOfEverySubset() {
        let (mopoe, arena) = makeMoPoE()
        let tape = Tape()
        let f = features(seed: 2)
        let q = mopoe.distribution(features: f.map { tape.constant($0) }, mask: tape.constant(mask), tape: tape, arena: arena)
        let w = tape.value(q.weights!)
        XCTAssertEqual(w.cols, 8)
        // Row 0 observes {0, 2}: subsets {0}, {2}, {0, 2} (bit masks 1, 4, 5) share the weight.
        for t in 0..<8 { XCTAssertEqual(w[0, t], [1, 4, 5].contains(t) ? 1.0 / 3 : 0, accuracy: 1e-7, "subset \(t)") }
        for t in 0..<8 { XCTAssertEqual(w[1, t], t == 0 ? 0 : 1.0 / 7, accuracy: 1e-7) }
        for t in 0..<8 { XCTAssertEqual(w[3, t], t == 0 ? 1 : 0) }
        // Component {0, 2} is the product of the prior with experts 0 and 2, in closed form.
        let experts = mopoe.product.expertParameters(features: f.map { tape.constant($0) }, tape: tape, arena: arena)
            .map { (tape.value($0.mean), tape.value($0.logVar)) }
        let c = q.components[5]
        let mean = tape.value(c.mean), logVar = tape.value(c.logVar)
        for r in 0..<rows {
            for j in 0..<latent {
                var precision = 1.0, weighted = 0.0
                for s in [0, 2] {
                    let p = exp(-Double(experts[s].1[r, j]))
                    precision += p
                    weighted += p * Double(experts[s].0[r, j])
                }
                XCTAssertEqual(Double(mean[r, j]), weighted / precision, accuracy: 1e-5)
                XCTAssertEqual(Double(logVar[r, j]), -log(precision), accuracy: 1e-5)
            }
        }
    }

    func testAncestralSamplingFrequenciesMatchTheWeights() {
        let n = 20_000
        for (name, agg, arena) in all {
            let tape = Tape()
            let q = agg.distribution(
                features: features(seed: 3).map { tape.constant($0) }, mask: tape.constant(mask), tape: tape, arena: arena)
            let w = tape.value(q.weights!)
            var counts = Matrix(rows: rows, cols: w.cols)
            for d in 0..<n {
                for (r, c) in MixtureSampler.sample(q, tape: tape, indices: Array(0..<rows), draw: d, seed: 9).components.enumerated() {
                    counts[r, c] += 1
                }
            }
            for r in 0..<rows {
                for c in 0..<w.cols {
                    let p = Double(w[r, c]), f = Double(counts[r, c]) / Double(n)
                    // Four binomial standard deviations, and never a draw from an absent component.
                    XCTAssertEqual(f, p, accuracy: 4 * (p * (1 - p) / Double(n)).squareRoot() + 1e-9, "\(name) row \(r) component \(c)")
                }
            }
        }
    }

    func testDrawsFollowTheChosenComponent() {
        // With one observed modality, MoE is that expert: draws have its mean and variance.
        let (moe, arena) = makeMoE()
        let tape = Tape()
        let only = Matrix([[0, 1, 0]])
        let f = features(seed: 4).map { $0.rows(0..<1) }
        let q = moe.distribution(features: f.map { tape.constant($0) }, mask: tape.constant(only), tape: tape, arena: arena)
        let mean = tape.value(q.components[1].mean), variance = tape.value(q.components[1].logVar).storage.map { exp($0) }
        let n = 20_000
        var sum = [Double](repeating: 0, count: latent), sq = sum
        for d in 0..<n {
            let z = tape.value(MixtureSampler.sample(q, tape: tape, indices: [0], draw: d, seed: 1).z)
            for j in 0..<latent { sum[j] += Double(z[0, j]); sq[j] += Double(z[0, j] * z[0, j]) }
        }
        for j in 0..<latent {
            let m = sum[j] / Double(n), v = sq[j] / Double(n) - m * m
            XCTAssertEqual(m, Double(mean[0, j]), accuracy: 4 * (Double(variance[j]) / Double(n)).squareRoot())
            XCTAssertEqual(v, Double(variance[j]), accuracy: 0.05 * Double(variance[j]))
        }
    }

    func testEmptySetGivesThePrior() {
        let empty = Matrix(rows: rows, cols: modalities)
        for (name, agg, arena) in all {
            let got = signature(agg, arena, features(seed: 5), empty)
            let tape = Tape()
            let prior = points.map { tape.value(tape.standardNormalLogDensity(tape.constant($0))) }
            assertSame(got, (prior, Matrix(rows: rows, cols: latent)), name)
        }
    }

    func testMaskedFeaturesAreIgnored() {
        for (name, agg, arena) in all {
            var f = features(seed: 6)
            let before = signature(agg, arena, f, mask)
            for r in 0..<rows { for s in 0..<modalities where mask[r, s] == 0 { for c in 0..<featureSize { f[s][r, c] = 9 } } }
            assertSame(before, signature(agg, arena, f, mask), name)
        }
    }

    func testPermutingModalitiesLeavesQUnchanged() {
        let perm = [2, 0, 1]
        let f = features(seed: 7), pf = perm.map { f[$0] }
        var pm = Matrix(rows: rows, cols: modalities)
        for r in 0..<rows { for (i, s) in perm.enumerated() { pm[r, i] = mask[r, s] } }
        let (moe, a1) = makeMoE(), (mopoe, a2) = makeMoPoE(), (sp, a3) = makeMixtureSumPooling()
        let pairs: [(String, Aggregator, Aggregator, ParameterArena)] = [
            ("MoE", moe, MixtureOfExperts(unimodal: ProductOfExperts(latent: latent, experts: perm.map { moe.unimodal.experts[$0] })), a1),
            (
                "MoPoE", mopoe,
                MixtureOfProductsOfExperts(product: ProductOfExperts(latent: latent, experts: perm.map { mopoe.product.experts[$0] })), a2
            ),
            ("mixture SumPooling", sp, SumPooling(elements: perm.map { sp.elements[$0] }, head: sp.head), a3),
        ]
        for (name, a, b, arena) in pairs { assertSame(signature(a, arena, f, mask), signature(b, arena, pf, pm), name) }
    }

    func testMaskingAModalityEqualsLeavingItOut() {
        let f = features(seed: 8)
        let m3 = Matrix([[1, 0, 1], [1, 0, 1], [0, 0, 1], [1, 0, 0]]), m2 = Matrix([[1, 1], [1, 1], [0, 1], [1, 0]])
        let (moe, a1) = makeMoE(), (mopoe, a2) = makeMoPoE(), (sp, a3) = makeMixtureSumPooling()
        let pairs: [(String, Aggregator, Aggregator, ParameterArena)] = [
            (
                "MoE", moe,
                MixtureOfExperts(unimodal: ProductOfExperts(latent: latent, experts: [moe.unimodal.experts[0], moe.unimodal.experts[2]])),
                a1
            ),
            (
                "MoPoE", mopoe,
                MixtureOfProductsOfExperts(
                    product: ProductOfExperts(latent: latent, experts: [mopoe.product.experts[0], mopoe.product.experts[2]])), a2
            ),
            ("mixture SumPooling", sp, SumPooling(elements: [sp.elements[0], sp.elements[2]], head: sp.head), a3),
        ]
        for (name, full, pair, arena) in pairs {
            assertSame(signature(full, arena, f, m3), signature(pair, arena, [f[0], f[2]], m2), name)
        }
    }

    func testGradientsThroughEveryMixtureAggregator() throws {
        let f = features(seed: 9)
        let z = points[0], r = Matrix.randomNormal(rows: rows, cols: latent, seed: 11)
        for (name, agg, arena) in all {
            let loss: (Tape, [Var]) -> Var = { t, h in
                let q = agg.distribution(features: h, mask: t.constant(self.mask), tape: t, arena: arena)
                return t.add(t.sum(t.logDensity(t.constant(z), q)), t.sum(t.mul(t.mean(q), t.constant(r))))
            }
            try checkArenaGradient(arena, tolerance: 2e-2) { t in loss(t, f.map { t.constant($0) }) }
            GradientCheck(f, constants: []).run("\(name): features") { t, v in
                let q = agg.distribution(features: v, mask: t.constant(self.mask), tape: t, arena: arena)
                return t.concatColumns(t.logDensity(t.constant(z), q), t.mean(q))
            }
        }
    }
}
