import MVCore

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

    /// A mixture of `components` with rows × C `weights`; with no weights, the one Gaussian `components` holds.
    public init(components: [GaussianPosterior], weights: Var?) {
        precondition(weights != nil || components.count == 1, "a PosteriorMixture without weights holds one Gaussian")
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

extension Tape {
    /// `gaussian` as a one-component mixture, its component list one of the step's arrays.
    public func mixture(of gaussian: GaussianPosterior) -> PosteriorMixture {
        PosteriorMixture(components: array(count: 1) { _ in gaussian }, weights: nil)
    }
}
