import MVCore

/// The output network ρ of a learnt aggregator: a pooled set representation → q(z | x_S).
///
/// With one component it gives N(μ, σ²) from the 2·latent outputs (μ, raw log σ²); with C ≥ 2 it gives
/// the mixture Σ_c π_c N(μ_c, σ_c²) from C·(2·latent + 1) outputs, π = softmax of the last C (the
/// paper's mixture variants). log σ² = 8 tanh(raw / 8): a pooled sum over many features can swing the
/// head's output far in one Adam step and e^{log σ²} then overflows; ±8 spans variances 3e-4…3e3.
/// Rows with S = ∅ get the prior N(0, I).
public struct PosteriorHead {
    public let network: MLP
    public let latent: Int
    public let components: Int

    public init(network: MLP, latent: Int, components: Int) {
        self.network = network
        self.latent = latent
        self.components = components
    }

    public init(_ name: String, inputs: Int, hidden: [Int], latent: Int, components: Int, activation: Activation, arena: ParameterArena) {
        precondition(components >= 1, "PosteriorHead needs at least one component")
        let outputs = components == 1 ? 2 * latent : components * (2 * latent + 1)
        self.init(
            network: MLP(name, sizes: [inputs] + hidden + [outputs], activation: activation, arena: arena),
            latent: latent, components: components)
    }

    /// `pooled` is rows × inputs; `mask` (rows × K) says which rows have an empty set.
    public func callAsFunction(_ pooled: Var, mask: Var, tape: Tape, arena: ParameterArena) -> PosteriorMixture {
        let out = network(pooled, tape: tape, arena: arena)
        let none = tape.emptySetIndicator(mask)
        let some = tape.addScalar(tape.neg(none), 1)
        func gaussian(at start: Int) -> GaussianPosterior {
            let mean = tape.sliceColumns(out, start, count: latent)
            let logVar = tape.scale(tape.tanh(tape.scale(tape.sliceColumns(out, start + latent, count: latent), 1.0 / 8)), 8)
            return GaussianPosterior(mean: tape.mul(mean, some), logVar: tape.mul(logVar, some))
        }
        if components == 1 { return tape.mixture(of: gaussian(at: 0)) }
        // Rows with S = ∅: every learnt component collapses to N(0, I) above; the prior component takes the weight.
        let parts = tape.array(count: components + 1) { c in
            c < components ? gaussian(at: c * 2 * latent) : tape.standardNormal(rows: tape.rows(mask), latent: latent)
        }
        let pi = tape.mul(tape.softmax(tape.sliceColumns(out, components * 2 * latent, count: components)), some)
        return PosteriorMixture(components: parts, weights: tape.concatColumns(pi, none))
    }
}
