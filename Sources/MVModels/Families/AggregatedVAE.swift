import MVCore
import MVConfig
import MVData

// `@exclusivity(unchecked)` on the properties the step touches: README, "The training step and the exchange".

/// A multimodal VAE with one shared latent z ~ N(0, I) and an aggregator that turns the features of
/// any subset of modalities into q(z | x_S), after the permutation-invariant aggregation paper (*Learning
/// multi-modal generative models with permutation-invariant encoders and tighter variational bounds*;
/// README, 'Aggregated multimodal VAE'), whose sections and equations the comments here cite.
///
/// Per row, with M the observed modalities, the loss is the negative of one bound, each in its own
/// file under Objectives/:
/// - `masked`:  L(x_S) + L(x_{M∖S} | x_S) for a random S ⊆ M (§2, Eqs. 3 and 4; MaskedBound.swift);
/// - `mixture`: the mixture-based bound (Eq. 1), the mean over s ∈ M of the unimodal terms (MixtureBound.swift);
/// - `elbo`:    the ELBO of all observed modalities, L(x_M) (Eq. 3 with S = M; ELBOBound.swift).
/// Every KL carries the weight β.
/// With private latents (`privateLatent` > 0) decoder s also reads z̃_s ~ q(z̃_s | x_s), inferred for every
/// observed modality once per step with KL(q(z̃_s|x_s) ‖ p) counted once per observed s (App. E); in the
/// mixture bound's term for s, the other modalities' private latents come from the prior.
/// Gaussian aggregators give every KL in closed form; mixtures (MoE, MoPoE, mixture heads) sample
/// each component once and estimate the KL terms by Monte Carlo with sticking-the-landing gradients.
public final class AggregatedVAE: SingleStageModel {
    /// The training bound (`model.bound`): masked, mixture or elbo; one file each under Objectives/.
    public typealias Bound = AggregatedBound
    /// How a term's expectation under a mixture posterior is estimated (`model.mixtureSampling`).
    public typealias MixtureSampling = MixtureSamplingChoice

    public let arena: ParameterArena
    public let encoders: [ViewNetwork]
    public let decoders: [ViewNetwork]
    public let likelihoods: [Likelihood]
    public let aggregator: Aggregator
    public let bound: Bound
    public let mixtureSampling: MixtureSampling
    public let latent: Int
    public let privateLatents: PrivateLatents?
    public let viewDimensions: [Int]

    /// `images`: each view's image size, for convolutional networks (`model.encoder`/`model.decoder`).
    public init(config: ModelConfig, dimensions: [Int], images: [ViewShapes.ImageSize]? = nil, seed: UInt64) {
        let arena = ParameterArena()
        let k = dimensions.count
        let latent = config.latent(view: 0)
        let features = config.aggregated.featureSize
        encoders = (0..<k).map {
            ViewNetwork(
                encoder: "view\($0 + 1).encoder", image: images?[$0], inputs: dimensions[$0], hidden: config.encoderHidden,
                outputs: features, config: config.encoder.forView($0), activation: config.activation, outputActivation: config.activation,
                arena: arena)
        }
        decoders = (0..<k).map {
            ViewNetwork(
                decoder: "view\($0 + 1).decoder", inputs: latent + config.aggregated.privateLatent, hidden: config.decoderHidden,
                image: images?[$0], outputs: dimensions[$0], config: config.decoder, activation: config.activation, arena: arena)
        }
        likelihoods = (0..<k).map {
            Likelihood(
                "view\($0 + 1).likelihood", kind: config.likelihood(view: $0), features: dimensions[$0],
                fixedLogScale: config.fixedLogScale, categories: config.categories, arena: arena)
        }
        switch config.aggregated.aggregator {
        case .poe:
            aggregator = ProductOfExperts("aggregator", features: features, latent: latent, modalities: k, arena: arena)
        case .moe:
            aggregator = MixtureOfExperts("aggregator", features: features, latent: latent, modalities: k, arena: arena)
        case .mopoe:
            aggregator = MixtureOfProductsOfExperts("aggregator", features: features, latent: latent, modalities: k, arena: arena)
        case .sumPooling:
            aggregator = SumPooling(
                "aggregator", features: features, latent: latent, modalities: k, hidden: config.aggregated.aggregatorHidden,
                pooling: config.aggregated.poolingSize, components: config.aggregated.mixtureComponents, activation: config.activation,
                arena: arena)
        case .selfAttention:
            aggregator = SelfAttention(
                "aggregator", features: features, latent: latent, modalities: k, hidden: config.aggregated.aggregatorHidden,
                width: config.aggregated.poolingSize, heads: config.aggregated.attentionHeads, blocks: config.aggregated.attentionBlocks,
                components: config.aggregated.mixtureComponents, activation: config.activation, arena: arena)
        }
        privateLatents =
            config.aggregated.privateLatent > 0
            ? PrivateLatents("view", features: features, size: config.aggregated.privateLatent, modalities: k, arena: arena) : nil
        bound = config.aggregated.bound
        mixtureSampling = config.aggregated.mixtureSampling
        self.latent = latent
        viewDimensions = dimensions
        arena.materialize(seed: seed)
        self.arena = arena
    }

    /// h_s = f_s(x_s) for every modality.
    public func features(_ x: [Var], tape: Tape) -> [Var] {
        tape.array(count: encoders.count) { s in encoders[s](x[s], tape: tape, arena: arena) }
    }

    /// −log p(x_s | z, z̃_s) per row (rows × 1); `privateSample` is z̃_s when the model has private latents.
    package func nll(_ s: Int, z: Var, privateSample: Var?, x: Var, tape: Tape) -> Var {
        let input = privateSample.map { tape.concatColumns(z, $0) } ?? z
        return likelihoods[s].negativeLogLikelihood(
            output: decoders[s](input, tape: tape, arena: arena), target: x, tape: tape, arena: arena)
    }

    /// z = μ + σ ε with ε from sub-sequence `draw` of each row's noise stream.
    func sample(_ q: GaussianPosterior, draw: Int, batch: Batch, seed: UInt64, tape: Tape) -> Var {
        let width = tape.cols(q.mean)
        let eps = tape.input(rows: batch.rows, cols: width) { batch.fillNoise($0, view: draw, width: width, seed: seed) }
        return tape.reparameterize(mean: q.mean, logVar: q.logVar, noise: eps)
    }

    /// A draw from the prior N(0, I) of a private latent.
    func priorSample(width: Int, draw: Int, batch: Batch, seed: UInt64, tape: Tape) -> Var {
        tape.input(rows: batch.rows, cols: width) { batch.fillNoise($0, view: draw, width: width, seed: seed) }
    }

    public func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64) throws -> LossTerms {
        let b = batch.rows, k = viewDimensions.count
        let x = tape.array(count: k) { s in
            tape.input(rows: b, cols: viewDimensions[s]) { $0.update(from: batch.views[s], count: b * viewDimensions[s]) }
        }
        let observed = tape.input(rows: b, cols: k) { p in
            for r in 0..<b { for s in 0..<k { p[r * k + s] = batch.observed(r, view: s) ? 1 : 0 } }
        }
        let h = features(x, tape: tape)
        // q(z | x_M) given every observed modality (the mixture bound uses unimodal posteriors only).
        let qM = bound == .mixture ? nil : aggregator.distribution(features: h, mask: observed, tape: tape, arena: arena)
        let draw = Draw(batch: batch, seed: seed)
        // Private latents: one draw per modality from q(z̃_s | x_s), and the private KL per modality.
        var privates: [Var]?, privateKL: Var?
        if let privateLatents {
            let privateQ = tape.array(count: k) { s in privateLatents.posterior(s, features: h[s], tape: tape, arena: arena) }
            privates = tape.array(count: k) { s in
                sample(privateQ[s], draw: PrivateLatents.posteriorStream(s), batch: batch, seed: seed, tape: tape)
            }
            var kl = tape.standardNormalKL(privateQ[0])
            for q in privateQ.dropFirst() { kl = tape.concatColumns(kl, tape.standardNormalKL(q)) }
            privateKL = kl
        }
        let inputs = BoundInputs(
            x: x, observed: observed, features: h, jointPosterior: qM, privates: privates, privateKL: privateKL, draw: draw)
        let reconstruction: Var, kl: Var
        switch bound {
        case .masked: (reconstruction, kl) = maskedBound(inputs, tape: tape)
        case .mixture: (reconstruction, kl) = mixtureBound(inputs, tape: tape)
        case .elbo: (reconstruction, kl) = elboBound(inputs, tape: tape)
        }
        let reconstructionSum = tape.sum(reconstruction), klSum = tape.sum(kl)
        return LossTerms(total: tape.add(reconstructionSum, tape.scale(klSum, beta)), reconstruction: reconstructionSum, kl: klSum)
    }

    /// What every bound reads in one step, all recorded on the tape before the bound's own terms.
    struct BoundInputs {
        /// x_s per modality, rows × d_s.
        let x: [Var]
        /// rows × K, 1 where modality s is observed (s ∈ M).
        let observed: Var
        /// h_s = f_s(x_s) per modality.
        let features: [Var]
        /// q(z | x_M); nil for the mixture bound, which needs only the unimodal posteriors.
        let jointPosterior: PosteriorMixture?
        /// z̃_s ~ q(z̃_s | x_s) per modality, with private latents.
        let privates: [Var]?
        /// KL(q(z̃_s | x_s) ‖ N(0, I)) per row (rows × K), with private latents.
        let privateKL: Var?
        let draw: Draw
        var batch: Batch { draw.batch }
        var seed: UInt64 { draw.seed }
    }

    /// Where a term's noise comes from: the batch's per-row streams under the run's seed.
    struct Draw {
        let batch: Batch
        let seed: UInt64
        /// Noise sub-stream of component c of the term in `slot` (component 0 keeps the slot's own number).
        func stream(slot: Int, component c: Int) -> Int { slot + 1024 * c }
    }

    /// E_q[Σ_s w_s (−log p(x_s | z))] and KL(q ‖ p) per row (p = N(0, I) when `against` is nil).
    /// Gaussians on both sides: one reparameterised sample and the closed-form KL. Otherwise each
    /// component c of q is sampled once (stratified), both terms are weighted by w_c, and the KL is the
    /// Monte-Carlo log q(z_c) − log p(z_c) with q's parameters detached (sticking the landing).
    /// A component absent from every row (the other experts of a unimodal MoE posterior) is skipped.
    func term(
        _ q: PosteriorMixture, slot: Int, x: [Var], privates: [Var]? = nil, weights: Var, against p: PosteriorMixture?,
        draw: Draw, tape: Tape
    ) -> (reconstruction: Var, kl: Var) {
        if q.isGaussian && (p?.isGaussian ?? true) {
            let z = sample(q.gaussian, draw: slot, batch: draw.batch, seed: draw.seed, tape: tape)
            let kl = p.map { tape.gaussianKL(q.gaussian, $0.gaussian) } ?? tape.standardNormalKL(q.gaussian)
            return (weightedNLL(z: z, x: x, privates: privates, weights: weights, tape: tape), kl)
        }
        if mixtureSampling == .onePerRow {
            return oneComponentPerRow(q, slot: slot, x: x, privates: privates, weights: weights, against: p, draw: draw, tape: tape)
        }
        let frozen = tape.detached(q)
        var rec: Var?, div: Var?
        tape.forEachPresentComponent(of: q) { c, component in
            let z = sample(component, draw: draw.stream(slot: slot, component: c), batch: draw.batch, seed: draw.seed, tape: tape)
            var r = weightedNLL(z: z, x: x, privates: privates, weights: weights, tape: tape)
            var d = tape.sub(tape.logDensity(z, frozen), p.map { tape.logDensity(z, $0) } ?? tape.standardNormalLogDensity(z))
            if let w = tape.weight(q, c) {
                r = tape.mul(r, w)
                d = tape.mul(d, w)
            }
            rec = rec.map { tape.add($0, r) } ?? r
            div = div.map { tape.add($0, d) } ?? d
        }
        return (rec!, div!)
    }

    /// kl + Σ_s w_s KL(q(z̃_s | x_s) ‖ p(z̃_s)) per row, w a rows × K weight matrix (kl itself without private latents).
    func addingPrivateKL(to kl: Var, weights: Var, _ inputs: BoundInputs, tape: Tape) -> Var {
        guard let privateKL = inputs.privateKL else { return kl }
        return tape.add(kl, tape.sum(tape.mul(privateKL, weights), axis: .cols))
    }

    /// Σ_s w_s · (−log p(x_s | z, z̃_s)) per row, with w a rows × K weight matrix.
    func weightedNLL(z: Var, x: [Var], privates: [Var]? = nil, weights: Var, tape: Tape) -> Var {
        var total: Var?
        for s in 0..<x.count {
            let term = tape.mul(nll(s, z: z, privateSample: privates?[s], x: x[s], tape: tape), tape.maskColumn(weights, s))
            total = total.map { tape.add($0, term) } ?? term
        }
        return total!
    }
}

extension AggregatedVAE {
    /// A product of experts gives every KL in closed form; mixtures and learnt aggregators estimate some.
    public func klIsExact(stage: Int) -> Bool { aggregator is ProductOfExperts }
}
