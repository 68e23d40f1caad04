/// A diagonal Gaussian q(z | ·) per row: mean and log-variance, each rows × latent.
public struct GaussianPosterior {
    public let mean: Var
    public let logVar: Var
}

/// Turns the features of any subset S of modalities into q(z | x_S), one row per sample
/// (papers/permutation-invariant-aggregation-paper.txt §2–3).
///
/// `features[s]` holds h_s = f_s(x_s) for every row (rows where s ∉ S hold anything); `mask` is
/// rows × K with 1 where s ∈ S. The result must not depend on the order of the modalities in the
/// set, must ignore masked-out features, and for an empty S must be the prior N(0, I).
public protocol Aggregator {
    var latent: Int { get }
    func posterior(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> GaussianPosterior
}

extension Tape {
    /// Column s of a rows × K mask, as rows × 1.
    func maskColumn(_ mask: Var, _ s: Int) -> Var { sliceColumns(mask, s, count: 1) }
}
