import Foundation
import MVCore
import MVConfig
import MVData

/// CoVAE (the CoVAE paper, "Correlated VAEs", §2.2 and Algorithm 1) for K ≥ 2 modalities: one latent
/// z_k ∈ R^{d_k} per modality, z = (z₁ … z_K) ∈ R^D (D = Σ d_k), with the correlated prior p(z) = N(0, Σ_prior),
/// Σ_prior's diagonal blocks the identity;
/// - unimodal encoders q_k(z_k | x_k) = N(μ_k, diag σ_k²);
/// - a joint encoder q(z | x₁ … x_K) = N(μ, Σ_joint), Σ_joint = L Lᵀ + εI (L lower-triangular, softplus
///   diagonal; `FullCovarianceGaussian`);
/// - decoders p_k(x_k | z_k), each reading its own modality's latent.
///
/// The prior's cross blocks: for two modalities of equal size, Σ_prior = [[I, Cᵀ], [C, I]] with C a
/// bounded cross-covariance (σ₁(C) < 1, JPVAE's parameterisation); otherwise (K > 2 or unequal sizes) a
/// `BlockCorrelation`. Both stay positive definite
/// whatever is learnt.
///
/// Recipe (Algorithm 1):
/// 1. `pretrain`: deep CCA on the unimodal encoders' means (`DeepCCAObjective`), summed over the pairs of
///    modalities (or their distance correlation, `pretraining: distanceCorrelation`). Its end measures the
///    means' moments over the training split's rows with every modality (sums over every rank's rows).
///    Two of equal size: it folds the canonical directions into the encoders'
///    last layers, so that on the training split μ₁, μ₂ have unit covariance and cross-covariance
///    diag(ρ): C = diag(ρ) exactly. Otherwise it folds each modality's whitening (μ_k ↦ L_k⁻¹(μ_k − m_k),
///    Cov(μ_k) = L_k L_kᵀ) into its encoder, and the prior becomes the whitened means' joint covariance —
///    unit diagonal blocks by construction, positive semi-definite as any covariance, made definite by
///    `BlockCorrelation`'s ε (its cross blocks shrink by 1/(1 + 10⁻⁴)).
/// 2. `train`: Eq. 3 + λ Σ_k Eq. 4 with the prior frozen (`priorCorrelations: canonical`) or still learnt
///    (`learnt`); Adam restarts.
///
/// Per row of stage 2 with every modality: L_joint = Σ_k −log p_k(x_k | z_k) + β KL(q(z|x) ‖ p(z)) with
/// z ~ q(z | x); L_cond,k = Σ_j −log p_j(x_j | z_j) + β KL(q_k ‖ N(0, I)) with z_k ~ q_k and z_{−k} from the
/// prior conditional (Eq. 2: z_{−k} | z_k ~ N(Σ_{−k,k} z_k, Σ_{−k,−k} − Σ_{−k,k} Σ_{k,−k})). A row with a
/// modality missing trains no L_joint and, for each observed k, L_cond,k with only the observed
/// decoders scored (with one modality observed: its own ELBO); a row with none, nothing. Pre-training
/// uses, for each pair, the rows with both.
public final class CoVAE: MultiViewModel {
    public let arena: ParameterArena
    public let viewDimensions: [Int]
    /// d_k: the latent size of each modality, and where each starts in z.
    public let latents: [Int]
    public let offsets: [Int]
    public let settings: CoVAEConfig
    /// Two modalities of equal size: the cross block C of Σ_prior.
    public let prior: CrossCovariance?
    /// Otherwise: Σ_prior itself.
    public let blockPrior: BlockCorrelation?
    public let encoders: [ViewNetwork]
    public let jointEncoder: MLP
    public let decoders: [ViewNetwork]
    public let likelihoods: [Likelihood]

    /// K.
    public var modalities: Int { viewDimensions.count }
    /// D = Σ d_k.
    public var jointLatent: Int { latents.reduce(0, +) }
    /// d when every modality has the same latent size (the two-modality statistics' case).
    public var latent: Int { latents[0] }

    public var recipe: [StageDefinition] {
        [
            StageDefinition(name: "pretrain", groups: ["unimodal"], defaultEpochs: 10),
            StageDefinition(
                name: "train", groups: settings.priorCorrelations == .learnt ? ["prior", "unimodal", "joint"] : ["unimodal", "joint"],
                restartsOptimizer: true),
        ]
    }

    /// `images`: each view's image size, for convolutional networks (`model.encoder`/`model.decoder`; the
    /// joint encoder stays dense, on the views side by side).
    public init(config: ModelConfig, dimensions: [Int], images: [ViewShapes.ImageSize]? = nil, seed: UInt64) throws {
        let k = dimensions.count
        guard k >= 2 else {
            throw ConfigError.invalidValue(key: "model.type", message: "covae needs at least two modalities; the data has \(k)")
        }
        let latents = (0..<k).map { config.latent(view: $0) }
        guard latents.allSatisfy({ $0 >= 1 }) else {
            throw ConfigError.invalidValue(key: "model.latent", message: "every modality needs a latent size ≥ 1, got \(config.latent)")
        }
        viewDimensions = dimensions
        self.latents = latents
        offsets = latents.indices.map { latents[..<$0].reduce(0, +) }
        settings = config.covae
        let arena = ParameterArena()
        self.arena = arena
        let settings = config.covae
        // Groups in arena order: the prior, the unimodal encoders, then everything stage 2 adds.
        arena.beginGroup("prior")
        if k == 2 && latents[0] == latents[1] {
            prior = CrossCovariance(
                config: try decodeDefaults(PriorConfig.self).with(cross: .bounded), n1: latents[0], n2: latents[1], arena: arena)
            blockPrior = nil
        } else {
            prior = nil
            blockPrior = BlockCorrelation("prior", sizes: latents, arena: arena)
        }
        arena.beginGroup("unimodal")
        encoders = (0..<k).map { j in
            ViewNetwork(
                encoder: "view\(j + 1).encoder", image: images?[j], inputs: dimensions[j], hidden: config.encoderHidden,
                outputs: 2 * latents[j], config: config.encoder.forView(j), activation: config.activation, arena: arena)
        }
        arena.beginGroup("joint")
        let n = latents.reduce(0, +)
        jointEncoder = MLP(
            "joint.encoder", sizes: [dimensions.reduce(0, +)] + settings.jointHidden + [2 * n + n * (n - 1) / 2],
            activation: config.activation, arena: arena)
        decoders = (0..<k).map { j in
            ViewNetwork(
                decoder: "view\(j + 1).decoder", inputs: latents[j], hidden: config.decoderHidden, image: images?[j],
                outputs: dimensions[j], config: config.decoder, activation: config.activation, arena: arena)
        }
        likelihoods = (0..<k).map { j in
            Likelihood(
                "view\(j + 1).likelihood", kind: config.likelihood(view: j), features: dimensions[j],
                fixedLogScale: config.fixedLogScale, categories: config.categories, arena: arena)
        }
        arena.materialize(seed: seed)
    }

    public func recordsCollectives(stage: Int) -> Bool { stage == 0 }

    /// κ of the pre-training loss −(Σρᵢ² − κ(‖m₁‖² + ‖m₂‖²)): pins the features' means, which deep CCA
    /// leaves free (see `DeepCCAObjective`); the end of pre-training subtracts them anyway.
    static let meanPenalty: Float = 1e-2

    // MARK: Pieces

    /// q_k(z_k | x_k): mean and log-variance, rows × d_k each.
    public func encode(_ k: Int, _ x: Var, tape: Tape) -> GaussianPosterior {
        let h = encoders[k](x, tape: tape, arena: arena), d = latents[k]
        return GaussianPosterior(mean: tape.sliceColumns(h, 0, count: d), logVar: tape.sliceColumns(h, d, count: d))
    }

    /// μ_k without the last layer's bias, for deep CCA: correlations do not change when the features
    /// shift, so that bias's gradient would be rounding noise, which Adam's first steps turn into full
    /// steps of either sign (and a different sign at another world size). Left out, it stays put.
    func shiftFreeMean(_ k: Int, _ x: Var, tape: Tape) -> Var {
        let h = encoders[k].featuresBeforeLastLayer(x, tape: tape, arena: arena)
        let w = tape.parameter(encoders[k].mlp.layers.last!.weight, in: arena)
        return tape.sliceColumns(tape.matmul(h, w), 0, count: latents[k])
    }

    /// q(z | x₁ … x_K) = N(μ, L Lᵀ + εI) over z ∈ R^D, from the modalities' inputs side by side.
    public func encodeJoint(concatenated x: Var, tape: Tape) -> FullCovarianceGaussian {
        let n = jointLatent
        // The joint encoder reads the views as the unimodal encoders do (`model.encoder.input`).
        var input = x
        if encoders.contains(where: { $0.input != .none }) {
            var start = 0, joined: Var?
            for e in encoders {
                let part = e.input.apply(tape.sliceColumns(x, start, count: e.inputs), tape: tape)
                joined = joined.map { tape.concatColumns($0, part) } ?? part
                start += e.inputs
            }
            input = joined!
        }
        let h = jointEncoder(input, tape: tape, arena: arena)
        let factor = FullCovarianceGaussian.factor(
            diagonal: tape.sliceColumns(h, n, count: n),
            strictlyLower: tape.sliceColumns(h, 2 * n, count: n * (n - 1) / 2), tape: tape)
        return FullCovarianceGaussian(mean: tape.sliceColumns(h, 0, count: n), factor: factor, jitter: settings.jitter)
    }

    /// The two-modality form of `encodeJoint(concatenated:)`.
    public func encodeJoint(_ x1: Var, _ x2: Var, tape: Tape) -> FullCovarianceGaussian {
        encodeJoint(concatenated: tape.concatColumns(x1, x2), tape: tape)
    }

    /// Σ_prior on the tape (D × D).
    public func priorCovariance(tape: Tape) throws -> Var {
        if let blockPrior { return try blockPrior(tape: tape, arena: arena) }
        guard let c = try prior?(tape: tape, arena: arena) else { preconditionFailure("covae's prior is a bounded cross-covariance") }
        let eye = identity(latent, tape: tape)
        let top = tape.concatColumns(eye, tape.transpose(c)), bottom = tape.concatColumns(c, eye)
        return tape.transpose(tape.concatColumns(tape.transpose(top), tape.transpose(bottom)))
    }

    /// Σ_prior in double precision.
    package func priorCovarianceValue() throws -> DoubleMatrix {
        let tape = Tape()
        return DoubleMatrix(tape.value(try priorCovariance(tape: tape)))
    }

    /// The prior's pieces on the tape for Eq. 3's KL: Σ_prior, Σ_prior⁻¹ and ln det Σ_prior.
    public struct PriorBlocks {
        public let covariance: Var, precision: Var, logDet: Var
    }

    public func priorBlocks(tape: Tape) throws -> PriorBlocks {
        let sigma = try priorCovariance(tape: tape)
        return PriorBlocks(covariance: sigma, precision: try tape.inverse(sigma), logDet: try tape.logDeterminant(sigma))
    }

    /// z_{−k} | z_k from the prior (Eq. 2; Σ_kk = I): M_k z_k + F_k ε with M_k = Σ_{−k,k} and F_k the Cholesky
    /// factor of Σ_{−k,−k} − M_k M_kᵀ, `noise` (D − d_k wide); the other modalities' latents side by side
    /// in modality order (`otherLatent` picks one).
    public func conditionalSample(given k: Int, _ zk: Var, noise: Var, blocks: PriorBlocks, tape: Tape) throws -> Var {
        let others = otherSelector(k, tape: tape)  // (D − d_k) × D
        let rows = tape.matmul(others, blocks.covariance)  // Σ_{−k,·}
        let m = tape.sliceColumns(rows, offsets[k], count: latents[k])  // Σ_{−k,k}
        let f = try tape.cholesky(tape.sub(tape.matmul(rows, others, transposeB: true), tape.matmul(m, m, transposeB: true)))
        return tape.add(tape.matmul(zk, m, transposeB: true), tape.matmul(noise, f, transposeB: true))
    }

    /// Modality j's latent in the output of `conditionalSample(given: k, …)` (j ≠ k).
    public func otherLatent(_ j: Int, given k: Int, _ others: Var, tape: Tape) -> Var {
        tape.sliceColumns(others, offsets[j] - (j > k ? latents[k] : 0), count: latents[j])
    }

    /// Conditional generation given modality k (the paper's "Generating from CoVAE"): z_k ~ q_k(z_k | x_k)
    /// with `noise`, then z_{−k} | z_k from the prior conditional with `conditionalNoise` (D − d_k wide).
    public func generate(given k: Int, _ x: Var, noise: Var, conditionalNoise: Var, blocks: PriorBlocks, tape: Tape) throws
        -> (posterior: GaussianPosterior, given: Var, other: Var)
    {
        let q = encode(k, x, tape: tape)
        let zk = tape.reparameterize(mean: q.mean, logVar: q.logVar, noise: noise)
        return (q, zk, try conditionalSample(given: k, zk, noise: conditionalNoise, blocks: blocks, tape: tape))
    }

    /// Decoder k's output (the likelihood's parameters) for latent z_k.
    /// The positions in z = (z_1 … z_K) of the given modalities' latents, in that order.
    public func coordinates(of modalities: [Int]) -> [Int] { modalities.flatMap { j in offsets[j]..<(offsets[j] + latents[j]) } }

    public func decode(_ k: Int, _ z: Var, tape: Tape) -> Var { decoders[k](z, tape: tape, arena: arena) }

    func identity(_ n: Int, tape: Tape) -> Var {
        tape.input(rows: n, cols: n) { p in
            p.update(repeating: 0, count: n * n)
            for i in 0..<n { p[i * n + i] = 1 }
        }
    }

    /// P_k ((D − d_k) × D): the rows of the identity of every block but k's.
    func otherSelector(_ k: Int, tape: Tape) -> Var {
        let d = latents[k], start = offsets[k], n = jointLatent, rest = n - d
        return tape.input(rows: rest, cols: n) { p in
            p.update(repeating: 0, count: rest * n)
            for i in 0..<rest { p[i * n + (i < start ? i : i + d)] = 1 }
        }
    }

    // MARK: Losses

    public func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64, stage: Int) throws -> LossTerms {
        let b = batch.rows, k = modalities
        // A buffer on the stack, not an array: the steady-state step must not allocate.
        return try withUnsafeTemporaryAllocation(of: Var.self, capacity: k) { x in
            for j in 0..<k {
                x[j] = tape.input(rows: b, cols: viewDimensions[j]) { $0.update(from: batch.views[j], count: b * viewDimensions[j]) }
            }
            if stage == 0 { return try pretrainLoss(UnsafeBufferPointer(x), batch: batch, tape: tape) }
            return try trainLoss(UnsafeBufferPointer(x), batch: batch, beta: beta, seed: seed, tape: tape)
        }
    }

    /// 1 where every modality in `views` is observed (rows × 1); nil without a mask.
    func observedIndicator(_ batch: Batch, tape: Tape, _ views: (Int) -> Bool) -> Var? {
        guard batch.mask != nil else { return nil }
        let k = modalities
        return tape.input(rows: batch.rows, cols: 1) { p in
            for r in 0..<batch.rows {
                var all = true
                for j in 0..<k where views(j) && !batch.observed(r, view: j) { all = false }
                p[r] = all ? 1 : 0
            }
        }
    }

    /// −Σ_pairs N · (Σρᵢ² − κ‖m‖²) of deep CCA over the global batch's pairs, entered as each rank's 1/P
    /// share (the ranks' losses add up to it; see `Tape.sumOverRanks`).
    func pretrainLoss(_ x: UnsafeBufferPointer<Var>, batch: Batch, tape: Tape) throws -> LossTerms {
        try PairwiseCorrelationLoss.loss(modalities: modalities, meanPenalty: Self.meanPenalty, tape: tape) { i, j in
            let pairs = observedIndicator(batch, tape: tape) { $0 == i || $0 == j }
            let f = (shiftFreeMean(i, x[i], tape: tape), shiftFreeMean(j, x[j], tape: tape))
            return settings.pretraining == .cca
                ? try DeepCCAObjective.squaredCorrelations(f.0, f.1, regularization: settings.ccaRegularization, weights: pairs, tape: tape)
                : try DistanceCorrelationObjective.squared(f.0, f.1, weights: pairs, tape: tape)
        }
    }

    func trainLoss(_ x: UnsafeBufferPointer<Var>, batch: Batch, beta: Float, seed: UInt64, tape: Tape) throws -> LossTerms {
        let b = batch.rows, k = modalities, n = jointLatent
        func noise(_ stream: Int, _ width: Int) -> Var {
            tape.input(rows: b, cols: width) { batch.fillNoise($0, view: stream, width: width, seed: seed) }
        }
        func nll(_ j: Int, _ z: Var) -> Var {
            likelihoods[j].negativeLogLikelihood(output: decode(j, z, tape: tape), target: x[j], tape: tape, arena: arena)
        }
        func observed(_ j: Int) -> Var? { observedIndicator(batch, tape: tape) { $0 == j } }
        func weighted(_ v: Var, _ w: Var?) -> Var { w.map { tape.mul(v, $0) } ?? v }
        let blocks = try priorBlocks(tape: tape)
        // Eq. 3: the joint posterior, every decoder, the full-covariance KL; rows with every modality.
        var inputs = x[0]
        for j in 1..<k { inputs = tape.concatColumns(inputs, x[j]) }
        let q = encodeJoint(concatenated: inputs, tape: tape)
        let z = q.sample(noise: noise(2, n), jitterNoise: noise(3, n), tape: tape)
        var jointNLL = nll(0, tape.sliceColumns(z, 0, count: latents[0]))
        for j in 1..<k { jointNLL = tape.add(jointNLL, nll(j, tape.sliceColumns(z, offsets[j], count: latents[j]))) }
        let jointKL = try q.klDivergence(priorPrecision: blocks.precision, priorLogDet: blocks.logDet, tape: tape)
        let all = observedIndicator(batch, tape: tape) { _ in true }
        var reconstruction = weighted(jointNLL, all), kl = weighted(jointKL, all)
        // Eq. 4 for each k: z_k from q_k, the other latents from the prior conditional.
        for given in 0..<k {
            let d = latents[given]
            let (qk, zk, others) = try generate(
                given: given, x[given], noise: noise(4 + given, d), conditionalNoise: noise(4 + k + given, n - d),
                blocks: blocks, tape: tape)
            // The conditioning modality must be observed; the other decoders are scored where observed.
            var condNLL = nll(given, zk)
            for j in 0..<k where j != given {
                condNLL = tape.add(condNLL, weighted(nll(j, otherLatent(j, given: given, others, tape: tape)), observed(j)))
            }
            let own = observed(given)
            let condRecon = weighted(condNLL, own), condKL = weighted(tape.standardNormalKL(qk), own)
            reconstruction = tape.add(reconstruction, tape.scale(condRecon, settings.lambda))
            kl = tape.add(kl, tape.scale(condKL, settings.lambda))
        }
        let reconstructionSum = tape.sum(reconstruction), klSum = tape.sum(kl)
        return LossTerms(total: tape.add(reconstructionSum, tape.scale(klSum, beta)), reconstruction: reconstructionSum, kl: klSum)
    }

    // MARK: The end of pre-training

    /// The unimodal means' moments over the training split's rows with every modality, then: K = 2,
    /// exact CCA folded into the encoders and C = diag(ρ); K > 2, each modality's whitening folded in and
    /// Σ_prior = the whitened means' joint covariance.
    public func finishStage(_ stage: Int, split: TrainingSplitSums) throws -> [ParameterAssignment] {
        guard stage == 0 else { return [] }
        let k = modalities, n = jointLatent
        // Coordinate a of z: its modality and its place there.
        let owner = (0..<n).map { a in (0..<k).last { offsets[$0] <= a }! }, local = (0..<n).map { $0 - offsets[owner[$0]] }
        // Σμ (D), Σμμᵀ (D × D), the row count; μ = (μ₁ … μ_K).
        let sums = try split.sum(count: n + n * n + 1) { batch, tape, s in
            let b = batch.rows
            withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>.self, capacity: k) { means in
                for j in 0..<k {
                    let x = tape.input(rows: b, cols: viewDimensions[j]) { $0.update(from: batch.views[j], count: b * viewDimensions[j]) }
                    means[j] = tape.valuePointer(encode(j, x, tape: tape).mean)
                }
                func mean(_ r: Int, _ a: Int) -> Double { Double(means[owner[a]][r * latents[owner[a]] + local[a]]) }
                for r in 0..<b where (0..<k).allSatisfy({ batch.observed(r, view: $0) }) {
                    for a in 0..<n {
                        let u = mean(r, a)
                        s[a] += u
                        for c in 0..<n { s[n + a * n + c] += u * mean(r, c) }
                    }
                    s[n + n * n] += 1
                }
            }
        }
        let count = sums[n + n * n]
        guard count >= 2 else {
            throw TrainingError.stageMismatch(
                "covae pre-training: the training split has \(Int(count)) row(s) with every modality; the prior needs at least 2")
        }
        let mean = (0..<n).map { sums[$0] / count }
        func block(_ i: Int, _ j: Int) -> DoubleMatrix {
            DoubleMatrix(
                rows: latents[i], cols: latents[j],
                (0..<(latents[i] * latents[j])).map { e in
                    let a = offsets[i] + e / latents[j], c = offsets[j] + e % latents[j]
                    return sums[n + a * n + c] / count - mean[a] * mean[c]
                })
        }
        func means(_ j: Int) -> [Double] { Array(mean[offsets[j]..<(offsets[j] + latents[j])]) }
        if let prior {
            let cca = try CanonicalCorrelationAnalysis(
                meanX: means(0), meanY: means(1), covarianceXX: block(0, 0),
                covarianceYY: block(1, 1), covarianceXY: block(0, 1), components: latents[0])
            var out =
                foldDirections(0, projection: cca.projectionX, mean: means(0))
                + foldDirections(1, projection: cca.projectionY, mean: means(1))
            // C = U diag(tanh(s/2)) Vᵀ with U = V = I (the Cayley parameters at zero): s = 2 atanh(ρ).
            guard case let .bounded(u, v, singular) = prior.parameterization else { preconditionFailure("covae's prior is bounded") }
            out.append(ParameterAssignment(singular, cca.correlations.map { Float(2 * atanh(Swift.min($0, 0.999))) }))
            for cayley in [u, v] { out.append(ParameterAssignment(cayley.skew, [Float](repeating: 0, count: cayley.skew.count))) }
            return out
        }
        // K > 2 or unequal sizes: A_k = L_k⁻ᵀ whitens modality k (A_kᵀ Cov(μ_k) A_k = I); the prior's
        // block (i, j) is A_iᵀ Cov(μ_i, μ_j) A_j.
        let whitening = try (0..<k).map { j -> DoubleMatrix in
            var c = block(j, j)
            let d = latents[j]
            // The ridge of `CanonicalCorrelationAnalysis`: a collapsed unit does not make Cov(μ_j) singular.
            let ridge = 1e-10 * Swift.max(c.diagonalElements.reduce(0, +) / Double(d), Double.leastNormalMagnitude)
            for a in 0..<d { c[a, a] += ridge }
            let l = try c.cholesky()
            return l.solveLower(DoubleMatrix.identity(d), transpose: true)
        }
        var target = DoubleMatrix(rows: n, cols: n)
        for i in 0..<k {
            for j in 0..<k {
                let r =
                    i == j ? DoubleMatrix.identity(latents[i]) : whitening[i].matmul(block(i, j), transposeSelf: true).matmul(whitening[j])
                for a in 0..<latents[i] { for c in 0..<latents[j] { target[offsets[i] + a, offsets[j] + c] = r[a, c] } }
            }
        }
        var out = (0..<k).flatMap { foldDirections($0, projection: whitening[$0], mean: means($0)) }
        out.append(try blockPrior!.assignment(for: target))
        return out
    }

    /// Encoder k's mean outputs μ ↦ (μ − m) A: the last layer's mean columns W ↦ W A, b ↦ (b − m) A.
    func foldDirections(_ k: Int, projection a: DoubleMatrix, mean m: [Double]) -> [ParameterAssignment] {
        let d = latents[k], last = encoders[k].mlp.layers.last!
        let w = arena.value(last.weight), bias = arena.value(last.bias)
        var newW = w, newB = bias
        for r in 0..<w.rows {
            for j in 0..<d {
                var t = 0.0
                for i in 0..<d { t += Double(w[r, i]) * a[i, j] }
                newW[r, j] = Float(t)
            }
        }
        for j in 0..<d {
            var t = 0.0
            for i in 0..<d { t += (Double(bias[0, i]) - m[i]) * a[i, j] }
            newB[0, j] = Float(t)
        }
        return [ParameterAssignment(last.weight, newW.storage), ParameterAssignment(last.bias, newB.storage)]
    }
}

extension PriorConfig {
    func with(cross: Cross) -> PriorConfig {
        var c = self
        c.cross = cross
        return c
    }
}

extension CoVAE {
    /// Eq. 3's full-covariance KL and Eq. 4's diagonal ones are in closed form (pre-training has none).
    public func klIsExact(stage: Int) -> Bool { true }
}
