import MVCore

/// A fully connected layer: y = x W + b, x of shape batch×inputs, W inputs×outputs, b 1×outputs.
/// W is Kaiming-normal (for ReLU-family activations), Xavier-uniform, or zero (a layer that starts as
/// the constant b, such as a flow's last layer, which then starts as the identity map); b starts at zero.
public struct Dense {
    public let weight: ParameterView
    public let bias: ParameterView
    public let inputs: Int
    public let outputs: Int

    public enum Init: Sendable { case kaiming, xavier, zeros }

    public init(_ name: String, inputs: Int, outputs: Int, init initKind: Init = .kaiming, arena: ParameterArena) {
        self.inputs = inputs
        self.outputs = outputs
        let wInit: Initializer
        switch initKind {
        case .kaiming: wInit = .kaimingNormal(fanIn: inputs)
        case .xavier: wInit = .xavierUniform(fanIn: inputs, fanOut: outputs)
        case .zeros: wInit = .zeros
        }
        weight = arena.register("\(name).weight", rows: inputs, cols: outputs, initializer: wInit)
        bias = arena.register("\(name).bias", rows: 1, cols: outputs, initializer: .zeros)
    }

    /// activation(x W + b), fused into one tape node.
    public func callAsFunction(_ x: Var, tape: Tape, arena: ParameterArena, activation: Activation = .identity) -> Var {
        tape.linear(x, weight: tape.parameter(weight, in: arena), bias: tape.parameter(bias, in: arena), activation: activation)
    }
}
