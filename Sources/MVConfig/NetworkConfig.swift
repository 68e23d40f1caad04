import MVCore

/// A view's encoder or decoder (`model.encoder`, `model.decoder`): dense layers only (`mlp`, sized by
/// `encoderHidden`/`decoderHidden`), or convolutions on the image side of them (`conv`, `resnet`).
///
/// `conv`, for image views: the encoder runs `channels.count` convolutions (each `kernel`, `stride`,
/// `padding`; channels[i] maps out of convolution i) before the dense layers; the decoder's dense layers
/// end in a map of channels[0] channels at the smallest size, then transposed convolutions step back up
/// through channels[1…] to the image's own channels (MultiVae's PolyMNIST networks: encoder channels
/// [32, 64, 128], decoder [128, 64, 32], kernel 3, stride 2, padding 1). `kernel` is one size for every
/// convolution or one per convolution (in the order they run).
///
/// `resnet`, the ResNet networks of pythae that CoVAE's App. D uses (Encoder_ResNet_VAE_MNIST /
/// Decoder_ResNet_AE_MNIST): the encoder's convolutions without activations between them, then
/// `residualBlocks` blocks x + conv1×1(relu(conv3×3(relu(x)))) of `residualChannels` inner channels; the
/// decoder's first transposed convolution, the blocks, an activation, then the rest (activated but the last).
/// pythae's MNIST pair: encoder channels [64, 128, 128], kernel [4, 4, 3]; decoder [128, 128, 64], kernel 3.
///
/// `input` (encoders only), one for every view or one per view: `log1p` feeds log(1 + x) to the view's
/// encoders instead of x (counts, whose likelihood still scores the raw values); `none` by default.
public struct NetworkConfig: Codable, Equatable, Sendable {
    public enum Kind: String, ConfigChoice, Equatable, Sendable { case mlp, conv, resnet }
    public enum InputTransform: String, ConfigChoice, Equatable, Sendable {
        case none, log1p

        /// x as an encoder reads it (two tape nodes for log1p, no allocation in a step).
        public func apply(_ x: Var, tape: Tape) -> Var { self == .log1p ? tape.log(tape.addScalar(x, 1)) : x }
    }

    public var type: Kind
    public var channels: [Int]
    public var kernels: [Int]
    public var stride: Int
    public var padding: Int
    public var residualBlocks: Int
    public var residualChannels: Int
    /// One transform for every view, or one per view (`forView` picks a view's).
    public var input: [InputTransform] = [.none]

    public static let mlp = NetworkConfig(type: .mlp, channels: [], kernels: [3], stride: 2, padding: 1)

    public init(
        type: Kind, channels: [Int], kernel: Int, stride: Int, padding: Int, residualBlocks: Int = 2, residualChannels: Int = 32
    ) {
        self.init(
            type: type, channels: channels, kernels: [kernel], stride: stride, padding: padding, residualBlocks: residualBlocks,
            residualChannels: residualChannels)
    }

    public init(
        type: Kind, channels: [Int], kernels: [Int], stride: Int, padding: Int, residualBlocks: Int = 2, residualChannels: Int = 32
    ) {
        (self.type, self.channels, self.kernels, self.stride, self.padding) = (type, channels, kernels, stride, padding)
        (self.residualBlocks, self.residualChannels) = (residualBlocks, residualChannels)
    }

    /// View k's network: its own input transform.
    public func forView(_ k: Int) -> NetworkConfig {
        var one = self
        one.input = [input.count == 1 ? input[0] : input[k]]
        return one
    }

    /// The kernel size of convolution i.
    public func kernel(_ i: Int) -> Int { kernels.count == 1 ? kernels[0] : kernels[i] }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, channels, kernel, stride, padding, residualBlocks, residualChannels, input
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.stringValue))
        type = try c.value(.type, default: .mlp)
        channels = try c.value(.channels, default: type == .mlp ? [] : [32, 64, 128])
        kernels = try c.decodeOneOrMany(Int.self, .kernel, default: [3])
        stride = try c.value(.stride, default: 2)
        padding = try c.value(.padding, default: 1)
        residualBlocks = try c.value(.residualBlocks, default: 2)
        residualChannels = try c.value(.residualChannels, default: 32)
        input = try c.decodeOneOrMany(InputTransform.self, .input, default: [.none])
        if type == .mlp && c.contains(.channels) && !channels.isEmpty {
            throw c.invalid(.channels, "applies to types conv and resnet; this network is an mlp")
        }
        if type != .resnet && (c.contains(.residualBlocks) || c.contains(.residualChannels)) {
            throw c.invalid(c.contains(.residualBlocks) ? .residualBlocks : .residualChannels, "applies to type resnet")
        }
        if type != .mlp && channels.isEmpty { throw c.invalid(.channels, "a \(type.rawValue) network needs at least one convolution") }
        if channels.contains(where: { $0 < 1 }) { throw c.invalid(.channels, "channel counts must be ≥ 1") }
        if kernels.isEmpty || kernels.contains(where: { $0 < 1 }) { throw c.invalid(.kernel, "sizes must be ≥ 1, got \(kernels)") }
        if kernels.count > 1 && kernels.count != channels.count {
            throw c.invalid(.kernel, "give one size, or one per convolution (\(channels.count)), got \(kernels.count)")
        }
        if stride < 1 { throw c.invalid(.stride, "must be ≥ 1, got \(stride)") }
        if padding < 0 || padding >= kernels.min()! {
            throw c.invalid(.padding, "must be at least 0 and less than every kernel (\(kernels)), got \(padding)")
        }
        if residualBlocks < 0 { throw c.invalid(.residualBlocks, "must be ≥ 0, got \(residualBlocks)") }
        if residualChannels < 1 { throw c.invalid(.residualChannels, "must be ≥ 1, got \(residualChannels)") }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        if type != .mlp {
            try c.encode(channels, forKey: .channels)
            if kernels.count == 1 { try c.encode(kernels[0], forKey: .kernel) } else { try c.encode(kernels, forKey: .kernel) }
            try c.encode(stride, forKey: .stride)
            try c.encode(padding, forKey: .padding)
        }
        if type == .resnet {
            try c.encode(residualBlocks, forKey: .residualBlocks)
            try c.encode(residualChannels, forKey: .residualChannels)
        }
        if input != [.none] {
            if input.count == 1 { try c.encode(input[0], forKey: .input) } else { try c.encode(input, forKey: .input) }
        }
    }

}
