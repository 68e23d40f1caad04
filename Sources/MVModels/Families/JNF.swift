import Foundation
import MVCore
import MVConfig
import MVData

/// JNF (Senellart et al., "Bridging the inference gap in multimodal variational autoencoders";
/// arXiv:2502.03952; README, "JNF") for K ≥ 2 modalities sharing one latent z ∈ R^d, p(z) = N(0, I).
///
/// - A joint encoder q(z | x₁ … x_K): per-modality feature networks (`encoderHidden`), their outputs
///   concatenated, then an MLP (`jointHidden`) to μ and log σ²; decoders p_k(x_k | z).
/// - Unimodal posteriors q_j(z | x_j): a diagonal Gaussian base N(μ_j(x_j), σ_j²(x_j)) and a masked
///   autoregressive flow f_j (`MaskedAutoregressiveFlow`), log q_j(z | x_j) = log N(f_j(z); μ_j, σ_j²) +
///   log |det ∂f_j/∂z|. The flow does not read x_j: the base carries the conditioning.
/// - JNF-Shared (`variant: shared`): q_j reads g_j(x_j) instead of x_j, projectors trained by deep CCA
///   across the modalities (pairs summed for K > 2) and then frozen.
///
/// Recipe:
/// 1. `joint`: the β-ELBO of all modalities, Σ_k −log p_k(x_k | z) + β KL(q(z|x) ‖ p(z)), z ~ q(z|x).
/// 2. `projectors` (shared only): −Σ_pairs N · (Σρᵢ² − κ‖m‖²) of deep CCA (`DeepCCAObjective`).
/// 3. `unimodal`: the joint model frozen, L_uni = −Σ_j log q_j(z | x_j) with z ~ q(z | x) (one draw), which is
///    Σ_j KL(q(z|x) ‖ q_j(z|x_j)) up to q(z|x)'s entropy, a constant of this stage.
/// Every stage trains on the rows with every modality observed (the joint encoder reads them all);
/// rows with a modality missing contribute nothing. Parameter names start with their group: `joint.`,
/// `projectors.`, `unimodal.`.
public final class JNF: MultiViewModel {
    public let arena: ParameterArena
    public let viewDimensions: [Int]
    public let latent: Int
    public let settings: JNFConfig
    /// The joint encoder's per-modality networks (nil: the raw input is the feature) and its head.
    public let features: [ViewNetwork?]
    public let jointHead: MLP
    public let decoders: [ViewNetwork]
    public let likelihoods: [Likelihood]
    /// JNF-Shared: g_j.
    public let projectors: [ViewNetwork]
    /// q_j's base: input (x_j or g_j(x_j)) → (μ_j, log σ_j²).
    public let unimodalEncoders: [ViewNetwork]
    public let flows: [MaskedAutoregressiveFlow]

    public var modalities: Int { viewDimensions.count }
    public var isShared: Bool { settings.variant == .shared }

    /// The recipe's stages, each training its own group (named like the stage).
    public enum Stage: String { case joint, projectors, unimodal }
    /// Fixed at init: the step reads it, and building `recipe` there would allocate.
    public let stages: [Stage]

    public var recipe: [StageDefinition] {
        stages.map { StageDefinition(name: $0.rawValue, groups: [$0.rawValue], restartsOptimizer: $0 != .joint) }
    }

    /// `images`: each view's image size, for convolutional networks (`model.encoder`/`model.decoder`: the
    /// joint encoder's feature networks, the projectors and the plain variant's unimodal encoders read images).
    public init(config: ModelConfig, dimensions: [Int], images: [ViewShapes.ImageSize]? = nil, seed: UInt64) throws {
        let k = dimensions.count
        guard k >= 2 else {
            throw ConfigError.invalidValue(key: "model.type", message: "jnf needs at least two modalities; the data has \(k)")
        }
        let settings = config.jnf
        let latent = config.latent(view: 0)
        viewDimensions = dimensions
        self.latent = latent
        self.settings = settings
        stages = settings.variant == .shared ? [.joint, .projectors, .unimodal] : [.joint, .unimodal]
        let arena = ParameterArena()
        self.arena = arena
        let act = config.activation
        arena.beginGroup("joint")
        if config.encoder.type != .mlp && config.encoderHidden.isEmpty {
            throw ConfigError.invalidValue(
                key: "model.encoderHidden",
                message: "jnf with conv encoders needs the feature width after the convolutions: give one size at least")
        }
        features = dimensions.enumerated().map { j, d in
            config.encoderHidden.isEmpty
                ? nil
                : ViewNetwork(
                    encoder: "joint.view\(j + 1).features", image: images?[j], inputs: d, hidden: Array(config.encoderHidden.dropLast()),
                    outputs: config.encoderHidden.last!, config: config.encoder.forView(j), activation: act, outputActivation: act,
                    arena: arena)
        }
        let width = zip(features, dimensions).map { $0?.outputs ?? $1 }.reduce(0, +)
        jointHead = MLP("joint.encoder", sizes: [width] + settings.jointHidden + [2 * latent], activation: act, arena: arena)
        decoders = dimensions.enumerated().map { j, d in
            ViewNetwork(
                decoder: "joint.view\(j + 1).decoder", inputs: latent, hidden: config.decoderHidden, image: images?[j], outputs: d,
                config: config.decoder, activation: act, arena: arena)
        }
        likelihoods = dimensions.enumerated().map { j, d in
            Likelihood(
                "joint.view\(j + 1).likelihood", kind: config.likelihood(view: j), features: d, fixedLogScale: config.fixedLogScale,
                categories: config.categories, arena: arena)
        }
        let projected = settings.projectorSize > 0 ? settings.projectorSize : latent
        if settings.variant == .shared {
            arena.beginGroup("projectors")
            projectors = dimensions.enumerated().map { j, d in
                ViewNetwork(
                    encoder: "projectors.view\(j + 1)", image: images?[j], inputs: d, hidden: config.encoderHidden, outputs: projected,
                    config: config.encoder.forView(j), activation: act, arena: arena)
            }
        } else {
            projectors = []
        }
        arena.beginGroup("unimodal")
        unimodalEncoders = dimensions.enumerated().map { j, d in
            ViewNetwork(
                encoder: "unimodal.view\(j + 1).encoder", image: images?[j], inputs: settings.variant == .shared ? projected : d,
                hidden: config.encoderHidden, outputs: 2 * latent, config: settings.variant == .shared ? .mlp : config.encoder.forView(j),
                activation: act, arena: arena)
        }
        flows = (0..<k).map { j in
            MaskedAutoregressiveFlow(
                "unimodal.view\(j + 1).flow", dimension: latent, blocks: settings.flowBlocks, hidden: settings.flowHidden,
                activation: act, arena: arena)
        }
        arena.materialize(seed: seed)
    }

    public func recordsCollectives(stage: Int) -> Bool { stages[stage] == .projectors }

    /// The joint stage's KL is in closed form; the unimodal stage reports none.
    public func klIsExact(stage: Int) -> Bool { stages[stage] == .joint }

    /// κ of the projectors' loss (see `CoVAE.meanPenalty`).
    static let meanPenalty: Float = 1e-2

    // MARK: Pieces

    /// q(z | x₁ … x_K) from every modality's input.
    public func encodeJoint(_ x: UnsafeBufferPointer<Var>, tape: Tape) -> GaussianPosterior {
        var h = features[0].map { $0(x[0], tape: tape, arena: arena) } ?? x[0]
        for j in 1..<modalities { h = tape.concatColumns(h, features[j].map { $0(x[j], tape: tape, arena: arena) } ?? x[j]) }
        let out = jointHead(h, tape: tape, arena: arena)
        return GaussianPosterior(mean: tape.sliceColumns(out, 0, count: latent), logVar: tape.sliceColumns(out, latent, count: latent))
    }

    public func encodeJoint(_ x: [Var], tape: Tape) -> GaussianPosterior {
        x.withUnsafeBufferPointer { encodeJoint($0, tape: tape) }
    }

    /// g_j(x_j) without the last layer's bias: correlations ignore shifts, so that bias would only ever
    /// get rounding noise as its gradient (see `CoVAE.shiftFreeMean`).
    public func project(_ j: Int, _ x: Var, tape: Tape) -> Var {
        let h = projectors[j].featuresBeforeLastLayer(x, tape: tape, arena: arena)
        return tape.matmul(h, tape.parameter(projectors[j].mlp.layers.last!.weight, in: arena))
    }

    /// q_j's Gaussian base: (μ_j, log σ_j²) from x_j (through g_j for JNF-Shared).
    public func unimodalBase(_ j: Int, _ x: Var, tape: Tape) -> GaussianPosterior {
        let input = isShared ? project(j, x, tape: tape) : x
        let out = unimodalEncoders[j](input, tape: tape, arena: arena)
        return GaussianPosterior(mean: tape.sliceColumns(out, 0, count: latent), logVar: tape.sliceColumns(out, latent, count: latent))
    }

    /// log q_j(z | x_j) per row (rows × 1), given its base: log N(f_j(z); μ_j, σ_j²) + log |det ∂f_j/∂z|.
    public func unimodalLogDensity(_ j: Int, _ z: Var, base: GaussianPosterior, tape: Tape) -> Var {
        let (u, logDet) = flows[j].forward(z, tape: tape, arena: arena)
        return tape.add(tape.logDensity(u, base), logDet)
    }

    public func decode(_ j: Int, _ z: Var, tape: Tape) -> Var { decoders[j](z, tape: tape, arena: arena) }

    // MARK: Losses

    public func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64, stage: Int) throws -> LossTerms {
        let b = batch.rows, k = modalities
        // A buffer on the stack, not an array: the steady-state step must not allocate.
        return try withUnsafeTemporaryAllocation(of: Var.self, capacity: k) { x in
            for j in 0..<k {
                x[j] = tape.input(rows: b, cols: viewDimensions[j]) { $0.update(from: batch.views[j], count: b * viewDimensions[j]) }
            }
            let inputs = UnsafeBufferPointer(x), complete = completeRows(batch, tape: tape)
            switch stages[stage] {
            case .joint: return jointLoss(inputs, complete: complete, batch: batch, beta: beta, seed: seed, tape: tape)
            case .projectors: return try projectorLoss(inputs, complete: complete, tape: tape)
            case .unimodal: return unimodalLoss(inputs, complete: complete, batch: batch, seed: seed, tape: tape)
            }
        }
    }

    /// 1 for the rows with every modality observed (rows × 1); nil without a mask.
    func completeRows(_ batch: Batch, tape: Tape) -> Var? {
        guard batch.mask != nil else { return nil }
        return tape.input(rows: batch.rows, cols: 1) { p in
            for r in 0..<batch.rows { p[r] = (0..<modalities).allSatisfy { batch.observed(r, view: $0) } ? 1 : 0 }
        }
    }

    func weighted(_ v: Var, _ w: Var?, tape: Tape) -> Var { w.map { tape.mul(v, $0) } ?? v }

    /// Stage `joint`: Σ_k −log p_k(x_k | z) + β KL(q(z|x) ‖ N(0, I)) per row.
    func jointLoss(_ x: UnsafeBufferPointer<Var>, complete: Var?, batch: Batch, beta: Float, seed: UInt64, tape: Tape) -> LossTerms {
        let q = encodeJoint(x, tape: tape)
        let eps = tape.input(rows: batch.rows, cols: latent) { batch.fillNoise($0, view: 0, width: latent, seed: seed) }
        let z = tape.reparameterize(mean: q.mean, logVar: q.logVar, noise: eps)
        var nll = likelihoods[0].negativeLogLikelihood(output: decode(0, z, tape: tape), target: x[0], tape: tape, arena: arena)
        for j in 1..<modalities {
            nll = tape.add(
                nll, likelihoods[j].negativeLogLikelihood(output: decode(j, z, tape: tape), target: x[j], tape: tape, arena: arena))
        }
        let reconstruction = tape.sum(weighted(nll, complete, tape: tape))
        let kl = tape.sum(weighted(tape.standardNormalKL(q), complete, tape: tape))
        return LossTerms(total: tape.add(reconstruction, tape.scale(kl, beta)), reconstruction: reconstruction, kl: kl)
    }

    /// Stage `projectors` (JNF-Shared): deep CCA of g_i(x_i), g_j(x_j) summed over the pairs (`PairwiseCorrelationLoss`).
    func projectorLoss(_ x: UnsafeBufferPointer<Var>, complete: Var?, tape: Tape) throws -> LossTerms {
        try withUnsafeTemporaryAllocation(of: Var.self, capacity: modalities) { g in
            for j in 0..<modalities { g[j] = project(j, x[j], tape: tape) }
            return try PairwiseCorrelationLoss.loss(modalities: modalities, meanPenalty: Self.meanPenalty, tape: tape) { i, j in
                try DeepCCAObjective.squaredCorrelations(
                    g[i], g[j], regularization: settings.ccaRegularization, weights: complete, tape: tape)
            }
        }
    }

    /// Stage `unimodal`: −Σ_j log q_j(z | x_j) per row with z ~ q(z | x) from the frozen joint encoder
    /// (reported as the reconstruction term; the KL column is 0).
    func unimodalLoss(_ x: UnsafeBufferPointer<Var>, complete: Var?, batch: Batch, seed: UInt64, tape: Tape) -> LossTerms {
        let q = encodeJoint(x, tape: tape)
        let eps = tape.input(rows: batch.rows, cols: latent) { batch.fillNoise($0, view: 1, width: latent, seed: seed) }
        let z = tape.reparameterize(mean: q.mean, logVar: q.logVar, noise: eps)
        var logq = unimodalLogDensity(0, z, base: unimodalBase(0, x[0], tape: tape), tape: tape)
        for j in 1..<modalities { logq = tape.add(logq, unimodalLogDensity(j, z, base: unimodalBase(j, x[j], tape: tape), tape: tape)) }
        let total = tape.neg(tape.sum(weighted(logq, complete, tape: tape)))
        return LossTerms(total: total, reconstruction: total, kl: tape.scalar(0))
    }
}
