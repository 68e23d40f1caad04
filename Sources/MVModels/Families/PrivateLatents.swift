import MVCore

/// Per-modality private latents z̃_s (permutation-invariant aggregation paper, §3.2, the
/// structure of Example 3): q(z̃_s | x_s) = N(μ̃_s, σ̃_s²) from modality s's own features alone, so the
/// private encoder is permutation-equivariant and no other modality's reconstruction can shape it;
/// p(z̃_s) = N(0, I) independent of the shared z; decoder s reads [z, z̃_s].
public struct PrivateLatents {
    public let size: Int
    /// Per modality: features → [μ̃_s, log σ̃_s²].
    public let heads: [Dense]

    public init(_ name: String, features: Int, size: Int, modalities: Int, arena: ParameterArena) {
        self.size = size
        heads = (0..<modalities).map { Dense("\(name)\($0 + 1).private", inputs: features, outputs: 2 * size, init: .xavier, arena: arena) }
    }

    /// q(z̃_s | x_s) for every modality.
    public func posteriors(_ features: [Var], tape: Tape, arena: ParameterArena) -> [GaussianPosterior] {
        heads.indices.map { posterior($0, features: features[$0], tape: tape, arena: arena) }
    }

    /// q(z̃_s | x_s) of modality s alone (the training step fills a reused list with these).
    func posterior(_ s: Int, features: Var, tape: Tape, arena: ParameterArena) -> GaussianPosterior {
        let out = heads[s](features, tape: tape, arena: arena)
        // The same soft bound on log σ² as the learnt aggregators: e^{±8}.
        let logVar = tape.scale(tape.tanh(tape.scale(tape.sliceColumns(out, size, count: size), 1.0 / 8)), 8)
        return GaussianPosterior(mean: tape.sliceColumns(out, 0, count: size), logVar: logVar)
    }

    /// Noise sub-streams: one private draw per modality from q, and prior draws for the mixture bound's
    /// cross terms (modality t's private latent when only s is encoded). Far above the shared latent's.
    package static func posteriorStream(_ s: Int) -> Int { 1 << 20 + s }
    static func priorStream(term s: Int, modality t: Int, modalities k: Int) -> Int { 2 << 20 + s * k + t }
}
