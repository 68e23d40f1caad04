import MVCore

/// Product of experts with the prior expert (Wu & Goodman 2018): each modality s maps its features
/// to a Gaussian expert N(μ_s, σ_s²); q(z | x_S) ∝ N(0, I) · Π_{s∈S} N(μ_s, σ_s²), i.e.
/// precision Λ = 1 + Σ_{s∈S} σ_s⁻², mean = Λ⁻¹ Σ_{s∈S} σ_s⁻² μ_s (the precision-weighted mean).
public struct ProductOfExperts: GaussianAggregator {
    public let latent: Int
    /// Per modality: features → [μ_s, log σ_s²].
    public let experts: [Dense]

    /// An aggregator over given experts (reordered or a subset of another's, say).
    public init(latent: Int, experts: [Dense]) {
        self.latent = latent
        self.experts = experts
    }

    public init(_ name: String, features: Int, latent: Int, modalities: Int, arena: ParameterArena) {
        self.latent = latent
        experts = (0..<modalities).map {
            Dense("\(name).view\($0 + 1).expert", inputs: features, outputs: 2 * latent, init: .xavier, arena: arena)
        }
    }

    /// The unimodal expert (μ_s, log σ_s²) of modality s from its features h_s.
    public func expert(_ s: Int, features: Var, tape: Tape, arena: ParameterArena) -> GaussianPosterior {
        let out = experts[s](features, tape: tape, arena: arena)
        return GaussianPosterior(mean: tape.sliceColumns(out, 0, count: latent), logVar: tape.sliceColumns(out, latent, count: latent))
    }

    /// The unimodal experts (μ_s, log σ_s²) for every modality.
    public func expertParameters(features: [Var], tape: Tape, arena: ParameterArena) -> [GaussianPosterior] {
        tape.array(count: experts.count) { s in expert(s, features: features[s], tape: tape, arena: arena) }
    }

    public func posterior(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> GaussianPosterior {
        product(expertParameters(features: features, tape: tape, arena: arena), mask: mask, tape: tape)
    }

    /// The product of the prior with the experts selected by `mask`.
    public func product(_ experts: [GaussianPosterior], mask: Var, tape: Tape) -> GaussianPosterior {
        var precision = tape.scalar(1)  // the prior expert N(0, I)
        var weightedMean = tape.scalar(0)
        for (s, e) in experts.enumerated() {
            let p = tape.mul(tape.exp(tape.neg(e.logVar)), tape.maskColumn(mask, s))  // m_s σ_s⁻²
            precision = tape.add(precision, p)
            weightedMean = tape.add(weightedMean, tape.mul(p, e.mean))
        }
        return GaussianPosterior(mean: tape.div(weightedMean, precision), logVar: tape.neg(tape.log(precision)))
    }
}
