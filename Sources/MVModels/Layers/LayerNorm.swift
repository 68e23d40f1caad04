import MVCore

/// Layer normalisation with a learnt per-feature gain (starts at 1) and bias (starts at 0):
/// γ ⊙ (x − mean) / sqrt(var + ε) + β over each row.
public struct LayerNorm {
    public let gain: ParameterView
    public let bias: ParameterView

    public init(_ name: String, width: Int, arena: ParameterArena) {
        gain = arena.register("\(name).gain", rows: 1, cols: width, initializer: .constant(1))
        bias = arena.register("\(name).bias", rows: 1, cols: width, initializer: .zeros)
    }

    public func callAsFunction(_ x: Var, tape: Tape, arena: ParameterArena) -> Var {
        tape.add(tape.mul(tape.layerNorm(x), tape.parameter(gain, in: arena)), tape.parameter(bias, in: arena))
    }
}
