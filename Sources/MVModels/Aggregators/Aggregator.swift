import MVCore

/// Turns the features of any subset S of modalities into q(z | x_S), one row per sample
/// (permutation-invariant aggregation paper, §2–3).
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
        tape.mixture(of: posterior(features: features, mask: mask, tape: tape, arena: arena))
    }
}

extension Tape {
    /// Column s of a rows × K mask, as rows × 1.
    package func maskColumn(_ mask: Var, _ s: Int) -> Var { sliceColumns(mask, s, count: 1) }

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
