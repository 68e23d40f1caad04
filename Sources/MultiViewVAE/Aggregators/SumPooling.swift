/// Sum pooling (DeepSets, Zaheer et al. 2017): q(z | x_S) = N(μ, σ²) with
/// (μ, log σ²) = ρ(Σ_{s∈S} χ_s(h_s)): per-modality networks χ_s to a pooled representation, a masked
/// sum (permutation invariant by construction), and a shared head ρ whose log-variance is softly
/// bounded to ±8. For S = ∅ the prior is returned.
public struct SumPooling: Aggregator {
    public let latent: Int
    public let elements: [MLP]
    public let head: MLP

    /// An aggregator over given networks (reordered or a subset of another's, say).
    public init(latent: Int, elements: [MLP], head: MLP) {
        self.latent = latent
        self.elements = elements
        self.head = head
    }

    public init(_ name: String, features: Int, latent: Int, modalities: Int, hidden: [Int], pooling: Int,
                activation: Activation, arena: ParameterArena) {
        self.latent = latent
        elements = (0..<modalities).map {
            MLP("\(name).element\($0)", sizes: [features] + hidden + [pooling], activation: activation, arena: arena)
        }
        head = MLP("\(name).head", sizes: [pooling] + hidden + [2 * latent], activation: activation, arena: arena)
    }

    public func posterior(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> GaussianPosterior {
        var pooled: Var?
        for (s, chi) in elements.enumerated() {
            let e = tape.mul(chi(features[s], tape: tape, arena: arena), tape.maskColumn(mask, s))
            pooled = pooled.map { tape.add($0, e) } ?? e
        }
        let out = head(pooled!, tape: tape, arena: arena)
        let mean = tape.sliceColumns(out, 0, count: latent)
        // log σ² = 8 tanh(raw / 8): a pooled sum over many features can swing the head's output far
        // in one Adam step, and e^{log σ²} then overflows in the KL terms; ±8 spans variances 3e-4…3e3.
        let logVar = tape.scale(tape.tanh(tape.scale(tape.sliceColumns(out, latent, count: latent), 1.0 / 8)), 8)
        // Rows with no modality get the prior N(0, I): any(S) = 1 − Π(1 − m_s).
        var none = tape.scalar(1)
        for s in 0..<elements.count { none = tape.mul(none, tape.addScalar(tape.neg(tape.maskColumn(mask, s)), 1)) }
        let some = tape.addScalar(tape.neg(none), 1)
        return GaussianPosterior(mean: tape.mul(mean, some), logVar: tape.mul(logVar, some))
    }
}
