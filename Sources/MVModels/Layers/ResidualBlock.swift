import MVCore

/// pythae's ResBlock (the ResNet networks of CoVAE's App. D) on a height × width × channels map:
/// y = x + conv1×1(relu(conv3×3(relu(x)))), the 3×3 convolution to `inner` channels and back with the 1×1.
public struct ResidualBlock {
    public let expand: Convolution2D
    public let project: Convolution2D

    public init(_ name: String, height: Int, width: Int, channels: Int, inner: Int, arena: ParameterArena) {
        expand = Convolution2D(
            "\(name).conv0",
            geometry: ConvolutionGeometry(
                height: height, width: width, inChannels: channels, outChannels: inner, kernel: 3, stride: 1, padding: 1),
            arena: arena)
        project = Convolution2D(
            "\(name).conv1",
            geometry: ConvolutionGeometry(
                height: height, width: width, inChannels: inner, outChannels: channels, kernel: 1, stride: 1, padding: 0),
            arena: arena)
    }

    public func callAsFunction(_ x: Var, tape: Tape, arena: ParameterArena) -> Var {
        let h = expand(tape.relu(x), tape: tape, arena: arena, activation: .relu)
        return tape.add(x, project(h, tape: tape, arena: arena))
    }
}
