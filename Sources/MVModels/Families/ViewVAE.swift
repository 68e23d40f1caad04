import MVCore
import MVConfig
import MVData

/// One view's encoder, decoder and observation model: q(z|x) = N(μ(x), diag e^{logVar(x)}),
/// p(x|z) from `likelihood` applied to the decoder's output.
public struct ViewVAE {
    public let name: String
    public let inputs: Int
    public let latent: Int
    /// x → [μ, log σ²] (2·latent outputs).
    public let encoder: ViewNetwork
    /// z → likelihood parameters (logits or means), `inputs` outputs.
    public let decoder: ViewNetwork
    public let likelihood: Likelihood

    public init(
        _ name: String, inputs: Int, image: ViewShapes.ImageSize? = nil, latent: Int, encoderHidden: [Int], decoderHidden: [Int],
        encoder encoderConfig: NetworkConfig = .mlp, decoder decoderConfig: NetworkConfig = .mlp, activation: Activation,
        likelihood kind: ModelConfig.Likelihood, fixedLogScale: Float?, categories: Int = 0, arena: ParameterArena
    ) {
        self.name = name
        self.inputs = inputs
        self.latent = latent
        encoder = ViewNetwork(
            encoder: "\(name).encoder", image: image, inputs: inputs, hidden: encoderHidden, outputs: 2 * latent, config: encoderConfig,
            activation: activation, arena: arena)
        decoder = ViewNetwork(
            decoder: "\(name).decoder", inputs: latent, hidden: decoderHidden, image: image, outputs: inputs, config: decoderConfig,
            activation: activation, arena: arena)
        likelihood = Likelihood(
            "\(name).likelihood", kind: kind, features: inputs, fixedLogScale: fixedLogScale, categories: categories,
            arena: arena)
    }

    /// (μ, log σ²), each rows × latent.
    public func encode(_ x: Var, tape: Tape, arena: ParameterArena) -> (mean: Var, logVar: Var) {
        let h = encoder(x, tape: tape, arena: arena)
        return (tape.sliceColumns(h, 0, count: latent), tape.sliceColumns(h, latent, count: latent))
    }

    /// z = μ + σ ⊙ ε (the reparameterisation trick), ε given.
    public func sample(mean: Var, logVar: Var, noise: Var, tape: Tape) -> Var {
        tape.reparameterize(mean: mean, logVar: logVar, noise: noise)
    }

    /// Decoder output (likelihood parameters) for latent z.
    public func decode(_ z: Var, tape: Tape, arena: ParameterArena) -> Var {
        decoder(z, tape: tape, arena: arena)
    }
}
