import Foundation
import MVCore
import MVModels

// Each family's conditional p(z_M | x_O) for imputation (see ConditionalImputer.swift).

/// CoVAE: z_O from the observed views' unimodal encoders, then z_M | z_O from the prior conditional
/// (Eq. 2): z_M = z_O Rᵀ + ε Fᵀ; each missing view decodes its own block of z_M.
extension CoVAE: ConditionalImputer {
    public func likelihood(of view: Int) -> Likelihood { likelihoods[view] }
    public func checkObserved(_ observed: [Int]) throws {}

    public func decodedDraw(_ observed: [Int: Matrix], missing: [Int], noise: EvaluationNoise, draw d: Int, tape: Tape) throws -> [Int: Var]
    {
        let given = observed.keys.sorted(), n = noise.rows
        let (regression, factor, _) = try CoVAEInference(model: self, seed: noise.seed).conditional(observed: given)
        // z_O and z_M side by side in modality order, as `conditional` lays them out.
        var zO = Matrix(rows: n, cols: regression.cols), at = 0
        for j in given {
            let q = encode(j, tape.constant(observed[j]!), tape: tape)
            let eps = noise.normals(cols: latents[j], stream: d * 64 + j)
            let z = tape.value(tape.reparameterize(mean: q.mean, logVar: q.logVar, noise: tape.constant(eps)))
            for r in 0..<n { for c in 0..<latents[j] { zO[r, at + c] = z[r, c] } }
            at += latents[j]
        }
        let eps = noise.normals(cols: regression.rows, stream: d * 64 + 63)
        let zM = zO.matmul(regression, transposeOther: true) + eps.matmul(factor, transposeOther: true)
        var out: [Int: Var] = [:], from = 0
        for j in missing {
            out[j] = decode(j, tape.constant(zM.columns(from..<(from + latents[j]))), tape: tape)
            from += latents[j]
        }
        return out
    }
}

/// The aggregated VAE: z ~ q(z | x_O) from the aggregator with the other views masked out (a mixture is
/// drawn component and all); a missing view with a private latent gets z̃ from its prior N(0, I), since
/// nothing observed informs it.
extension AggregatedVAE: ConditionalImputer {
    public func likelihood(of view: Int) -> Likelihood { likelihoods[view] }
    public func checkObserved(_ observed: [Int]) throws {}

    public func decodedDraw(_ observed: [Int: Matrix], missing: [Int], noise: EvaluationNoise, draw d: Int, tape: Tape) throws -> [Int: Var]
    {
        let k = viewDimensions.count
        let q = posterior(given: observed, rows: noise.rows, tape: tape).q
        let z = MixtureSampler.sample(q, tape: tape, indices: noise.indices, draw: d, seed: noise.seed).z
        var out: [Int: Var] = [:]
        for t in missing {
            let input =
                privateLatents.map { p in
                    tape.concatColumns(z, tape.constant(noise.normals(cols: p.size, stream: 3 << 20 + d * k + t)))
                } ?? z
            out[t] = decoders[t](input, tape: tape, arena: arena)
        }
        return out
    }
}

/// JPVAE: z_g ~ q(z_g | x_g) from the observed view's encoder, then z_t | z_g from the latent conditional
/// the evaluation uses (`evaluation.imputation`: Eq. 12 fitted on the training split, or the learnt
/// prior's), z_t = μ_t + (z_g − μ_g) W + ε Lᵀ with L Lᵀ the conditional covariance; decoded by view t.
public struct JPVAEImputer: ConditionalImputer {
    public let model: JPVAE
    public let conditional: LatentConditional

    public init(model: JPVAE, conditional: LatentConditional) {
        self.model = model
        self.conditional = conditional
    }

    public var viewDimensions: [Int] { model.viewDimensions }
    public var arena: ParameterArena { model.arena }
    public func likelihood(of view: Int) -> Likelihood { model.views[view].likelihood }

    public func checkObserved(_ observed: [Int]) throws {
        guard observed.count == 1 else { throw ImputationError(description: "JPVAE has two views: give one of them") }
    }

    public func decodedDraw(_ observed: [Int: Matrix], missing: [Int], noise: EvaluationNoise, draw d: Int, tape: Tape) throws -> [Int: Var]
    {
        let g = observed.keys.first!, t = missing[0]
        let q = model.views[g].encode(tape.constant(observed[g]!), tape: tape, arena: model.arena)
        let zg = tape.value(
            tape.reparameterize(
                mean: q.mean, logVar: q.logVar,
                noise: tape.constant(noise.normals(cols: model.views[g].latent, stream: d * 64 + g))))
        let l = try conditional.regression(target: t, given: g).covariance.cholesky()
        let zt =
            try conditional.conditionalMean(target: t, given: g, values: zg)
            + noise.normals(cols: l.rows, stream: d * 64 + 63).matmul(l, transposeOther: true)
        return [t: model.views[t].decode(tape.constant(zt), tape: tape, arena: model.arena)]
    }
}
