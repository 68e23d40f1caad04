import MVCore

/// MADE (Germain et al. 2015, "Masked Autoencoder for Distribution Estimation"): an MLP over z ∈ R^D whose
/// outputs for coordinate i read only the coordinates before i in an ordering, so one pass gives every
/// conditional's parameters. Here it outputs, per coordinate, a shift μ_i and a log-scale α_i for one
/// masked autoregressive flow block (`MaskedAutoregressiveFlow`).
///
/// Degrees: coordinate i has degree deg(i) ∈ 1…D (its place in the ordering: i + 1, or D − i when
/// `reversed`); hidden unit h of every layer has degree (h mod (D − 1)) + 1. A weight from a unit of
/// degree a to a hidden unit of degree b exists when b ≥ a; to coordinate i's outputs when deg(i) > a.
/// So every path from z_j to the outputs of i passes only through degrees ≥ deg(j) and < deg(i): the
/// outputs of i depend on the z_j with deg(j) < deg(i) only. With D = 1 the outputs are constants.
public struct MADE {
    public let dimension: Int
    public let layers: [Dense]
    /// One 0/1 mask per layer, row-major like the layer's weight.
    public var masks: [[Float]] { storage.masks }
    /// The masks in buffers the tape reads in place (a copy per layer per step would be pure overhead).
    let storage: MaskStorage
    public let activation: Activation
    /// deg(i) of each coordinate.
    public let degrees: [Int]

    public init(_ name: String, dimension d: Int, hidden: [Int], reversed: Bool, activation: Activation, arena: ParameterArena) {
        precondition(d >= 1, "MADE needs a dimension ≥ 1")
        dimension = d
        self.activation = activation
        let input = (0..<d).map { reversed ? d - $0 : $0 + 1 }
        degrees = input
        var from = input, layers: [Dense] = [], masks: [[Float]] = []
        for (l, width) in hidden.enumerated() {
            let to = (0..<width).map { d > 1 ? $0 % (d - 1) + 1 : 1 }
            layers.append(
                Dense(
                    "\(name).layer\(l)", inputs: from.count, outputs: width,
                    init: activation == .relu || activation == .leakyRelu ? .kaiming : .xavier, arena: arena))
            masks.append(from.flatMap { a in to.map { b in b >= a ? Float(1) : 0 } })
            from = to
        }
        // Output columns: μ_1 … μ_D, then α_1 … α_D; zero weights, so the block starts as the identity.
        layers.append(Dense("\(name).layer\(hidden.count)", inputs: from.count, outputs: 2 * d, init: .zeros, arena: arena))
        masks.append(from.flatMap { a in (0..<(2 * d)).map { c in input[c % d] > a ? Float(1) : 0 } })
        self.layers = layers
        storage = MaskStorage(masks)
    }

    /// (μ, α), each rows × D, for the rows of z.
    public func callAsFunction(_ z: Var, tape: Tape, arena: ParameterArena) -> (shift: Var, logScale: Var) {
        var h = z
        for (l, layer) in layers.enumerated() {
            let m = tape.externalConstant(storage.buffers[l], rows: layer.inputs, cols: layer.outputs)
            h = tape.maskedLinear(
                h, weight: tape.parameter(layer.weight, in: arena), bias: tape.parameter(layer.bias, in: arena), mask: m,
                activation: l == layers.count - 1 ? .identity : activation)
        }
        return (tape.sliceColumns(h, 0, count: dimension), tape.sliceColumns(h, dimension, count: dimension))
    }
}

/// MADE's masks, each in a buffer of its own that lives as long as the layer.
final class MaskStorage {
    let masks: [[Float]]
    let buffers: [UnsafeMutablePointer<Float>]

    init(_ masks: [[Float]]) {
        self.masks = masks
        buffers = masks.map { mask in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(mask.count, 1))
            p.initialize(from: mask, count: mask.count)
            return p
        }
    }

    deinit { buffers.forEach { $0.deallocate() } }
}
