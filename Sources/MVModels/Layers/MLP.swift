import MVCore

/// A stack of Dense layers with `activation` after every layer but the last
/// (the last applies `outputActivation`, identity by default).
public struct MLP {
    public let layers: [Dense]
    public let activation: Activation
    public let outputActivation: Activation

    /// `sizes` = [inputs, hidden…, outputs].
    public init(
        _ name: String, sizes: [Int], activation: Activation = .relu, outputActivation: Activation = .identity,
        arena: ParameterArena
    ) {
        precondition(sizes.count >= 2, "MLP needs at least input and output sizes")
        var layers: [Dense] = []
        for k in 0..<(sizes.count - 1) {
            let isLast = k == sizes.count - 2
            let act = isLast ? outputActivation : activation
            layers.append(
                Dense(
                    "\(name).layer\(k)", inputs: sizes[k], outputs: sizes[k + 1],
                    init: (act == .relu || act == .leakyRelu) ? .kaiming : .xavier, arena: arena))
        }
        self.layers = layers
        self.activation = activation
        self.outputActivation = outputActivation
    }

    public var inputs: Int { layers.first!.inputs }
    public var outputs: Int { layers.last!.outputs }

    public func callAsFunction(_ x: Var, tape: Tape, arena: ParameterArena) -> Var {
        var h = x
        for (k, layer) in layers.enumerated() {
            h = layer(h, tape: tape, arena: arena, activation: k == layers.count - 1 ? outputActivation : activation)
        }
        return h
    }
}
