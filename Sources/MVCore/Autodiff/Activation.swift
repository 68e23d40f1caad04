/// Nonlinearities an MLP can use between layers.
public enum Activation: String, CaseIterable, Codable, Sendable {
    case relu, leakyRelu, tanh, sigmoid, softplus, identity

    public func apply(_ x: Var, tape: Tape) -> Var {
        switch self {
        case .relu: return tape.relu(x)
        case .leakyRelu: return tape.leakyRelu(x)
        case .tanh: return tape.tanh(x)
        case .sigmoid: return tape.sigmoid(x)
        case .softplus: return tape.softplus(x)
        case .identity: return x
        }
    }
}
