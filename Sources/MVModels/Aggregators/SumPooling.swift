import MVCore

/// Sum pooling (DeepSets, Zaheer et al. 2017): q(z | x_S) = ρ(Σ_{s∈S} χ_s(h_s)): per-modality
/// networks χ_s to a pooled representation, a masked sum (permutation invariant by construction),
/// and a shared head ρ (`PosteriorHead`: a Gaussian, or a Gaussian mixture). For S = ∅ the prior.
public struct SumPooling: Aggregator {
    public var latent: Int { head.latent }
    public let elements: [MLP]
    public let head: PosteriorHead

    /// An aggregator over given networks (reordered or a subset of another's, say).
    public init(elements: [MLP], head: PosteriorHead) {
        self.elements = elements
        self.head = head
    }

    public init(
        _ name: String, features: Int, latent: Int, modalities: Int, hidden: [Int], pooling: Int,
        components: Int = 1, activation: Activation, arena: ParameterArena
    ) {
        elements = (0..<modalities).map {
            MLP("\(name).view\($0 + 1).element", sizes: [features] + hidden + [pooling], activation: activation, arena: arena)
        }
        head = PosteriorHead(
            "\(name).head", inputs: pooling, hidden: hidden, latent: latent, components: components,
            activation: activation, arena: arena)
    }

    public func distribution(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> PosteriorMixture {
        var pooled: Var?
        for (s, chi) in elements.enumerated() {
            let e = tape.mul(chi(features[s], tape: tape, arena: arena), tape.maskColumn(mask, s))
            pooled = pooled.map { tape.add($0, e) } ?? e
        }
        return head(pooled!, mask: mask, tape: tape, arena: arena)
    }
}
