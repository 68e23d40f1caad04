import MVCore

/// Self-attention aggregation (Set Transformer without inducing points; the aggregation paper's
/// Example 2 and App. D): per modality an embedding χ_s(h_s) of width d, L pre-layer-norm attention
/// blocks over the set of present modalities, a final LayerNorm, a masked sum over the set and the head ρ
/// (`PosteriorHead`: a Gaussian or a Gaussian mixture). For S = ∅ the prior.
///
/// Permutation invariance: the blocks' weights are shared across modalities, attention is
/// permutation-equivariant and the sum is invariant. Absent modalities are ignored exactly: their
/// embeddings are zeroed, they are masked out as keys (so no present modality attends to them), each
/// later layer acts on one (sample, modality) row at a time, and the final sum drops their rows.
public struct SelfAttention: Aggregator {
    public var latent: Int { head.latent }
    public let embeddings: [MLP]
    public let blocks: [AttentionBlock]
    public let finalNorm: LayerNorm
    public let head: PosteriorHead
    public let width: Int

    /// An aggregator over given networks (reordered or a subset of another's, say).
    public init(embeddings: [MLP], blocks: [AttentionBlock], finalNorm: LayerNorm, head: PosteriorHead) {
        precondition(!embeddings.isEmpty, "SelfAttention needs at least one modality")
        let d = embeddings[0].outputs
        precondition(
            embeddings.allSatisfy { $0.outputs == d } && blocks.allSatisfy { $0.width == d },
            "SelfAttention: embeddings and blocks must share one width")
        width = d
        self.embeddings = embeddings
        self.blocks = blocks
        self.finalNorm = finalNorm
        self.head = head
    }

    /// χ_s is [features] + hidden + [width] with `activation` between layers (one hidden layer is the
    /// authors' Dense → act → Dense); ρ has the same hidden layers.
    public init(
        _ name: String, features: Int, latent: Int, modalities: Int, hidden: [Int], width: Int, heads: Int,
        blocks: Int, components: Int = 1, activation: Activation, arena: ParameterArena
    ) {
        self.init(
            embeddings: (0..<modalities).map {
                MLP("\(name).view\($0 + 1).embedding", sizes: [features] + hidden + [width], activation: activation, arena: arena)
            },
            blocks: (0..<blocks).map { AttentionBlock("\(name).block\($0)", width: width, heads: heads, arena: arena) },
            finalNorm: LayerNorm("\(name).finalNorm", width: width, arena: arena),
            head: PosteriorHead(
                "\(name).head", inputs: width, hidden: hidden, latent: latent, components: components,
                activation: activation, arena: arena))
    }

    public func distribution(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> PosteriorMixture {
        let rows = tape.rows(mask), set = embeddings.count
        precondition(features.count == set && tape.cols(mask) == set, "SelfAttention: \(set) modalities, got \(features.count) features")
        // rows × (K·d), modality-major; zeroing absent embeddings keeps their rows finite and inert.
        var stacked: Var?
        for (s, chi) in embeddings.enumerated() {
            let e = tape.mul(chi(features[s], tape: tape, arena: arena), tape.maskColumn(mask, s))
            stacked = stacked.map { tape.concatColumns($0, e) } ?? e
        }
        var x = tape.reshape(stacked!, rows: rows * set, cols: width)
        for block in blocks { x = block(x, mask: mask, tape: tape, arena: arena) }
        let present = tape.reshape(mask, rows: rows * set, cols: 1)
        let perSample = tape.reshape(tape.mul(finalNorm(x, tape: tape, arena: arena), present), rows: rows, cols: set * width)
        var pooled = tape.sliceColumns(perSample, 0, count: width)
        for s in 1..<set { pooled = tape.add(pooled, tape.sliceColumns(perSample, s * width, count: width)) }
        return head(pooled, mask: mask, tape: tape, arena: arena)
    }
}
