import MVCore

/// Mixture of experts (Shi et al. 2019, MMVAE): q(z | x_S) = (1/|S|) Σ_{s∈S} N(μ_s, σ_s²), a uniform
/// mixture of the unimodal experts; for S = ∅ the prior N(0, I). The components are the K experts and
/// the prior, weighted m_s/|S| and [S = ∅]. Training samples every component once and weights its
/// terms by w_c (stratified sampling), so the weights' gradient needs no score function.
public struct MixtureOfExperts: Aggregator {
    /// The unimodal experts: the same per-modality heads a product of experts uses (features → [μ_s, raw log σ_s²]).
    public let unimodal: ProductOfExperts

    public var latent: Int { unimodal.latent }

    /// An aggregator over given experts (reordered or a subset of another's, say).
    public init(unimodal: ProductOfExperts) { self.unimodal = unimodal }

    public init(_ name: String, features: Int, latent: Int, modalities: Int, arena: ParameterArena) {
        unimodal = ProductOfExperts(name, features: features, latent: latent, modalities: modalities, arena: arena)
    }

    public func distribution(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> PosteriorMixture {
        let rows = tape.rows(mask), k = unimodal.experts.count
        let experts = unimodal.expertParameters(features: features, tape: tape, arena: arena)
        let components = tape.array(count: k + 1) { s in
            guard s < k else { return tape.standardNormal(rows: rows, latent: latent) }
            // log σ² = 8 tanh(raw / 8): an expert is not tempered by the prior as in a product, and its
            // log-density enters the Monte-Carlo KL, so its variance stays within e^{±8}.
            return GaussianPosterior(mean: experts[s].mean, logVar: tape.scale(tape.tanh(tape.scale(experts[s].logVar, 1.0 / 8)), 8))
        }
        let m = tape.valuePointer(mask)
        let weights = tape.input(rows: rows, cols: k + 1) { w in
            for r in 0..<rows {
                var count: Float = 0
                for s in 0..<k { count += m[r * k + s] }
                for s in 0..<k { w[r * (k + 1) + s] = count > 0 ? m[r * k + s] / count : 0 }
                w[r * (k + 1) + k] = count > 0 ? 0 : 1
            }
        }
        return PosteriorMixture(components: components, weights: weights)
    }
}
