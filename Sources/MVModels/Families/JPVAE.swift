import MVCore
import MVConfig
import MVData

/// JPVAE (Joint Prior VAE; the JPVAE paper, *Correlating Variational Autoencoders Natively For Multi-View
/// Imputation*): one VAE per view, linked only through the joint prior z = (z₁, z₂) ~ N(0, Σ_C),
/// Σ_C = [[I, Cᵀ], [C, I]] (Eq. 6), with C learnt under σ₁(C) < 1.
///
/// Loss per row (negative ELBO, Eq. 2 with the KL of Eq. 9):
///   Σ_k −log p_k(x_k | z_k) + β · KL(q₁ q₂ ‖ p_C).
/// A row with one view missing trains that view's own ELBO against N(0, I): exact, since both
/// marginals of Σ_C are standard normal.
public final class JPVAE: SingleStageModel {
    public let arena: ParameterArena
    public let views: [ViewVAE]
    public let prior: CrossCovariance
    public var viewDimensions: [Int] { views.map(\.inputs) }

    /// `images`: each view's image size, for convolutional networks (`model.encoder`/`model.decoder`).
    public init(config: ModelConfig, dimensions: [Int], images: [ViewShapes.ImageSize]? = nil, seed: UInt64) {
        precondition(dimensions.count == 2, "JPVAE links exactly two views")
        let arena = ParameterArena()
        views = (0..<2).map { k in
            ViewVAE(
                "view\(k + 1)", inputs: dimensions[k], image: images?[k], latent: config.latent(view: k),
                encoderHidden: config.encoderHidden, decoderHidden: config.decoderHidden, encoder: config.encoder.forView(k),
                decoder: config.decoder, activation: config.activation, likelihood: config.likelihood(view: k),
                fixedLogScale: config.fixedLogScale, categories: config.categories, arena: arena)
        }
        prior = CrossCovariance(config: config.jpvae.prior, n1: views[0].latent, n2: views[1].latent, arena: arena)
        arena.materialize(seed: seed)
        self.arena = arena
    }

    public func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64) throws -> LossTerms {
        let b = batch.rows
        // One view's pass: encode, draw z = μ + σε, decode, −log p(x|z) per row. (Tuples, not arrays:
        // the steady-state step must not allocate.)
        func pass(_ k: Int) -> (q: (mean: Var, logVar: Var), nll: Var) {
            let view = views[k]
            let x = tape.input(rows: b, cols: view.inputs) { $0.update(from: batch.views[k], count: b * view.inputs) }
            let q = view.encode(x, tape: tape, arena: arena)
            let eps = tape.input(rows: b, cols: view.latent) { batch.fillNoise($0, view: k, width: view.latent, seed: seed) }
            let z = view.sample(mean: q.mean, logVar: q.logVar, noise: eps, tape: tape)
            return (
                q,
                view.likelihood.negativeLogLikelihood(
                    output: view.decode(z, tape: tape, arena: arena), target: x,
                    tape: tape, arena: arena)
            )
        }
        let first = pass(0), second = pass(1)
        let posterior = (first.q, second.q), nll = (first.nll, second.nll)
        let divergence = try klDivergence(posterior.0, posterior.1, tape: tape)
        var kl = divergence.joint
        var reconstruction = tape.add(nll.0, nll.1)
        if batch.mask != nil {
            // Per-row weights: both views → joint KL; one view → its own ELBO with N(0, I).
            let w = tape.input(rows: b, cols: 5) { p in
                for r in 0..<b {
                    let o1: Float = batch.observed(r, view: 0) ? 1 : 0, o2: Float = batch.observed(r, view: 1) ? 1 : 0
                    p[r * 5] = o1; p[r * 5 + 1] = o2
                    p[r * 5 + 2] = o1 * o2; p[r * 5 + 3] = o1 * (1 - o2); p[r * 5 + 4] = (1 - o1) * o2
                }
            }
            func col(_ j: Int) -> Var { tape.sliceColumns(w, j, count: 1) }
            reconstruction = tape.add(tape.mul(nll.0, col(0)), tape.mul(nll.1, col(1)))
            kl = tape.add(
                tape.mul(kl, col(2)),
                tape.add(tape.mul(divergence.own1, col(3)), tape.mul(divergence.own2, col(4))))
        }
        let reconstructionSum = tape.sum(reconstruction)
        let klSum = tape.sum(kl)
        return LossTerms(total: tape.add(reconstructionSum, tape.scale(klSum, beta)), reconstruction: reconstructionSum, kl: klSum)
    }

    /// Per-row KL divergences (rows×1 each): `joint` = KL(q₁q₂ ‖ p_C) by Eq. 9, and `own1`, `own2` =
    /// KL(q_k ‖ N(0, I)) for rows where only that view is observed.
    public func klDivergence(_ q1: (mean: Var, logVar: Var), _ q2: (mean: Var, logVar: Var), tape: Tape) throws
        -> (joint: Var, own1: Var, own2: Var)
    {
        func parts(_ q: (mean: Var, logVar: Var), _ n: Int) -> (variance: Var, logDet: Var, own: Var) {
            let variance = tape.exp(q.logVar)
            let logDet = tape.sum(q.logVar, axis: .cols)  // ln|Σ_k|
            // ½[μᵀμ − ln|Σ_k| − n + tr Σ_k]: the D = I, C = 0 case of Eq. 9.
            let sum = tape.add(tape.sum(tape.square(q.mean), axis: .cols), tape.sum(variance, axis: .cols))
            return (variance, logDet, tape.scale(tape.addScalar(tape.sub(sum, logDet), -Float(n)), 0.5))
        }
        let n1 = views[0].latent, n2 = views[1].latent
        let p1 = parts(q1, n1), p2 = parts(q2, n2)
        guard let c = try prior(tape: tape, arena: arena) else {
            return (tape.add(p1.own, p2.own), p1.own, p2.own)  // C = 0: two independent priors
        }
        let d = try precisionBlocks(c, tape: tape)
        // Eq. 9: ½[μ₁ᵀD₁μ₁ − ln|Σ₁| − n₁ + tr(D₁Σ₁)] + ½[… view 2 …] − ½[ln|D₁| + μ₁ᵀD₁Cᵀμ₂ + μ₂ᵀD₂Cμ₁].
        // D₁Cᵀ = CᵀD₂ (push-through identity), so the two cross terms are equal: −½·2·μ₁ᵀD₁Cᵀμ₂.
        let quad1 = tape.sum(tape.mul(tape.matmul(q1.mean, d.d1), q1.mean), axis: .cols)  // μ₁ᵀD₁μ₁
        let quad2 = tape.sum(tape.mul(tape.matmul(q2.mean, d.d2), q2.mean), axis: .cols)
        let trace1 = tape.sum(tape.mul(p1.variance, d.diagonal1), axis: .cols)  // tr(D₁Σ₁)
        let trace2 = tape.sum(tape.mul(p2.variance, d.diagonal2), axis: .cols)
        let perView = tape.sub(tape.add(tape.add(quad1, trace1), tape.add(quad2, trace2)), tape.add(p1.logDet, p2.logDet))
        let cross = tape.sum(tape.mul(tape.matmul(q1.mean, d.crossTerm), q2.mean), axis: .cols)
        let joint = tape.sub(tape.scale(tape.sub(tape.addScalar(perView, -Float(n1 + n2)), d.logDetD1), 0.5), cross)
        return (joint, p1.own, p2.own)
    }

    /// D₁ = (I − CᵀC)⁻¹, D₂ = (I − CCᵀ)⁻¹ (Eq. 8), their diagonals as rows, D₁Cᵀ, and ln|D₁| = −ln|I − CᵀC|.
    struct Precision {
        let d1: Var, d2: Var
        let diagonal1: Var, diagonal2: Var
        let crossTerm: Var
        let logDetD1: Var
    }

    func precisionBlocks(_ c: Var, tape: Tape) throws -> Precision {
        let n1 = views[0].latent, n2 = views[1].latent
        func identity(_ n: Int) -> Var {
            tape.input(rows: n, cols: n) { p in
                p.update(repeating: 0, count: n * n)
                for i in 0..<n { p[i * n + i] = 1 }
            }
        }
        let i1 = identity(n1), i2 = identity(n2)
        let a1 = tape.sub(i1, tape.matmul(c, c, transposeA: true))  // I − CᵀC
        let a2 = tape.sub(i2, tape.matmul(c, c, transposeB: true))  // I − CCᵀ
        let d1 = try tape.inverse(a1), d2 = try tape.inverse(a2)
        let diag1 = tape.sum(tape.mul(d1, i1), axis: .rows), diag2 = tape.sum(tape.mul(d2, i2), axis: .rows)
        return Precision(
            d1: d1, d2: d2, diagonal1: diag1, diagonal2: diag2, crossTerm: tape.matmul(d1, c, transposeB: true),
            logDetD1: tape.neg(try tape.logDeterminant(a1)))
    }
}

extension JPVAE {
    /// Every KL of JPVAE's ELBO is in closed form.
    public func klIsExact(stage: Int) -> Bool { true }
}
