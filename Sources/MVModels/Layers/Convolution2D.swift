import MVCore

/// A 2-D convolution over channels-last images (`ConvolutionGeometry`), or its transpose (the adjoint,
/// which maps the geometry's output size back to its input size: a decoder's upsampling). The weight is
/// patch × outChannels either way, Kaiming-normal over the patch a forward convolution sums (fan-in);
/// the bias starts at zero and has one entry per channel of the layer's output.
public struct Convolution2D {
    public let weight: ParameterView
    public let bias: ParameterView
    public let geometry: ConvolutionGeometry
    public let transposed: Bool

    public init(_ name: String, geometry: ConvolutionGeometry, transposed: Bool = false, arena: ParameterArena) {
        precondition(geometry.problem == nil, "\(name): \(geometry.problem ?? "")")
        self.geometry = geometry
        self.transposed = transposed
        // A transposed convolution sums outChannels × (kernel / stride)² inputs per output value.
        let fanIn =
            transposed
            ? Swift.max(1, geometry.outChannels * geometry.kernelHeight * geometry.kernelWidth / (geometry.stride * geometry.stride))
            : geometry.patch
        weight = arena.register(
            "\(name).weight", rows: geometry.patch, cols: geometry.outChannels, initializer: .kaimingNormal(fanIn: fanIn))
        bias = arena.register(
            "\(name).bias", rows: 1, cols: transposed ? geometry.inChannels : geometry.outChannels, initializer: .zeros)
    }

    /// Values per input row and per output row.
    public var inputs: Int { transposed ? geometry.outputSize : geometry.inputSize }
    public var outputs: Int { transposed ? geometry.inputSize : geometry.outputSize }

    public func callAsFunction(_ x: Var, tape: Tape, arena: ParameterArena, activation: Activation = .identity) -> Var {
        let w = tape.parameter(weight, in: arena), b = tape.parameter(bias, in: arena)
        return transposed
            ? tape.convTranspose2d(x, weight: w, bias: b, geometry, activation: activation)
            : tape.conv2d(x, weight: w, bias: b, geometry, activation: activation)
    }
}
