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

    /// `init(_:)` with `list` as the one-element component array, emptied first (keeping its capacity):
    /// reused at every step, it spares the step the array `init(_:)` allocates.
    public init(_ gaussian: GaussianPosterior, reusing list: inout [GaussianPosterior]) {
        list.removeAll(keepingCapacity: true)
        list.append(gaussian)
        components = list
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
