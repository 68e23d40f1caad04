import MVCore

/// The model: its type, the per-view networks every model has, and one typed section per model type.
///
/// The YAML is flat under `model:` (`{type: aggregated, latent: 8, aggregator: moe}`); each section
/// decodes and checks its own keys. A key of another type's section is an error when it is set to
/// anything but its default (a checkpoint written before the sections existed holds every key at its
/// default), and only the model's own section is written back.
public struct ModelConfig: Codable, Equatable {
    /// `stagedProbe`: a two-stage test model of the trainer's recipes (see `StagedProbe`).
    public enum Kind: String, ConfigChoice, Equatable { case jpvae, aggregated, covae, jnf, stagedProbe }
    public enum Likelihood: String, ConfigChoice, Equatable {
        case bernoulli, gaussian, laplace, categorical
        /// Counts with mean ℓ·softmax(decoder output), ℓ the row's observed total (scVI's parameterisation).
        case poisson, negativeBinomial, zeroInflatedNegativeBinomial
        public var isCount: Bool { self == .poisson || self == .negativeBinomial || self == .zeroInflatedNegativeBinomial }
        /// Learns a dispersion θ per feature.
        public var hasDispersion: Bool { self == .negativeBinomial || self == .zeroInflatedNegativeBinomial }
    }

    public var type: Kind
    /// Latent size per view (one value applies to every view).
    public var latent: [Int]
    public var encoderHidden: [Int]
    public var decoderHidden: [Int]
    public var activation: Activation
    /// Every view's encoder and decoder: dense layers only, or convolutions on the image side (`NetworkConfig`).
    public var encoder: NetworkConfig
    public var decoder: NetworkConfig
    /// Per view (one value applies to every view). Bernoulli takes logits for data in [0, 1].
    public var likelihood: [Likelihood]
    /// Gaussian/Laplace: a fixed log-scale for every feature; absent learns one per feature.
    public var fixedLogScale: Float?
    /// Categorical views: classes per token, the view one-hot blocks of this width (a label: one block; a
    /// text of T tokens: T blocks); 0 reads the whole view as one block.
    public var categories: Int
    /// jpvae's keys (defaults for other types).
    public var jpvae: JPVAEConfig
    /// aggregated's keys (defaults for other types).
    public var aggregated: AggregatedConfig
    /// covae's keys (defaults for other types).
    public var covae: CoVAEConfig
    /// jnf's keys (defaults for other types).
    public var jnf: JNFConfig

    enum CodingKeys: String, CodingKey, CaseIterable {
        case type, latent, encoderHidden, decoderHidden, activation, encoder, decoder, likelihood, fixedLogScale, categories
    }

    /// The keys of each type's own section.
    static func sectionKeys(_ type: Kind) -> [String] {
        switch type {
        case .jpvae: return JPVAEConfig.CodingKeys.allCases.map(\.stringValue)
        case .aggregated: return AggregatedConfig.CodingKeys.allCases.map(\.stringValue)
        case .covae: return CoVAEConfig.CodingKeys.allCases.map(\.stringValue)
        case .jnf: return JNFConfig.CodingKeys.allCases.map(\.stringValue)
        case .stagedProbe: return []
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard c.contains(.type) else { throw ConfigError.missingKey(key: keyPath(c.codingPath, "type")) }
        type = try c.decode(Kind.self, forKey: .type)
        try decoder.rejectUnknownKeys(CodingKeys.allCases.map(\.stringValue) + Kind.allCases.flatMap(Self.sectionKeys))
        latent = try c.decodeOneOrMany(Int.self, .latent, default: [20])
        encoderHidden = try c.value(.encoderHidden, default: [512, 512])
        decoderHidden = try c.value(.decoderHidden, default: [512, 512])
        activation = try c.value(.activation, default: .relu)
        self.encoder = try c.value(.encoder, default: .mlp)
        self.decoder = try c.value(.decoder, default: .mlp)
        if self.decoder.input != [.none] { throw c.invalid(.decoder, "input applies to model.encoder (what the encoders read)") }
        likelihood = try c.decodeOneOrMany(Likelihood.self, .likelihood, default: [.bernoulli])
        fixedLogScale = try c.decodeIfPresent(Float.self, forKey: .fixedLogScale)
        if let s = fixedLogScale, !s.isFinite { throw c.invalid(.fixedLogScale, "must be a finite number, got \(s)") }
        categories = try c.value(.categories, default: 0)
        if categories < 0 || categories == 1 { throw c.invalid(.categories, "classes per token must be 0 (the whole view) or ≥ 2") }
        if categories > 0 && !likelihood.contains(.categorical) {
            throw c.invalid(.categories, "applies to views with model.likelihood categorical; none has it")
        }
        if latent.isEmpty || latent.contains(where: { $0 < 1 }) { throw c.invalid(.latent, "latent sizes must be ≥ 1") }
        if encoderHidden.contains(where: { $0 < 1 }) { throw c.invalid(.encoderHidden, "layer sizes must be ≥ 1") }
        if decoderHidden.contains(where: { $0 < 1 }) { throw c.invalid(.decoderHidden, "layer sizes must be ≥ 1") }
        if type != .jpvae && type != .covae && latent.count != 1 {
            throw c.invalid(
                .latent,
                "\(type == .stagedProbe ? "stagedProbe has one feature width" : "\(type.rawValue) has one shared latent"): give a "
                    + "single size"
            )
        }
        // The model's own section is decoded strictly; another type's only to see whether its keys
        // (those the model's own section does not share) were set to anything but their defaults.
        let own = type
        func section<T: Decodable & Equatable>(_ kind: Kind, _: T.Type) throws -> T {
            let defaults = try decodeDefaults(T.self)
            if kind == own { return try T(from: decoder) }
            let present = try decoder.container(keyedBy: AnyCodingKey.self).allKeys.map(\.stringValue)
            let misplaced = Self.sectionKeys(kind).filter { present.contains($0) && !Self.sectionKeys(own).contains($0) }
            if !misplaced.isEmpty && (try? T(from: decoder)) != defaults {
                throw ConfigError.invalidValue(
                    key: keyPath(c.codingPath, misplaced[0]),
                    message: "\(misplaced.joined(separator: ", ")) apply to model.type \(kind.rawValue) only; this model is \(own.rawValue)"
                )
            }
            return defaults
        }
        jpvae = try section(.jpvae, JPVAEConfig.self)
        aggregated = try section(.aggregated, AggregatedConfig.self)
        covae = try section(.covae, CoVAEConfig.self)
        jnf = try section(.jnf, JNFConfig.self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(type, forKey: .type)
        try c.encode(latent, forKey: .latent)
        try c.encode(encoderHidden, forKey: .encoderHidden)
        try c.encode(decoderHidden, forKey: .decoderHidden)
        try c.encode(activation, forKey: .activation)
        // Written only when set, so that configs (and checkpoints) of dense networks read as before.
        if self.encoder != .mlp { try c.encode(self.encoder, forKey: .encoder) }
        if self.decoder != .mlp { try c.encode(self.decoder, forKey: .decoder) }
        try c.encode(likelihood, forKey: .likelihood)
        try c.encodeIfPresent(fixedLogScale, forKey: .fixedLogScale)
        if categories > 0 { try c.encode(categories, forKey: .categories) }
        switch type {
        case .jpvae: try jpvae.encode(to: encoder)
        case .aggregated: try aggregated.encode(to: encoder)
        case .covae: try covae.encode(to: encoder)
        case .jnf: try jnf.encode(to: encoder)
        case .stagedProbe: break
        }
    }

    /// The latent size of view k.
    public func latent(view k: Int) -> Int { latent.count == 1 ? latent[0] : latent[k] }
    public func likelihood(view k: Int) -> Likelihood { likelihood.count == 1 ? likelihood[0] : likelihood[k] }
}

/// `model.type: jpvae`: the joint prior.
public struct JPVAEConfig: Codable, Equatable {
    public var prior: PriorConfig

    enum CodingKeys: String, CodingKey, CaseIterable { case prior }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        prior = try c.value(.prior, default: try decodeDefaults(PriorConfig.self))
    }
}

/// `model.type: aggregated`: how q(z | x_S) is formed, and the training bound.
public struct AggregatedConfig: Codable, Equatable {
    public enum AggregatorKind: String, ConfigChoice, Equatable { case poe, moe, mopoe, sumPooling, selfAttention }
    public var aggregator: AggregatorKind
    public var bound: AggregatedBound
    /// Width of each modality's feature vector h_s, of the sum-pooled representation, and the hidden
    /// layers of the aggregator's networks.
    public var featureSize: Int
    public var poolingSize: Int
    public var aggregatorHidden: [Int]
    /// Learnt aggregators: 1 = a Gaussian q(z | x_S); C ≥ 2 = a mixture of C Gaussians with learnt
    /// weights (the paper's mixture variants of SumPooling and SelfAttention).
    public var mixtureComponents: Int
    /// Size of each modality's private latent (paper §3.2); 0 = shared latent only.
    public var privateLatent: Int
    /// selfAttention: attention heads per block (poolingSize must be divisible by it) and the number
    /// of pre-layer-norm attention blocks.
    public var attentionHeads: Int
    public var attentionBlocks: Int
    /// How a bound's expectation under a mixture posterior is estimated (`MixtureSamplingChoice`);
    /// by default `onePerRow` for MoE and MoPoE, `everyComponent` for the learnt mixture heads.
    public var mixtureSampling: MixtureSamplingChoice

    enum CodingKeys: String, CodingKey, CaseIterable {
        case aggregator, bound, featureSize, poolingSize, aggregatorHidden, mixtureComponents, privateLatent
        case attentionHeads, attentionBlocks, mixtureSampling
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        aggregator = try c.value(.aggregator, default: .poe)
        bound = try c.value(.bound, default: .masked)
        featureSize = try c.value(.featureSize, default: 256)
        poolingSize = try c.value(.poolingSize, default: 256)
        aggregatorHidden = try c.value(.aggregatorHidden, default: [256])
        mixtureComponents = try c.value(.mixtureComponents, default: 1)
        privateLatent = try c.value(.privateLatent, default: 0)
        attentionHeads = try c.value(.attentionHeads, default: 4)
        attentionBlocks = try c.value(.attentionBlocks, default: 2)
        // onePerRow reached a given test log-likelihood sooner for MoE and MoPoE (BENCHMARKS.md); the
        // learnt mixture heads keep decoding every component until that is measured for them.
        mixtureSampling = try c.value(.mixtureSampling, default: [.moe, .mopoe].contains(aggregator) ? .onePerRow : .everyComponent)
        if featureSize < 1 { throw c.invalid(.featureSize, "must be ≥ 1") }
        if poolingSize < 1 { throw c.invalid(.poolingSize, "must be ≥ 1") }
        if aggregatorHidden.contains(where: { $0 < 1 }) { throw c.invalid(.aggregatorHidden, "layer sizes must be ≥ 1") }
        if privateLatent < 0 { throw c.invalid(.privateLatent, "must be ≥ 0 (0 = no private latents)") }
        if mixtureComponents < 1 { throw c.invalid(.mixtureComponents, "must be ≥ 1 (1 = a single Gaussian)") }
        if mixtureComponents > 1 && [.poe, .moe, .mopoe].contains(aggregator) {
            throw c.invalid(
                .mixtureComponents,
                "applies to learnt aggregators (sumPooling, selfAttention); \(aggregator.rawValue) fixes its own components")
        }
        if attentionHeads < 1 { throw c.invalid(.attentionHeads, "must be ≥ 1") }
        if attentionBlocks < 1 { throw c.invalid(.attentionBlocks, "must be ≥ 1") }
        if aggregator == .selfAttention && poolingSize % attentionHeads != 0 {
            throw c.invalid(
                .attentionHeads,
                "selfAttention splits poolingSize = \(poolingSize) into \(attentionHeads) heads of equal size: poolingSize must "
                    + "be divisible by attentionHeads"
            )
        }
    }
}

/// `model.type: covae` (the CoVAE paper, §2.2 and Algorithm 1).
public struct CoVAEConfig: Codable, Equatable {
    public enum PriorCorrelations: String, ConfigChoice, Equatable {
        /// Deep-CCA pre-training sets the cross block to the canonical correlations, then it is frozen.
        case canonical
        /// The same start, then the cross block keeps training (App. B's comparison).
        case learnt
    }
    /// How the prior's cross block is found (its own key: JPVAE's `prior` is a mapping).
    public var priorCorrelations: PriorCorrelations
    /// λ, the weight of the conditional losses (the paper does not state it: 1).
    public var lambda: Float
    /// ε of Σ_joint = L Lᵀ + εI.
    public var jitter: Float
    /// Hidden layers of the joint encoder over all modalities.
    public var jointHidden: [Int]
    /// r of deep CCA's regularised covariances C_kk + rI.
    public var ccaRegularization: Float
    /// Pre-training's objective for each pair of modalities: deep CCA's Σρᵢ², or their distance correlation.
    public enum Pretraining: String, ConfigChoice, Equatable { case cca, distanceCorrelation }
    public var pretraining: Pretraining

    enum CodingKeys: String, CodingKey, CaseIterable { case priorCorrelations, lambda, jitter, jointHidden, ccaRegularization, pretraining }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        priorCorrelations = try c.value(.priorCorrelations, default: .canonical)
        lambda = try c.value(.lambda, default: 1)
        jitter = try c.value(.jitter, default: 1e-3)
        jointHidden = try c.value(.jointHidden, default: [512, 512])
        ccaRegularization = try c.value(.ccaRegularization, default: 1e-3)
        pretraining = try c.value(.pretraining, default: .cca)
        if !(lambda >= 0 && lambda.isFinite) { throw c.invalid(.lambda, "must be a finite number ≥ 0") }
        if !(jitter > 0 && jitter.isFinite) { throw c.invalid(.jitter, "must be a finite number > 0") }
        if jointHidden.contains(where: { $0 < 1 }) { throw c.invalid(.jointHidden, "layer sizes must be ≥ 1") }
        if !(ccaRegularization > 0 && ccaRegularization.isFinite) {
            throw c.invalid(.ccaRegularization, "must be a finite number > 0 (it keeps the covariances invertible on small batches)")
        }
    }
}

/// `model.type: jnf` (JNF, Senellart et al., "Bridging the inference gap in multimodal variational
/// autoencoders", arXiv:2502.03952; README, "JNF").
public struct JNFConfig: Codable, Equatable {
    /// plain: q_j reads x_j; shared (JNF-Shared): q_j reads g_j(x_j), projectors trained by deep CCA first.
    public enum Variant: String, ConfigChoice, Equatable { case plain, shared }
    public var variant: Variant
    /// Hidden layers of the joint encoder after the modalities' features are concatenated.
    public var jointHidden: [Int]
    /// MADE blocks of each unimodal flow, and each block's hidden layers.
    public var flowBlocks: Int
    public var flowHidden: [Int]
    /// Subsets of 2 … K−1 modalities: Hamiltonian Monte Carlo steps, leapfrog steps per step, step size.
    public var hmcSteps: Int
    public var leapfrogSteps: Int
    public var hmcStepSize: Float
    /// shared: the width of g_j(x_j) (0: the latent size), and r of deep CCA's covariances C + rI.
    public var projectorSize: Int
    public var ccaRegularization: Float

    enum CodingKeys: String, CodingKey, CaseIterable {
        case variant, jointHidden, flowBlocks, flowHidden, hmcSteps, leapfrogSteps, hmcStepSize, projectorSize, ccaRegularization
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        variant = try c.value(.variant, default: .plain)
        jointHidden = try c.value(.jointHidden, default: [512])
        flowBlocks = try c.value(.flowBlocks, default: 2)
        flowHidden = try c.value(.flowHidden, default: [128, 128, 128])
        hmcSteps = try c.value(.hmcSteps, default: 100)
        leapfrogSteps = try c.value(.leapfrogSteps, default: 10)
        hmcStepSize = try c.value(.hmcStepSize, default: 0.01)
        projectorSize = try c.value(.projectorSize, default: 0)
        ccaRegularization = try c.value(.ccaRegularization, default: 1e-3)
        if jointHidden.contains(where: { $0 < 1 }) { throw c.invalid(.jointHidden, "layer sizes must be ≥ 1") }
        if flowBlocks < 1 { throw c.invalid(.flowBlocks, "must be ≥ 1") }
        if flowHidden.isEmpty || flowHidden.contains(where: { $0 < 1 }) {
            throw c.invalid(.flowHidden, "needs at least one hidden layer, sizes ≥ 1")
        }
        if hmcSteps < 1 { throw c.invalid(.hmcSteps, "must be ≥ 1") }
        if leapfrogSteps < 1 { throw c.invalid(.leapfrogSteps, "must be ≥ 1") }
        if !(hmcStepSize > 0 && hmcStepSize.isFinite) { throw c.invalid(.hmcStepSize, "must be a finite number > 0") }
        if projectorSize < 0 { throw c.invalid(.projectorSize, "must be ≥ 0 (0 = the latent size)") }
        if !(ccaRegularization > 0 && ccaRegularization.isFinite) { throw c.invalid(.ccaRegularization, "must be a finite number > 0") }
    }
}

/// JPVAE's joint prior: how the cross-covariance C is parameterised.
public struct PriorConfig: Codable, Equatable {
    public enum Cross: String, ConfigChoice, Equatable { case zero, bounded, scaledOrthogonal }
    public var cross: Cross
    /// scaledOrthogonal: C = α·C̃ with |α| < 1.
    public var alpha: Float
    /// scaledOrthogonal: learn α (as tanh of a free parameter) instead of fixing it.
    public var learnAlpha: Bool
    /// Cayley map: number of −1 entries in the sign matrix J (fixed; see README on why it is not learnt).
    public var negativeSigns: Int

    enum CodingKeys: String, CodingKey, CaseIterable { case cross, alpha, learnAlpha, negativeSigns }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cross = try c.value(.cross, default: .scaledOrthogonal)
        alpha = try c.value(.alpha, default: 0.9)
        learnAlpha = try c.value(.learnAlpha, default: false)
        negativeSigns = try c.value(.negativeSigns, default: 0)
        if !(abs(alpha) < 1) { throw c.invalid(.alpha, "|alpha| must be < 1 for a valid prior covariance, got \(alpha)") }
        if negativeSigns < 0 { throw c.invalid(.negativeSigns, "must be ≥ 0") }
    }
}

extension KeyedDecodingContainer {
    /// A scalar or a list of scalars.
    func decodeOneOrMany<T: Decodable>(_: T.Type, _ key: Key, default fallback: [T]) throws -> [T] {
        guard contains(key) else { return fallback }
        if let one = try? decode(T.self, forKey: key) { return [one] }
        if let many = try? decode([T].self, forKey: key) { return many }
        // Neither form: say what is allowed (an enum's cases) rather than "expected Sequence".
        let allowed = (T.self as? any CaseIterable.Type).map { t in
            (t.allCases as any Collection).map { "\(($0 as? any RawRepresentable)?.rawValue ?? $0)" }.joined(separator: ", ")
        }
        throw ConfigError.invalidValue(
            key: keyPath(codingPath, key.stringValue),
            message: "expected one value or a list of one per view" + (allowed.map { " from: \($0)" } ?? ""))
    }
}

/// The aggregated model's training bound (`model.bound`; `AggregatedVAE.Bound`, one file each under Objectives/).
public enum AggregatedBound: String, ConfigChoice, Equatable { case masked, mixture, elbo }

/// How a term's expectation under a mixture posterior is estimated (`model.mixtureSampling`):
/// `everyComponent` decodes a draw of every component for every row, weighted by w_c;
/// `onePerRow` decodes one draw per row from one component (`OneComponentPerRow.swift`).
public enum MixtureSamplingChoice: String, ConfigChoice, Equatable { case everyComponent, onePerRow }
