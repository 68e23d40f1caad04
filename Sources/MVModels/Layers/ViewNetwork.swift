import MVConfig
import MVCore
import MVData

/// A view's encoder or decoder as `model.encoder`/`model.decoder` ask (`NetworkConfig`): an MLP, with
/// convolutions on its image side for `conv` and `resnet` — before it in an encoder (image → flat
/// features), after it in a decoder (transposed, flat → image); `resnet` adds residual blocks after the
/// encoder's last convolution and the decoder's first. Dense networks keep their parameter names
/// (`<name>.layer<k>`); convolutions are `<name>.conv<i>`, residual blocks `<name>.block<j>`.
public struct ViewNetwork {
    /// In the order they run: first in an encoder, last in a decoder (then transposed).
    public let convolutions: [Convolution2D]
    public let mlp: MLP
    /// `resnet`: the residual blocks on the smallest map.
    public let blocks: [ResidualBlock]
    public let isDecoder: Bool
    /// `resnet`: no activation between the encoder's convolutions nor after the decoder's dense layers and
    /// first transposed convolution (pythae's networks); the blocks' output is activated in the decoder.
    public let isResidual: Bool
    /// After every convolution but a decoder's last (which gives the likelihood's parameters).
    public let activation: Activation
    /// An encoder's input transform (`NetworkConfig.input`).
    public let input: NetworkConfig.InputTransform

    /// x (rows × inputs) → rows × outputs; a conv encoder's first convolution reads `image`.
    public init(
        encoder name: String, image: ViewShapes.ImageSize?, inputs: Int, hidden: [Int], outputs: Int, config: NetworkConfig,
        activation: Activation, outputActivation: Activation = .identity, arena: ParameterArena
    ) {
        let stack = config.type == .mlp ? [] : Self.encoderGeometries(image!, config)
        convolutions = stack.enumerated().map { Convolution2D("\(name).conv\($0)", geometry: $1, arena: arena) }
        isResidual = config.type == .resnet
        blocks =
            stack.last.map { g in
                Self.blocks(name, height: g.outHeight, width: g.outWidth, channels: g.outChannels, config: config, arena: arena)
            } ?? []
        let flat = stack.last?.outputSize ?? inputs
        mlp = MLP(name, sizes: [flat] + hidden + [outputs], activation: activation, outputActivation: outputActivation, arena: arena)
        isDecoder = false
        self.activation = activation
        precondition(config.input.count == 1, "\(name): a view's network takes one input transform (NetworkConfig.forView)")
        input = config.input[0]
    }

    /// z (rows × inputs) → rows × outputs (a conv decoder's last transposed convolution writes `image`).
    public init(
        decoder name: String, inputs: Int, hidden: [Int], image: ViewShapes.ImageSize?, outputs: Int, config: NetworkConfig,
        activation: Activation, arena: ParameterArena
    ) {
        let stack = config.type == .mlp ? [] : Self.decoderGeometries(image!, config)
        isResidual = config.type == .resnet
        // The dense layers end in the smallest map, activated like every hidden layer (not in a resnet).
        let flat = stack.first?.outputSize ?? outputs
        mlp = MLP(
            name, sizes: [inputs] + hidden + [flat], activation: activation,
            outputActivation: stack.isEmpty || isResidual ? .identity : activation, arena: arena)
        convolutions = stack.enumerated().map { Convolution2D("\(name).conv\($0)", geometry: $1, transposed: true, arena: arena) }
        // After the first transposed convolution: its output is the geometry's input side.
        blocks =
            stack.first.map { g in
                Self.blocks(name, height: g.height, width: g.width, channels: g.inChannels, config: config, arena: arena)
            } ?? []
        isDecoder = true
        self.activation = activation
        input = .none
    }

    public var inputs: Int { isDecoder || convolutions.isEmpty ? mlp.inputs : convolutions[0].inputs }
    public var outputs: Int { isDecoder && !convolutions.isEmpty ? convolutions.last!.outputs : mlp.outputs }

    public func callAsFunction(_ x: Var, tape: Tape, arena: ParameterArena) -> Var {
        var h = x
        if !isDecoder { h = convolutionalFeatures(h, tape: tape, arena: arena) }
        h = mlp(h, tape: tape, arena: arena)
        if isDecoder {
            for (i, c) in convolutions.enumerated() {
                let last = i == convolutions.count - 1
                h = c(h, tape: tape, arena: arena, activation: last || (isResidual && i == 0) ? .identity : activation)
                if isResidual && i == 0 && !blocks.isEmpty {
                    for block in blocks { h = block(h, tape: tape, arena: arena) }
                    h = tape.relu(h)
                }
            }
        }
        return h
    }

    /// An encoder's convolutions (and residual blocks), before its dense layers.
    private func convolutionalFeatures(_ x: Var, tape: Tape, arena: ParameterArena) -> Var {
        var h = input.apply(x, tape: tape)
        for c in convolutions { h = c(h, tape: tape, arena: arena, activation: isResidual ? .identity : activation) }
        for block in blocks { h = block(h, tape: tape, arena: arena) }
        return h
    }

    /// `resnet`'s residual blocks on a height × width × channels map (none for other types).
    static func blocks(
        _ name: String, height: Int, width: Int, channels: Int, config: NetworkConfig, arena: ParameterArena
    ) -> [ResidualBlock] {
        guard config.type == .resnet else { return [] }
        return (0..<config.residualBlocks).map {
            ResidualBlock(
                "\(name).block\($0)", height: height, width: width, channels: channels, inner: config.residualChannels, arena: arena)
        }
    }

    /// An encoder's features before its last dense layer: convolutions and the hidden dense layers (for the
    /// objectives that read the last layer's product alone, such as CoVAE's deep CCA, and for folding maps into it).
    public func featuresBeforeLastLayer(_ x: Var, tape: Tape, arena: ParameterArena) -> Var {
        precondition(!isDecoder, "featuresBeforeLastLayer of a decoder")
        var h = convolutionalFeatures(x, tape: tape, arena: arena)
        for layer in mlp.layers.dropLast() { h = layer(h, tape: tape, arena: arena, activation: mlp.activation) }
        return h
    }

    /// The encoder's convolutions: channels[i − 1] (the image's for i = 0) → channels[i], each on the map the last gave.
    static func encoderGeometries(_ image: ViewShapes.ImageSize, _ config: NetworkConfig) -> [ConvolutionGeometry] {
        var out: [ConvolutionGeometry] = []
        var (h, w, c) = (image.height, image.width, image.channels)
        for next in config.channels {
            let g = ConvolutionGeometry(
                height: h, width: w, inChannels: c, outChannels: next, kernel: config.kernel(out.count), stride: config.stride,
                padding: config.padding)
            out.append(g)
            guard g.problem == nil else { break }
            (h, w, c) = (g.outHeight, g.outWidth, next)
        }
        return out
    }

    /// The decoder's transposed convolutions, in the order they run: each the adjoint of a convolution
    /// from the larger map to the smaller, channels[0] at the smallest map, the image's own channels at the end.
    static func decoderGeometries(_ image: ViewShapes.ImageSize, _ config: NetworkConfig) -> [ConvolutionGeometry] {
        // Sizes from the image down, as an encoder of the same kernels (the last transposed convolution's
        // first), stride and padding would see them.
        let n = config.channels.count
        var sizes = [(image.height, image.width)]
        for j in 0..<n {
            let (h, w) = sizes.last!
            let g = ConvolutionGeometry(
                height: h, width: w, inChannels: 1, outChannels: 1, kernel: config.kernel(n - 1 - j), stride: config.stride,
                padding: config.padding)
            guard g.problem == nil else { return [g] }
            sizes.append((g.outHeight, g.outWidth))
        }
        var out: [ConvolutionGeometry] = []
        for i in 0..<n {
            // Transposed convolution i maps sizes[n − i] with channels[i] up to sizes[n − i − 1].
            let (h, w) = sizes[n - i - 1]
            let larger = i == n - 1 ? image.channels : config.channels[i + 1]
            out.append(
                ConvolutionGeometry(
                    height: h, width: w, inChannels: larger, outChannels: config.channels[i], kernel: config.kernel(i),
                    stride: config.stride, padding: config.padding))
        }
        return out
    }

    /// Why `config` cannot build networks for views `images` (nil: not images), naming the view and the
    /// convolution; nil when it can.
    public static func problem(_ config: NetworkConfig, images: [ViewShapes.ImageSize]?, decoder: Bool) -> String? {
        guard config.type != .mlp else { return nil }
        guard let images else {
            return "a conv network needs image views; this data set's views are plain features (no image size)"
        }
        for (s, image) in images.enumerated() {
            let stack = decoder ? decoderGeometries(image, config) : encoderGeometries(image, config)
            for (i, g) in stack.enumerated() {
                if let p = g.problem {
                    return "view \(s + 1) (\(image.height)×\(image.width)×\(image.channels)): convolution \(i + 1) of \(stack.count): \(p)"
                }
            }
        }
        return nil
    }
}
