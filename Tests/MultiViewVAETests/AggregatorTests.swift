import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Product of experts and sum pooling: the closed form, permutation invariance, masking = leaving
/// out, the empty set, and gradients into every parameter.
final class AggregatorTests: XCTestCase {
    let rows = 3, featureSize = 4, latent = 2, modalities = 3

    func features(seed: UInt64) -> [Matrix] { (0..<modalities).map { uniform(rows, featureSize, seed: seed + UInt64($0)) } }

    let mask = Matrix([[1, 0, 1], [1, 1, 1], [0, 1, 0]])

    func evaluate(_ agg: Aggregator, _ arena: ParameterArena, _ f: [Matrix], _ m: Matrix) -> (mean: Matrix, logVar: Matrix) {
        let tape = Tape()
        let q = agg.distribution(features: f.map { tape.constant($0) }, mask: tape.constant(m), tape: tape, arena: arena).gaussian
        return (tape.value(q.mean), tape.value(q.logVar))
    }

    func makePoE() -> (ProductOfExperts, ParameterArena) {
        let arena = ParameterArena()
        let a = ProductOfExperts("poe", features: featureSize, latent: latent, modalities: modalities, arena: arena)
        arena.materialize(seed: 2)
        return (a, arena)
    }

    func makeSumPooling() -> (SumPooling, ParameterArena) {
        let arena = ParameterArena()
        let a = SumPooling(
            "sp", features: featureSize, latent: latent, modalities: modalities, hidden: [5], pooling: 6,
            activation: .tanh, arena: arena)
        arena.materialize(seed: 3)
        randomize(arena, seed: 4, scale: 0.4)
        return (a, arena)
    }

    func testProductOfExpertsMatchesTheClosedForm() {
        let (poe, arena) = makePoE()
        let f = features(seed: 10)
        let q = evaluate(poe, arena, f, mask)
        let tape = Tape()
        let experts = poe.expertParameters(features: f.map { tape.constant($0) }, tape: tape, arena: arena)
            .map { (tape.value($0.mean), tape.value($0.logVar)) }
        for r in 0..<rows {
            for j in 0..<latent {
                var precision = 1.0, weighted = 0.0
                for s in 0..<modalities where mask[r, s] == 1 {
                    let p = exp(-Double(experts[s].1[r, j]))
                    precision += p
                    weighted += p * Double(experts[s].0[r, j])
                }
                XCTAssertEqual(Double(q.mean[r, j]), weighted / precision, accuracy: 1e-5)
                XCTAssertEqual(Double(q.logVar[r, j]), -log(precision), accuracy: 1e-5)
            }
        }
    }

    func testEmptySetGivesThePrior() {
        let empty = Matrix(rows: rows, cols: modalities)
        for (agg, arena) in [makePoE() as (Aggregator, ParameterArena), makeSumPooling()] {
            let q = evaluate(agg, arena, features(seed: 1), empty)
            XCTAssertEqual(q.mean.frobeniusNorm, 0, accuracy: 1e-7)
            XCTAssertEqual(q.logVar.frobeniusNorm, 0, accuracy: 1e-7)
        }
    }

    func testMaskedFeaturesAreIgnored() {
        for (agg, arena) in [makePoE() as (Aggregator, ParameterArena), makeSumPooling()] {
            var f2 = features(seed: 10)
            let q1 = evaluate(agg, arena, f2, mask)
            // Change only the features of modalities that are masked out in each row.
            for r in 0..<rows { for s in 0..<modalities where mask[r, s] == 0 { for c in 0..<featureSize { f2[s][r, c] = 9 } } }
            let q2 = evaluate(agg, arena, f2, mask)
            XCTAssertEqual(q1.mean.maxAbsDifference(q2.mean), 0, accuracy: 1e-6)
            XCTAssertEqual(q1.logVar.maxAbsDifference(q2.logVar), 0, accuracy: 1e-6)
        }
    }

    func testPermutingModalitiesLeavesQUnchanged() {
        let perm = [2, 0, 1]
        let f = features(seed: 20)
        let pf = perm.map { f[$0] }
        var pm = Matrix(rows: rows, cols: modalities)
        for r in 0..<rows { for (i, s) in perm.enumerated() { pm[r, i] = mask[r, s] } }
        let (poe, pa) = makePoE()
        let poePermuted = ProductOfExperts(latent: poe.latent, experts: perm.map { poe.experts[$0] })
        let (sp, sa) = makeSumPooling()
        let spPermuted = SumPooling(elements: perm.map { sp.elements[$0] }, head: sp.head)
        for (a, b, arena) in [(poe as Aggregator, poePermuted as Aggregator, pa), (sp, spPermuted, sa)] {
            let q1 = evaluate(a, arena, f, mask), q2 = evaluate(b, arena, pf, pm)
            XCTAssertLessThan(q1.mean.maxAbsDifference(q2.mean), 1e-5)
            XCTAssertLessThan(q1.logVar.maxAbsDifference(q2.logVar), 1e-5)
        }
    }

    func testMaskingAModalityEqualsLeavingItOut() {
        // q from modalities {0, 2} of three equals q of an aggregator that only has modalities 0 and 2.
        let f = features(seed: 30)
        let m3 = Matrix([[1, 0, 1], [1, 0, 1], [1, 0, 1]]), m2 = Matrix([[1, 1], [1, 1], [1, 1]])
        let (poe, pa) = makePoE()
        let (sp, sa) = makeSumPooling()
        let pairs: [(Aggregator, Aggregator, ParameterArena)] = [
            (poe, ProductOfExperts(latent: latent, experts: [poe.experts[0], poe.experts[2]]), pa),
            (sp, SumPooling(elements: [sp.elements[0], sp.elements[2]], head: sp.head), sa),
        ]
        for (full, pair, arena) in pairs {
            let q1 = evaluate(full, arena, f, m3), q2 = evaluate(pair, arena, [f[0], f[2]], m2)
            XCTAssertLessThan(q1.mean.maxAbsDifference(q2.mean), 1e-6)
            XCTAssertLessThan(q1.logVar.maxAbsDifference(q2.logVar), 1e-6)
        }
    }

    func testGradientsThroughEveryAggregator() throws {
        let f = features(seed: 40)
        let r1 = Matrix.randomNormal(rows: rows, cols: latent, seed: 5), r2 = Matrix.randomNormal(rows: rows, cols: latent, seed: 6)
        for (agg, arena) in [makePoE() as (Aggregator, ParameterArena), makeSumPooling()] {
            try checkArenaGradient(arena, tolerance: 2e-2) { tape in
                let q = agg.distribution(features: f.map { tape.constant($0) }, mask: tape.constant(mask), tape: tape, arena: arena)
                    .gaussian
                return tape.add(tape.sum(tape.mul(q.mean, tape.constant(r1))), tape.sum(tape.mul(q.logVar, tape.constant(r2))))
            }
            // And into the features themselves.
            GradientCheck(f + [mask], constants: [modalities]).run("aggregator features") { t, v in
                let q = agg.distribution(features: Array(v.prefix(self.modalities)), mask: v[self.modalities], tape: t, arena: arena)
                    .gaussian
                return t.concatColumns(q.mean, q.logVar)
            }
        }
    }
}
