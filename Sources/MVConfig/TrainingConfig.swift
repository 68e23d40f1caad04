/// How to optimise.
public struct TrainingConfig: Codable, Equatable {
    public enum Optimizer: String, ConfigChoice, Equatable { case adam, adamw }

    public var epochs: Int
    /// Global batch size: the same at any world size (each rank takes a slice).
    public var batchSize: Int
    public var learningRate: Float
    /// The learning rate rises linearly from learningRate/warmupSteps to learningRate over the first
    /// `warmupSteps` steps (0: none). Adam's first steps move every weight by about the learning rate
    /// in a coherent direction, which can blow up deep encoder → pooling → head stacks.
    public var warmupSteps: Int
    public var optimizer: Optimizer
    public var weightDecay: Float
    /// Weight of the KL term (the top of the annealing ramp when cycles > 0).
    public var beta: Float
    public var annealing: AnnealingConfig
    /// Print a progress line every this many steps when stdout is not a terminal.
    public var logEvery: Int
    /// Evaluate the validation split after every epoch.
    public var validate: Bool
    /// Save a checkpoint every this many epochs (0: only at the end).
    public var checkpointEveryEpochs: Int
    /// Checkpoints kept (the newest).
    public var keepCheckpoints: Int
    /// Per stage of the model's recipe (by name): its length and learning rate, where not the defaults.
    public var stages: [String: StageConfig]
    /// The loss-spike guard: stop when a step's loss per row exceeds the running mean of the previous
    /// steps' by more than this many times (|mean| + 1); 0 = off. Armed after 50 steps of a stage.
    public var spikeGuard: Double
    /// A view's first layer multiplies a batch over its non-zeros alone when they are at most this share of it
    /// (sparse counts); 0: always the dense GEMMs. The choice is made per batch; it moves results by rounding only.
    public var sparseInput: Float

    enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, batchSize, learningRate, warmupSteps, optimizer, weightDecay, beta, annealing, logEvery, validate
        case checkpointEveryEpochs, keepCheckpoints, stages, spikeGuard, sparseInput
    }

    static func defaults() throws -> TrainingConfig { try decodeDefaults(TrainingConfig.self) }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.value(.epochs, default: 30)
        batchSize = try c.value(.batchSize, default: 32)
        learningRate = try c.value(.learningRate, default: 1e-3)
        warmupSteps = try c.value(.warmupSteps, default: 0)
        optimizer = try c.value(.optimizer, default: .adam)
        weightDecay = try c.value(.weightDecay, default: 0)
        beta = try c.value(.beta, default: 1)
        annealing = try c.value(.annealing, default: try decodeDefaults(AnnealingConfig.self))
        logEvery = try c.value(.logEvery, default: 200)
        validate = try c.value(.validate, default: true)
        checkpointEveryEpochs = try c.value(.checkpointEveryEpochs, default: 1)
        keepCheckpoints = try c.value(.keepCheckpoints, default: 3)
        stages = try c.value(.stages, default: [:])
        spikeGuard = try c.value(.spikeGuard, default: 0)
        sparseInput = try c.value(.sparseInput, default: 0.15)
        if !(0...1).contains(sparseInput) { throw c.invalid(.sparseInput, "must be a share in [0, 1] (0: never), got \(sparseInput)") }
        if !(spikeGuard >= 0 && spikeGuard.isFinite) { throw c.invalid(.spikeGuard, "must be 0 (off) or a finite factor > 0, e.g. 10") }
        if epochs < 1 { throw c.invalid(.epochs, "must be ≥ 1") }
        if batchSize < 1 { throw c.invalid(.batchSize, "must be ≥ 1") }
        if !(learningRate > 0 && learningRate.isFinite) {
            throw c.invalid(.learningRate, "must be a finite number > 0, got \(learningRate)")
        }
        if warmupSteps < 0 { throw c.invalid(.warmupSteps, "must be ≥ 0 (0 = no warm-up)") }
        if !(weightDecay >= 0 && weightDecay.isFinite) { throw c.invalid(.weightDecay, "must be a finite number ≥ 0, got \(weightDecay)") }
        if !(beta >= 0 && beta.isFinite) { throw c.invalid(.beta, "must be a finite number ≥ 0, got \(beta)") }
        if logEvery < 1 { throw c.invalid(.logEvery, "must be ≥ 1") }
        if checkpointEveryEpochs < 0 { throw c.invalid(.checkpointEveryEpochs, "must be ≥ 0") }
        if keepCheckpoints < 1 { throw c.invalid(.keepCheckpoints, "must be ≥ 1") }
    }
}

/// `training.stages.<name>`: one stage's settings (absent keys keep the model's defaults).
public struct StageConfig: Codable, Equatable {
    public var epochs: Int?
    public var learningRate: Float?

    enum CodingKeys: String, CodingKey, CaseIterable { case epochs, learningRate }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate)
        if let epochs, epochs < 1 { throw c.invalid(.epochs, "must be ≥ 1") }
        if let learningRate, !(learningRate > 0 && learningRate.isFinite) { throw c.invalid(.learningRate, "must be a finite number > 0") }
    }
}

/// Cyclical KL annealing (Fu et al. 2019): training is cut into `cycles` equal cycles; in each, β
/// rises linearly from 0 over the first `ratio` of the cycle, then stays at its top. 0 cycles: constant β.
public struct AnnealingConfig: Codable, Equatable {
    public var cycles: Int
    public var ratio: Double

    enum CodingKeys: String, CodingKey, CaseIterable { case cycles, ratio }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cycles = try c.value(.cycles, default: 0)
        ratio = try c.value(.ratio, default: 0.5)
        if cycles < 0 { throw c.invalid(.cycles, "must be ≥ 0") }
        if !(ratio > 0 && ratio <= 1) { throw c.invalid(.ratio, "must be in (0, 1]") }
    }

    /// β at `step` of `totalSteps`, scaled by `top`.
    public func beta(step: Int, totalSteps: Int, top: Float) -> Float {
        guard cycles > 0, totalSteps > 0 else { return top }
        let period = Double(totalSteps) / Double(cycles)
        let position = Double(step).truncatingRemainder(dividingBy: period) / period
        return top * Float(Swift.min(1, position / ratio))
    }
}

/// How `mvvae evaluate` works.
public struct EvaluationConfig: Codable, Equatable {
    public enum Imputation: String, ConfigChoice, Equatable { case empirical, priorMean, priorSamples }
    /// empirical: Eq. 12 with the joint of encoder means fitted on the training split;
    /// priorMean / priorSamples: the learnt prior's conditional z_i | z_j ~ N(C z_j, I − CCᵀ).
    public var imputation: Imputation
    /// priorSamples: draws per row (their mean is the imputation, their spread the uncertainty).
    public var samples: Int
    public var activeUnitThreshold: Float
    public var classifierHidden: [Int]
    /// The classifiers train until a held-out tenth of their training rows has not improved for
    /// `classifierPatience` epochs, at most `classifierEpochs` (`Classifier.fit`).
    public var classifierEpochs: Int
    public var classifierPatience: Int
    public var classifierLearningRate: Float
    /// Evaluate only the first N training rows when fitting statistics and classifiers (0: all).
    public var trainLimit: Int
    /// Aggregated models: draws z_n ~ q(z | x_S) per row in the importance-sampled log-likelihoods.
    public var importanceSamples: Int
    /// Aggregated models: fit the ridge yardstick of the cross-reconstructions. Its cost grows with the
    /// cube of the other modalities' summed width (9 408 pixels for 4 PolyFashion images: minutes to hours).
    public var ridge: Bool

    enum CodingKeys: String, CodingKey, CaseIterable {
        case imputation, samples, activeUnitThreshold, classifierHidden, classifierEpochs, classifierPatience, classifierLearningRate,
            trainLimit
        case importanceSamples, ridge
    }

    static func defaults() throws -> EvaluationConfig { try decodeDefaults(EvaluationConfig.self) }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        imputation = try c.value(.imputation, default: .empirical)
        samples = try c.value(.samples, default: 10)
        activeUnitThreshold = try c.value(.activeUnitThreshold, default: 0.01)
        classifierHidden = try c.value(.classifierHidden, default: [256])
        classifierEpochs = try c.value(.classifierEpochs, default: 1000)
        classifierPatience = try c.value(.classifierPatience, default: 10)
        classifierLearningRate = try c.value(.classifierLearningRate, default: 1e-3)
        trainLimit = try c.value(.trainLimit, default: 0)
        importanceSamples = try c.value(.importanceSamples, default: 100)
        ridge = try c.value(.ridge, default: true)
        // Draw n keys a 16-bit field of the evaluation random stream.
        if !(1...65_535).contains(importanceSamples) {
            throw c.invalid(.importanceSamples, "must be between 1 and 65535, got \(importanceSamples)")
        }
        if samples < 1 { throw c.invalid(.samples, "must be ≥ 1") }
        if classifierEpochs < 1 { throw c.invalid(.classifierEpochs, "must be ≥ 1") }
        if classifierPatience < 1 { throw c.invalid(.classifierPatience, "must be ≥ 1") }
        if classifierHidden.contains(where: { $0 < 1 }) { throw c.invalid(.classifierHidden, "layer sizes must be ≥ 1") }
        if !(classifierLearningRate > 0 && classifierLearningRate.isFinite) {
            throw c.invalid(.classifierLearningRate, "must be a finite number > 0")
        }
        // A NaN here was accepted and failed the evaluation at its very end (encoding the report).
        if !(activeUnitThreshold >= 0 && activeUnitThreshold.isFinite) {
            throw c.invalid(.activeUnitThreshold, "must be a finite number ≥ 0, got \(activeUnitThreshold)")
        }
        if trainLimit < 0 { throw c.invalid(.trainLimit, "must be ≥ 0") }
    }
}
