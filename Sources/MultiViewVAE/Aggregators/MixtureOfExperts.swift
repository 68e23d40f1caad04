/// Mixture of experts (Shi et al. 2019, MMVAE): q(z | x_S) = (1/|S|) Σ_{s∈S} N(μ_s, σ_s²), a uniform
/// mixture of the unimodal experts; for S = ∅ the prior N(0, I). The components are the K experts and
/// the prior, weighted m_s/|S| and [S = ∅]. Training samples every component once and weights its
/// terms by w_c (stratified sampling), so the weights' gradient needs no score function.
public struct MixtureOfExperts: Aggregator {
    public let latent: Int
    /// Per modality: features → [μ_s, raw log σ_s²].
    public let heads: [Dense]

    /// An aggregator over given expert heads (reordered or a subset of another's, say).
    public init(latent: Int, heads: [Dense]) {
        self.latent = latent
        self.heads = heads
    }

    public init(_ name: String, features: Int, latent: Int, modalities: Int, arena: ParameterArena) {
        self.init(latent: latent, heads: (0..<modalities).map {
            Dense("\(name).expert\($0)", inputs: features, outputs: 2 * latent, init: .xavier, arena: arena)
        })
    }

    public func distribution(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> PosteriorMixture {
        var components: [GaussianPosterior] = heads.enumerated().map { s, head in
            let out = head(features[s], tape: tape, arena: arena)
            // log σ² = 8 tanh(raw / 8): an expert is not tempered by the prior as in a product, and its
            // log-density enters the Monte-Carlo KL, so its variance stays within e^{±8}.
            let logVar = tape.scale(tape.tanh(tape.scale(tape.sliceColumns(out, latent, count: latent), 1.0 / 8)), 8)
            return GaussianPosterior(mean: tape.sliceColumns(out, 0, count: latent), logVar: logVar)
        }
        let rows = tape.rows(mask), k = heads.count
        components.append(tape.standardNormal(rows: rows, latent: latent))
        let m = tape.nodes[mask.id].value
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
