import MVCore

/// One pre-layer-norm transformer block over the set of modalities (Xiong et al. 2020):
///   y = x + MHA(LN(x)) W_o,   out = y + FF(LN(y)),   FF(u) = ReLU(u W₁ + b₁) W₂ + b₂.
/// Rows of `x` are (sample, modality) pairs, (rows·K) × d, so the projections are one GEMM each and
/// shared across modalities (what keeps the aggregator permutation invariant). The attention takes the
/// modality mask as its key mask: a present modality never attends to an absent one.
public struct AttentionBlock {
    public let heads: Int
    public let width: Int
    public let attentionNorm: LayerNorm
    /// Query, key, value and output projections, d × d without bias (as in the authors' code).
    public let query: ParameterView, key: ParameterView, value: ParameterView, output: ParameterView
    public let feedForwardNorm: LayerNorm
    public let feedForward: [Dense]

    public init(_ name: String, width d: Int, heads: Int, arena: ParameterArena) {
        precondition(heads >= 1 && d % heads == 0, "AttentionBlock: width \(d) is not divisible by \(heads) heads")
        self.heads = heads
        width = d
        attentionNorm = LayerNorm("\(name).attentionNorm", width: d, arena: arena)
        func projection(_ p: String) -> ParameterView {
            arena.register("\(name).\(p)", rows: d, cols: d, initializer: .xavierUniform(fanIn: d, fanOut: d))
        }
        query = projection("query"); key = projection("key"); value = projection("value"); output = projection("output")
        feedForwardNorm = LayerNorm("\(name).feedForwardNorm", width: d, arena: arena)
        // Hidden width d keeps the block's cost at a few d×d GEMMs per (sample, modality).
        feedForward = [
            Dense("\(name).feedForward0", inputs: d, outputs: d, init: .kaiming, arena: arena),
            Dense("\(name).feedForward1", inputs: d, outputs: d, init: .xavier, arena: arena),
        ]
    }

    /// `x` is (rows·K) × d; `mask` is rows × K.
    public func callAsFunction(_ x: Var, mask: Var, tape: Tape, arena: ParameterArena) -> Var {
        let rows = tape.rows(mask), set = tape.cols(mask)
        let u = attentionNorm(x, tape: tape, arena: arena)
        // Each projection as rows × (K·d) for the attention op: the same buffer, read per sample.
        func project(_ w: ParameterView) -> Var {
            tape.reshape(tape.matmul(u, tape.parameter(w, in: arena)), rows: rows, cols: set * width)
        }
        let attended = tape.maskedAttention(queries: project(query), keys: project(key), values: project(value), mask: mask, heads: heads)
        let mixed = tape.matmul(tape.reshape(attended, rows: rows * set, cols: width), tape.parameter(output, in: arena))
        let y = tape.add(x, mixed)
        let hidden = feedForward[0](feedForwardNorm(y, tape: tape, arena: arena), tape: tape, arena: arena, activation: .relu)
        return tape.add(y, feedForward[1](hidden, tape: tape, arena: arena))
    }
}
