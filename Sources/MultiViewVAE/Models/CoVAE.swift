import Foundation

/// CoVAE (the CoVAE paper, "Correlated VAEs", §2.2 and Algorithm 1) for two modalities: one latent
/// z_k ∈ R^d per modality, z = (z₁, z₂) with the correlated prior p(z) = N(0, Σ_prior),
/// Σ_prior = [[I, Cᵀ], [C, I]];
/// - unimodal encoders q_k(z_k | x_k) = N(μ_k, diag σ_k²);
/// - a joint encoder q(z | x₁, x₂) = N(μ, Σ_joint), Σ_joint = L Lᵀ + εI (L lower-triangular, softplus
///   diagonal; `FullCovarianceGaussian`);
/// - decoders p_k(x_k | z_k), each reading its own modality's latent.
///
/// Recipe (Algorithm 1):
/// 1. `pretrain`: deep CCA on the unimodal encoders' means (`DeepCCAObjective`). Its end measures the
///    canonical correlations ρ of those means over the whole training split (sums over every rank's
///    rows) and folds the canonical directions into the encoders' last layers, so that on the training
///    split μ₁, μ₂ have unit covariance and cross-covariance diag(ρ): C = diag(ρ) exactly.
/// 2. `train`: Eq. 3 + λ Σ_k Eq. 4 with C frozen (`priorCorrelations: canonical`) or still learnt (`learnt`);
///    Adam restarts. C stays a bounded cross-covariance (σ₁(C) < 1, JPVAE's parameterisation), so
///    Σ_prior is positive definite whatever is learnt.
///
/// Per row of stage 2 with both modalities: L_joint = Σ_k −log p_k(x_k | z_k) + β KL(q(z|x) ‖ p(z)) with
/// z ~ q(z | x); L_cond,k = Σ_j −log p_j(x_j | z_j) + β KL(q_k ‖ N(0, I)) with z_k ~ q_k and z_{−k} from the
/// prior conditional (Eq. 2: z₂ | z₁ ~ N(C z₁, I − CCᵀ), z₁ | z₂ ~ N(Cᵀ z₂, I − CᵀC)). A row with one
/// modality observed trains only that modality's L_cond (its own ELBO: the other decoder is not
/// scored), a row with none nothing; pre-training uses rows with both.
public final class CoVAE: MultiViewModel {
    public let arena: ParameterArena
    public let viewDimensions: [Int]
    /// d: the latent size of each modality.
    public let latent: Int
    public let settings: CoVAEConfig
    public let prior: CrossCovariance
    public let encoders: [MLP]
    public let jointEncoder: MLP
    public let decoders: [MLP]
    public let likelihoods: [Likelihood]

    public var recipe: [StageDefinition] {
        [StageDefinition(name: "pretrain", groups: ["unimodal"], defaultEpochs: 10),
         StageDefinition(name: "train", groups: settings.priorCorrelations == .learnt ? ["prior", "unimodal", "joint"] : ["unimodal", "joint"],
                         restartsOptimizer: true)]
    }

    public init(config: ModelConfig, dimensions: [Int], seed: UInt64) throws {
        guard dimensions.count == 2 else {
            throw ConfigError.invalidValue(key: "model.type", message: "covae is built for two modalities so far; the data has \(dimensions.count)")
        }
        let d = config.latent(view: 0)
        guard config.latent(view: 1) == d else {
            throw ConfigError.invalidValue(key: "model.latent", message: "covae needs the same latent size for both modalities so far, got \(config.latent)")
        }
        viewDimensions = dimensions
        latent = d
        settings = config.covae
        let arena = ParameterArena()
        self.arena = arena
        let settings = config.covae
        // Groups in arena order: the prior, the unimodal encoders, then everything stage 2 adds.
        arena.beginGroup("prior")
        prior = CrossCovariance(config: try decodeDefaults(PriorConfig.self).with(cross: .bounded), n1: d, n2: d, arena: arena)
        arena.beginGroup("unimodal")
        encoders = (0..<2).map { k in
            MLP("modality\(k + 1).encoder", sizes: [dimensions[k]] + config.encoderHidden + [2 * d], activation: config.activation, arena: arena)
        }
        arena.beginGroup("joint")
        jointEncoder = MLP("joint.encoder", sizes: [dimensions[0] + dimensions[1]] + settings.jointHidden + [2 * 2 * d + (2 * d) * (2 * d - 1) / 2],
                           activation: config.activation, arena: arena)
        decoders = (0..<2).map { k in
            MLP("modality\(k + 1).decoder", sizes: [d] + config.decoderHidden + [dimensions[k]], activation: config.activation, arena: arena)
        }
        likelihoods = (0..<2).map { k in
            Likelihood("modality\(k + 1).likelihood", kind: config.likelihood(view: k), features: dimensions[k],
                       fixedLogScale: config.fixedLogScale, arena: arena)
        }
        arena.materialize(seed: seed)
    }

    public func recordsCollectives(stage: Int) -> Bool { stage == 0 }

    /// κ of the pre-training loss −(Σρᵢ² − κ(‖m₁‖² + ‖m₂‖²)): pins the features' means, which deep CCA
    /// leaves free (see `DeepCCAObjective`); the end of pre-training subtracts them anyway.
    static let meanPenalty: Float = 1e-2

    // MARK: Pieces

    /// q_k(z_k | x_k): mean and log-variance, rows × d each.
    public func encode(_ k: Int, _ x: Var, tape: Tape) -> GaussianPosterior {
        let h = encoders[k](x, tape: tape, arena: arena)
        return GaussianPosterior(mean: tape.sliceColumns(h, 0, count: latent), logVar: tape.sliceColumns(h, latent, count: latent))
    }

    /// μ_k without the last layer's bias, for deep CCA: correlations do not change when the features
    /// shift, so that bias's gradient would be rounding noise, which Adam's first steps turn into full
    /// steps of either sign (and a different sign at another world size). Left out, it stays put.
    func shiftFreeMean(_ k: Int, _ x: Var, tape: Tape) -> Var {
        let layers = encoders[k].layers
        var h = x
        for layer in layers.dropLast() { h = layer(h, tape: tape, arena: arena, activation: encoders[k].activation) }
        let w = tape.parameter(layers.last!.weight, in: arena)
        return tape.sliceColumns(tape.matmul(h, w), 0, count: latent)
    }

    /// q(z | x₁, x₂) = N(μ, L Lᵀ + εI) over z = (z₁, z₂) ∈ R^{2d}.
    public func encodeJoint(_ x1: Var, _ x2: Var, tape: Tape) -> FullCovarianceGaussian {
        let n = 2 * latent
        let h = jointEncoder(tape.concatColumns(x1, x2), tape: tape, arena: arena)
        let factor = FullCovarianceGaussian.factor(diagonal: tape.sliceColumns(h, n, count: n),
                                                   strictlyLower: tape.sliceColumns(h, 2 * n, count: n * (n - 1) / 2), tape: tape)
        return FullCovarianceGaussian(mean: tape.sliceColumns(h, 0, count: n), factor: factor, jitter: settings.jitter)
    }

    /// The prior's blocks on the tape: C (d × d), the precision Σ_prior⁻¹ (2d × 2d), ln det Σ_prior, and the
    /// Cholesky factors of the conditional covariances I − CCᵀ (of z₂ | z₁) and I − CᵀC (of z₁ | z₂).
    public struct PriorBlocks {
        public let cross: Var, precision: Var, logDet: Var
        public let conditionalFactors: (second: Var, first: Var)
    }

    public func priorBlocks(tape: Tape) throws -> PriorBlocks {
        let d = latent
        guard let c = try prior(tape: tape, arena: arena) else { preconditionFailure("covae's prior is a bounded cross-covariance") }
        let eye = tape.input(rows: d, cols: d) { p in
            p.update(repeating: 0, count: d * d)
            for i in 0..<d { p[i * d + i] = 1 }
        }
        let a2 = tape.sub(eye, tape.matmul(c, c, transposeB: true))   // I − CCᵀ
        let a1 = tape.sub(eye, tape.matmul(c, c, transposeA: true))   // I − CᵀC
        let d1 = try tape.inverse(a1), d2 = try tape.inverse(a2)
        // Σ_prior⁻¹ = [[D₁, −CᵀD₂], [−D₂C, D₂]] with D₁ = (I − CᵀC)⁻¹, D₂ = (I − CCᵀ)⁻¹.
        let top = tape.concatColumns(d1, tape.neg(tape.matmul(c, d2, transposeA: true)))
        let bottom = tape.concatColumns(tape.neg(tape.matmul(d2, c)), d2)
        let precision = tape.transpose(tape.concatColumns(tape.transpose(top), tape.transpose(bottom)))
        return PriorBlocks(cross: c, precision: precision, logDet: try tape.logDeterminant(a2),
                           conditionalFactors: (try tape.cholesky(a2), try tape.cholesky(a1)))
    }

    /// z_{−k} | z_k from the prior (Eq. 2): the mean C z₁ (or Cᵀ z₂) plus noise through the factor.
    public func conditionalSample(given k: Int, _ zk: Var, noise: Var, blocks: PriorBlocks, tape: Tape) -> Var {
        let mean = k == 0 ? tape.matmul(zk, blocks.cross, transposeB: true) : tape.matmul(zk, blocks.cross)
        let factor = k == 0 ? blocks.conditionalFactors.second : blocks.conditionalFactors.first
        return tape.add(mean, tape.matmul(noise, factor, transposeB: true))
    }

    /// Conditional generation given modality k (the paper's "Generating from CoVAE"): z_k ~ q_k(z_k | x_k)
    /// with `noise`, then z_{−k} | z_k from the prior conditional with `conditionalNoise`.
    public func generate(given k: Int, _ x: Var, noise: Var, conditionalNoise: Var, blocks: PriorBlocks, tape: Tape)
        -> (posterior: GaussianPosterior, given: Var, other: Var) {
        let q = encode(k, x, tape: tape)
        let zk = tape.reparameterize(mean: q.mean, logVar: q.logVar, noise: noise)
        return (q, zk, conditionalSample(given: k, zk, noise: conditionalNoise, blocks: blocks, tape: tape))
    }

    /// Decoder k's output (the likelihood's parameters) for latent z_k.
    public func decode(_ k: Int, _ z: Var, tape: Tape) -> Var { decoders[k](z, tape: tape, arena: arena) }

    // MARK: Losses

    public func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64, stage: Int) throws -> LossTerms {
        let b = batch.rows
        // Tuples, not arrays, here and below: the steady-state step must not allocate.
        func input(_ k: Int) -> Var { tape.input(rows: b, cols: viewDimensions[k]) { $0.update(from: batch.views[k], count: b * viewDimensions[k]) } }
        let x = (input(0), input(1))
        let both: Var? = batch.mask == nil ? nil : tape.input(rows: b, cols: 1) { p in
            for r in 0..<b { p[r] = batch.observed(r, view: 0) && batch.observed(r, view: 1) ? 1 : 0 }
        }
        if stage == 0 { return try pretrainLoss(x, pairs: both, tape: tape) }
        return try trainLoss(x, both: both, batch: batch, beta: beta, seed: seed, tape: tape)
    }

    /// −N · (Σρᵢ² − κ‖m‖²) of deep CCA over the global batch's pairs, entered as each rank's 1/P share
    /// (the ranks' losses add up to it; see `Tape.sumOverRanks`).
    func pretrainLoss(_ x: (Var, Var), pairs: Var?, tape: Tape) throws -> LossTerms {
        let f = (shiftFreeMean(0, x.0, tape: tape), shiftFreeMean(1, x.1, tape: tape))
        let (objective, rows, meanSquares) = try DeepCCAObjective.squaredCorrelations(f.0, f.1, regularization: settings.ccaRegularization,
                                                                                      weights: pairs, tape: tape)
        let share = 1 / Float(tape.communicator?.size ?? 1)
        let total = tape.scale(tape.mul(tape.sub(objective, tape.scale(meanSquares, Self.meanPenalty)), rows), -share)
        return LossTerms(total: total, reconstruction: tape.scale(tape.mul(objective, rows), -share), kl: tape.scalar(0))
    }

    func trainLoss(_ x: (Var, Var), both: Var?, batch: Batch, beta: Float, seed: UInt64, tape: Tape) throws -> LossTerms {
        let b = batch.rows, d = latent
        func noise(_ stream: Int, _ width: Int) -> Var { tape.input(rows: b, cols: width) { batch.fillNoise($0, view: stream, width: width, seed: seed) } }
        func nll(_ k: Int, _ z: Var) -> Var {
            likelihoods[k].negativeLogLikelihood(output: decode(k, z, tape: tape), target: k == 0 ? x.0 : x.1, tape: tape, arena: arena)
        }
        func observed(_ j: Int) -> Var? {
            batch.mask == nil ? nil : tape.input(rows: b, cols: 1) { p in for r in 0..<b { p[r] = batch.observed(r, view: j) ? 1 : 0 } }
        }
        func weighted(_ v: Var, _ w: Var?) -> Var { w.map { tape.mul(v, $0) } ?? v }
        let blocks = try priorBlocks(tape: tape)
        // Eq. 3: the joint posterior, both decoders, the full-covariance KL.
        let q = encodeJoint(x.0, x.1, tape: tape)
        let z = q.sample(noise: noise(2, 2 * d), jitterNoise: noise(3, 2 * d), tape: tape)
        let jointNLL = tape.add(nll(0, tape.sliceColumns(z, 0, count: d)), nll(1, tape.sliceColumns(z, d, count: d)))
        let jointKL = try q.klDivergence(priorPrecision: blocks.precision, priorLogDet: blocks.logDet, tape: tape)
        var reconstruction = weighted(jointNLL, both), kl = weighted(jointKL, both)
        // Eq. 4 for k = 1, 2: z_k from q_k, the other latent from the prior conditional.
        let observed = (observed(0), observed(1))
        for k in 0..<2 {
            let (qk, zk, other) = generate(given: k, k == 0 ? x.0 : x.1, noise: noise(4 + k, d), conditionalNoise: noise(6 + k, d),
                                           blocks: blocks, tape: tape)
            let (z1, z2) = k == 0 ? (zk, other) : (other, zk)
            // The conditioning modality must be observed; the other decoder is scored where observed.
            let condNLL = tape.add(weighted(nll(0, z1), observed.0), weighted(nll(1, z2), observed.1))
            let own = k == 0 ? observed.0 : observed.1
            let condRecon = weighted(condNLL, own), condKL = weighted(tape.standardNormalKL(qk), own)
            reconstruction = tape.add(reconstruction, tape.scale(condRecon, settings.lambda))
            kl = tape.add(kl, tape.scale(condKL, settings.lambda))
        }
        let reconstructionSum = tape.sum(reconstruction), klSum = tape.sum(kl)
        return LossTerms(total: tape.add(reconstructionSum, tape.scale(klSum, beta)), reconstruction: reconstructionSum, kl: klSum)
    }

    // MARK: The end of pre-training

    /// Exact CCA of the unimodal means over the training split's pairs; folds the canonical directions
    /// into the encoders' mean outputs and sets C = diag(ρ) (as the bounded cross-covariance's singular values).
    public func finishStage(_ stage: Int, split: TrainingSplitSums) throws -> [ParameterAssignment] {
        guard stage == 0 else { return [] }
        let d = latent
        // Σμ₁, Σμ₂, Σμ₁μ₁ᵀ, Σμ₂μ₂ᵀ, Σμ₁μ₂ᵀ, n over rows with both modalities.
        let sums = try split.sum(count: 2 * d + 3 * d * d + 1) { batch, tape, s in
            let b = batch.rows
            let means = (0..<2).map { k in
                tape.valuePointer(encode(k, tape.input(rows: b, cols: viewDimensions[k]) { $0.update(from: batch.views[k], count: b * viewDimensions[k]) },
                                         tape: tape).mean)
            }
            for r in 0..<b where batch.observed(r, view: 0) && batch.observed(r, view: 1) {
                let u = means[0] + r * d, v = means[1] + r * d
                for i in 0..<d {
                    s[i] += Double(u[i]); s[d + i] += Double(v[i])
                    for j in 0..<d {
                        s[2 * d + i * d + j] += Double(u[i]) * Double(u[j])
                        s[2 * d + d * d + i * d + j] += Double(v[i]) * Double(v[j])
                        s[2 * d + 2 * d * d + i * d + j] += Double(u[i]) * Double(v[j])
                    }
                }
                s[2 * d + 3 * d * d] += 1
            }
        }
        let n = sums[2 * d + 3 * d * d]
        guard n >= 2 else {
            throw TrainingError.stageMismatch("covae pre-training: the training split has \(Int(n)) row(s) with both modalities; CCA needs at least 2")
        }
        let m1 = (0..<d).map { sums[$0] / n }, m2 = (0..<d).map { sums[d + $0] / n }
        func covariance(_ offset: Int, _ a: [Double], _ b: [Double]) -> DoubleMatrix {
            DoubleMatrix(rows: d, cols: d, (0..<(d * d)).map { sums[offset + $0] / n - a[$0 / d] * b[$0 % d] })
        }
        let cca = try CanonicalCorrelationAnalysis(meanX: m1, meanY: m2, covarianceXX: covariance(2 * d, m1, m1),
                                                   covarianceYY: covariance(2 * d + d * d, m2, m2),
                                                   covarianceXY: covariance(2 * d + 2 * d * d, m1, m2), components: d)
        var out = foldCanonicalDirections(0, projection: cca.projectionX, mean: m1)
            + foldCanonicalDirections(1, projection: cca.projectionY, mean: m2)
        // C = U diag(tanh(s/2)) Vᵀ with U = V = I (the Cayley parameters at zero): s = 2 atanh(ρ).
        guard case let .bounded(u, v, singular) = prior.parameterization else { preconditionFailure("covae's prior is bounded") }
        out.append(ParameterAssignment(singular, cca.correlations.map { Float(2 * atanh(Swift.min($0, 0.999))) }))
        for cayley in [u, v] { out.append(ParameterAssignment(cayley.skew, [Float](repeating: 0, count: cayley.skew.count))) }
        return out
    }

    /// Encoder k's mean outputs μ ↦ (μ − m) A: the last layer's mean columns W ↦ W A, b ↦ (b − m) A.
    func foldCanonicalDirections(_ k: Int, projection a: DoubleMatrix, mean m: [Double]) -> [ParameterAssignment] {
        let d = latent, last = encoders[k].layers.last!
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
