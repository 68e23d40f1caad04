import MVConfig
import MVCore
import MVData

/// A view's encoder or decoder as `model.encoder`/`model.decoder` ask (`NetworkConfig`): an MLP, with
/// convolutions on its image side for `conv` — before it in an encoder (image → flat features), after it
/// in a decoder (transposed, flat → image). Dense networks keep their parameter names (`<name>.layer<k>`);
/// convolutions are `<name>.conv<i>`.
public struct ViewNetwork {
    /// In the order they run: first in an encoder, last in a decoder (then transposed).
    public let convolutions: [Convolution2D]
    public let mlp: MLP
    public let isDecoder: Bool
    /// After every convolution but a decoder's last (which gives the likelihood's parameters).
    public let activation: Activation

    /// x (rows × inputs) → rows × outputs; a conv encoder's first convolution reads `image`.
    public init(
        encoder name: String, image: ViewShapes.ImageSize?, inputs: Int, hidden: [Int], outputs: Int, config: NetworkConfig,
        activation: Activation, outputActivation: Activation = .identity, arena: ParameterArena
    ) {
        let stack = config.type == .conv ? Self.encoderGeometries(image!, config) : []
        convolutions = stack.enumerated().map { Convolution2D("\(name).conv\($0)", geometry: $1, arena: arena) }
        let flat = stack.last?.outputSize ?? inputs
        mlp = MLP(name, sizes: [flat] + hidden + [outputs], activation: activation, outputActivation: outputActivation, arena: arena)
        isDecoder = false
        self.activation = activation
    }

    /// z (rows × inputs) → rows × outputs (a conv decoder's last transposed convolution writes `image`).
    public init(
        decoder name: String, inputs: Int, hidden: [Int], image: ViewShapes.ImageSize?, outputs: Int, config: NetworkConfig,
        activation: Activation, arena: ParameterArena
    ) {
        let stack = config.type == .conv ? Self.decoderGeometries(image!, config) : []
        // The dense layers end in the smallest map, activated like every hidden layer.
        let flat = stack.first?.outputSize ?? outputs
        mlp = MLP(
            name, sizes: [inputs] + hidden + [flat], activation: activation, outputActivation: stack.isEmpty ? .identity : activation,
            arena: arena)
        convolutions = stack.enumerated().map { Convolution2D("\(name).conv\($0)", geometry: $1, transposed: true, arena: arena) }
        isDecoder = true
        self.activation = activation
    }

    public var inputs: Int { isDecoder || convolutions.isEmpty ? mlp.inputs : convolutions[0].inputs }
    public var outputs: Int { isDecoder && !convolutions.isEmpty ? convolutions.last!.outputs : mlp.outputs }

    public func callAsFunction(_ x: Var, tape: Tape, arena: ParameterArena) -> Var {
        var h = x
        if !isDecoder { for c in convolutions { h = c(h, tape: tape, arena: arena, activation: activation) } }
        h = mlp(h, tape: tape, arena: arena)
        if isDecoder {
            for (i, c) in convolutions.enumerated() {
                h = c(h, tape: tape, arena: arena, activation: i == convolutions.count - 1 ? .identity : activation)
            }
        }
        return h
    }

    /// An encoder's features before its last dense layer: convolutions and the hidden dense layers (for the
    /// objectives that read the last layer's product alone, such as CoVAE's deep CCA, and for folding maps into it).
    public func featuresBeforeLastLayer(_ x: Var, tape: Tape, arena: ParameterArena) -> Var {
        precondition(!isDecoder, "featuresBeforeLastLayer of a decoder")
        var h = x
        for c in convolutions { h = c(h, tape: tape, arena: arena, activation: activation) }
        for layer in mlp.layers.dropLast() { h = layer(h, tape: tape, arena: arena, activation: mlp.activation) }
        return h
    }

    /// The encoder's convolutions: channels[i − 1] (the image's for i = 0) → channels[i], each on the map the last gave.
    static func encoderGeometries(_ image: ViewShapes.ImageSize, _ config: NetworkConfig) -> [ConvolutionGeometry] {
        var out: [ConvolutionGeometry] = []
        var (h, w, c) = (image.height, image.width, image.channels)
        for next in config.channels {
            let g = ConvolutionGeometry(
                height: h, width: w, inChannels: c, outChannels: next, kernel: config.kernel, stride: config.stride,
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
        // Sizes from the image down, as an encoder of the same kernel, stride and padding would see them.
        let n = config.channels.count
        var sizes = [(image.height, image.width)]
        for _ in 0..<n {
            let (h, w) = sizes.last!
            let g = ConvolutionGeometry(
                height: h, width: w, inChannels: 1, outChannels: 1, kernel: config.kernel, stride: config.stride, padding: config.padding)
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
                    height: h, width: w, inChannels: larger, outChannels: config.channels[i], kernel: config.kernel,
                    stride: config.stride, padding: config.padding))
        }
        return out
    }

    /// Why `config` cannot build networks for views `images` (nil: not images), naming the view and the
    /// convolution; nil when it can.
    public static func problem(_ config: NetworkConfig, images: [ViewShapes.ImageSize]?, decoder: Bool) -> String? {
        guard config.type == .conv else { return nil }
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
