/// A diagonal Gaussian q(z | ·) per row: mean and log-variance, each rows × latent.
public struct GaussianPosterior {
    public let mean: Var
    public let logVar: Var
}

/// q(z | x_S) = Σ_c w_c N(μ_c, σ_c²) per row. Gaussian aggregators give one component and no weights
/// (w = 1); mixture aggregators give rows × C weights whose rows sum to 1, with w_c = 0 marking a
/// component that is absent for that row (an unobserved modality's expert, say).
public struct PosteriorMixture {
    public let components: [GaussianPosterior]
    public let weights: Var?

    public init(_ gaussian: GaussianPosterior) {
        components = [gaussian]
        weights = nil
    }

    public init(components: [GaussianPosterior], weights: Var) {
        self.components = components
        self.weights = weights
    }

    public var isGaussian: Bool { weights == nil }

    /// The single Gaussian of a Gaussian aggregator.
    public var gaussian: GaussianPosterior {
        precondition(isGaussian, "PosteriorMixture.gaussian on a mixture of \(components.count) components")
        return components[0]
    }
}

/// Turns the features of any subset S of modalities into q(z | x_S), one row per sample
/// (papers/permutation-invariant-aggregation-paper.txt §2–3).
///
/// `features[s]` holds h_s = f_s(x_s) for every row (rows where s ∉ S hold anything); `mask` is
/// rows × K with 1 where s ∈ S. The result must not depend on the order of the modalities in the
/// set, must ignore masked-out features, and for an empty S must be the prior N(0, I).
public protocol Aggregator {
    var latent: Int { get }
    func distribution(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> PosteriorMixture
}

/// An aggregator whose q(z | x_S) is a single diagonal Gaussian (PoE, SumPooling, SelfAttention).
public protocol GaussianAggregator: Aggregator {
    func posterior(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> GaussianPosterior
}

extension GaussianAggregator {
    public func distribution(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> PosteriorMixture {
        PosteriorMixture(posterior(features: features, mask: mask, tape: tape, arena: arena))
    }
}

extension Tape {
    /// Column s of a rows × K mask, as rows × 1.
    func maskColumn(_ mask: Var, _ s: Int) -> Var { sliceColumns(mask, s, count: 1) }

    /// 1 for rows where no modality is in the mask, else 0 (rows × 1): Π_s (1 − m_s).
    func emptySetIndicator(_ mask: Var) -> Var {
        var none = scalar(1)
        for s in 0..<cols(mask) { none = mul(none, addScalar(neg(maskColumn(mask, s)), 1)) }
        return none
    }

    /// The prior N(0, I) as a component of `rows` rows.
    func standardNormal(rows: Int, latent: Int) -> GaussianPosterior {
        let zero = input(rows: rows, cols: latent) { $0.update(repeating: 0, count: rows * latent) }
        return GaussianPosterior(mean: zero, logVar: zero)
    }
}
