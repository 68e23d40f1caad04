import Foundation
import MVCore
import MVModels

/// JNF's posterior given any observed subset S of its K modalities:
/// - S = all: the joint encoder q(z | x);
/// - S = {j}: the unimodal posterior q_j(z | x_j), sampled through its flow's inverse (u ~ N(μ_j, σ_j²),
///   z = f_j⁻¹(u));
/// - 2 ≤ |S| ≤ K − 1: p(z | x_S) ∝ Π_{j∈S} q_j(z | x_j) / p(z)^{|S|−1}, by Hamiltonian Monte Carlo started
///   from a mixture-of-experts draw (each row's chain from q_j of one j ∈ S picked at random).
///
/// The exponent |S| − 1: with the modalities independent given z, p(z | x_S) ∝ p(z) Π_{j∈S} p(x_j | z)
/// = p(z) Π_{j∈S} p(z | x_j) p(x_j) / p(z) ∝ Π_{j∈S} p(z | x_j) / p(z)^{|S|−1}, and q_j stands in for
/// p(z | x_j). (MultiVae's implementation divides by p(z) once whatever |S| is, which is the same only
/// for |S| = 2.)
public struct JNFInference {
    public let model: JNF
    public let sampler: HamiltonianMonteCarlo

    public init(model: JNF) {
        self.model = model
        let s = model.settings
        sampler = HamiltonianMonteCarlo(steps: s.hmcSteps, leapfrogSteps: s.leapfrogSteps, stepSize: s.hmcStepSize)
    }

    /// q_j's Gaussian base for the rows of x_j, as values.
    public func base(_ j: Int, _ x: Matrix) -> (mean: Matrix, logVar: Matrix) {
        let tape = Tape()
        let q = model.unimodalBase(j, tape.constant(x), tape: tape)
        return (tape.value(q.mean), tape.value(q.logVar))
    }

    /// z ~ q_j(z | x_j) from standard-normal `noise` (rows × d): u = μ_j + σ_j ε, z = f_j⁻¹(u).
    public func sampleUnimodal(_ j: Int, base: (mean: Matrix, logVar: Matrix), noise: Matrix) -> Matrix {
        var u = base.mean
        for q in 0..<u.count { u.storage[q] += Foundation.exp(0.5 * base.logVar.storage[q]) * noise.storage[q] }
        return model.flows[j].inverse(u, arena: model.arena)
    }

    /// log π_S(z) = Σ_{j∈S} log q_j(z | x_j) − (|S| − 1) log N(z; 0, I) per row, and its gradient in z.
    public func subsetTarget(bases: [Int: (mean: Matrix, logVar: Matrix)]) -> HamiltonianMonteCarlo.Target {
        let order = bases.keys.sorted()
        return target { zv, tape in
            var total = tape.scale(tape.standardNormalLogDensity(zv), -Float(order.count - 1))
            for j in order {
                let b = bases[j]!
                let q = GaussianPosterior(mean: tape.constant(b.mean), logVar: tape.constant(b.logVar))
                total = tape.add(total, model.unimodalLogDensity(j, zv, base: q, tape: tape))
            }
            return total
        }
    }

    /// log p(z) + Σ_{j∈S} log p_j(x_j | z) per row — the generative model's own unnormalised posterior given
    /// x_S, through the decoders — and its gradient in z.
    public func exactPosteriorTarget(_ observed: [Int: Matrix]) -> HamiltonianMonteCarlo.Target {
        let order = observed.keys.sorted()
        return target { zv, tape in
            var total = tape.standardNormalLogDensity(zv)
            for j in order {
                let nll = model.likelihoods[j].negativeLogLikelihood(
                    output: model.decode(j, zv, tape: tape), target: tape.constant(observed[j]!),
                    tape: tape, arena: model.arena)
                total = tape.sub(total, nll)
            }
            return total
        }
    }

    /// An HMC target from a per-row log-density recorded on a tape of its own: its values and its gradient
    /// in z (the parameters take none).
    func target(_ logDensity: @escaping (Var, Tape) -> Var) -> HamiltonianMonteCarlo.Target {
        let arena = model.arena, tape = Tape()
        return { z in
            let trainable = arena.trainable
            arena.trainable = 0..<0
            defer { arena.trainable = trainable }
            tape.reset()
            let zv = tape.variable(z)
            let total = logDensity(zv, tape)
            tape.backward(tape.sum(total))
            return (tape.value(total).storage, tape.gradient(zv))
        }
    }

    /// HMC chains on `target` (default π_S) for 2 ≤ |S| ≤ K − 1 from a mixture-of-experts start (each row from
    /// the q_j of its own randomly chosen j ∈ S); `key` separates independent runs (the start's numbers and
    /// the chains').
    public func subsetChains(
        bases: [Int: (mean: Matrix, logVar: Matrix)], noise: EvaluationNoise, key: Int,
        target: HamiltonianMonteCarlo.Target? = nil,
        visit: ((Int, Matrix) -> Void)? = nil
    ) throws -> HamiltonianMonteCarlo.Chains {
        let order = bases.keys.sorted()
        let eps = noise.normals(cols: model.latent, stream: key)
        let pick = noise.choices(below: order.count, stream: key + 1)
        var start = Matrix(rows: noise.rows, cols: model.latent)
        for j in order.indices {
            let z = sampleUnimodal(order[j], base: bases[order[j]]!, noise: eps)
            for r in 0..<noise.rows where pick[r] == j { for c in 0..<model.latent { start[r, c] = z[r, c] } }
        }
        return try sampler.run(from: start, target: target ?? subsetTarget(bases: bases), noise: noise, stream: key + 2, visit: visit)
    }

    /// Draw `d` of z given the observed modalities, and for an HMC subset the chains' acceptance rate.
    public func posteriorDraw(_ observed: [Int: Matrix], noise: EvaluationNoise, draw d: Int) throws -> (z: Matrix, acceptanceRate: Double?)
    {
        let k = model.modalities, latent = model.latent, order = observed.keys.sorted()
        let eps = noise.normals(cols: latent, stream: d * 64)
        if order.count == k {
            let tape = Tape()
            let q = model.encodeJoint(order.map { tape.constant(observed[$0]!) }, tape: tape)
            return (tape.value(tape.reparameterize(mean: q.mean, logVar: q.logVar, noise: tape.constant(eps))), nil)
        }
        let bases = Dictionary(uniqueKeysWithValues: order.map { ($0, base($0, observed[$0]!)) })
        if order.count == 1 { return (sampleUnimodal(order[0], base: bases[order[0]]!, noise: eps), nil) }
        let chains = try subsetChains(bases: bases, noise: noise, key: d * 64)
        return (chains.samples, chains.acceptanceRate)
    }
}

/// `mvvae impute` for JNF: each draw decodes an independent draw of z given the observed modalities
/// (`JNFInference.posteriorDraw`); the HMC subsets' acceptance rates are kept for the report.
public final class JNFImputer: ConditionalImputer {
    public let inference: JNFInference
    /// The acceptance rate of each HMC run (one per draw), in draw order.
    public private(set) var acceptanceRates: [Double] = []

    public init(model: JNF) { inference = JNFInference(model: model) }

    public var viewDimensions: [Int] { inference.model.viewDimensions }
    public var arena: ParameterArena { inference.model.arena }
    public func likelihood(of view: Int) -> Likelihood { inference.model.likelihoods[view] }
    public func checkObserved(_ observed: [Int]) throws {}

    public func decodedDraw(_ observed: [Int: Matrix], missing: [Int], noise: EvaluationNoise, draw d: Int, tape: Tape) throws -> [Int: Var]
    {
        let (z, rate) = try inference.posteriorDraw(observed, noise: noise, draw: d)
        if let rate { acceptanceRates.append(rate) }
        let zv = tape.constant(z)
        var out: [Int: Var] = [:]
        for j in missing { out[j] = inference.model.decode(j, zv, tape: tape) }
        return out
    }

    public var report: String? {
        guard !acceptanceRates.isEmpty else { return nil }
        let s = inference.sampler, mean = acceptanceRates.reduce(0, +) / Double(acceptanceRates.count)
        return String(
            format:
                "Hamiltonian Monte Carlo (%d steps of %d leapfrogs, ε = %g): acceptance rate %.3f (mean over %d runs, min %.3f, max %.3f)",
            s.steps, s.leapfrogSteps, Double(s.stepSize), mean, acceptanceRates.count, acceptanceRates.min()!, acceptanceRates.max()!)
    }
}

/// `mvvae encode` for JNF: every view observed, the joint encoder's mean and log-variance; otherwise
/// the posterior has no closed form, so its mean is estimated from `draws` draws and one draw is given.
extension JNF: EmbeddingModel {
    /// Draws behind a subset's estimated mean.
    public static let embeddingDraws = 16

    public func embedChunk(_ observed: [Int: Matrix], noise: EvaluationNoise, tape: Tape) throws -> Embedding {
        let columns = (0..<latent).map { "z\($0 + 1)" }
        if observed.count == modalities {
            let q = encodeJoint((0..<modalities).map { tape.constant(observed[$0]!) }, tape: tape)
            return Embedding(columns: columns, mean: tape.value(q.mean), logVariance: tape.value(q.logVar))
        }
        let inference = JNFInference(model: self)
        var mean = Matrix(rows: noise.rows, cols: latent), first: Matrix?
        for d in 0..<Self.embeddingDraws {
            let z = try inference.posteriorDraw(observed, noise: noise, draw: d).z
            if first == nil { first = z }
            for q in 0..<z.count { mean.storage[q] += z.storage[q] / Float(Self.embeddingDraws) }
        }
        return Embedding(columns: columns, mean: mean, draw: first)
    }
}
