import MVCore

/// A view's encoder or decoder (`model.encoder`, `model.decoder`): dense layers only (`mlp`, sized by
/// `encoderHidden`/`decoderHidden`), or convolutions on the image side of them (`conv`).
///
/// `conv`, for image views: the encoder runs `channels.count` convolutions (each `kernel`, `stride`,
/// `padding`; channels[i] maps out of convolution i) before the dense layers; the decoder's dense layers
/// end in a map of channels[0] channels at the smallest size, then transposed convolutions step back up
/// through channels[1…] to the image's own channels (MultiVae's PolyMNIST networks: encoder channels
/// [32, 64, 128], decoder [128, 64, 32], kernel 3, stride 2, padding 1).
public struct NetworkConfig: Codable, Equatable, Sendable {
    public enum Kind: String, ConfigChoice, Equatable, Sendable { case mlp, conv }

    public var type: Kind
    public var channels: [Int]
    public var kernel: Int
    public var stride: Int
    public var padding: Int

    public static let mlp = NetworkConfig(type: .mlp, channels: [], kernel: 3, stride: 2, padding: 1)

    public init(type: Kind, channels: [Int], kernel: Int, stride: Int, padding: Int) {
        (self.type, self.channels, self.kernel, self.stride, self.padding) = (type, channels, kernel, stride, padding)
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case type, channels, kernel, stride, padding }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.stringValue))
        type = try c.value(.type, default: .mlp)
        channels = try c.value(.channels, default: type == .conv ? [32, 64, 128] : [])
        kernel = try c.value(.kernel, default: 3)
        stride = try c.value(.stride, default: 2)
        padding = try c.value(.padding, default: 1)
        if type == .mlp && c.contains(.channels) && !channels.isEmpty {
            throw c.invalid(.channels, "applies to type conv; this network is an mlp")
        }
        if type == .conv && channels.isEmpty { throw c.invalid(.channels, "a conv network needs at least one convolution") }
        if channels.contains(where: { $0 < 1 }) { throw c.invalid(.channels, "channel counts must be ≥ 1") }
        if kernel < 1 { throw c.invalid(.kernel, "must be ≥ 1, got \(kernel)") }
        if stride < 1 { throw c.invalid(.stride, "must be ≥ 1, got \(stride)") }
        if padding < 0 || padding >= kernel {
            throw c.invalid(.padding, "must be at least 0 and less than the kernel (\(kernel)), got \(padding)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        if type == .conv {
            try c.encode(channels, forKey: .channels)
            try c.encode(kernel, forKey: .kernel)
            try c.encode(stride, forKey: .stride)
            try c.encode(padding, forKey: .padding)
        }
    }
}
