/// Where a run is: enough to resume it exactly (with the parameters and optimizer moments).
public struct TrainingState: Codable, Equatable {
    /// Stage in progress (an index into the model's recipe).
    public var stage = 0
    /// Epoch in progress (0-based, counted over all stages: it keys the shuffle and the noise).
    public var epoch = 0
    /// Global batches of `epoch` already applied.
    public var batchInEpoch = 0
    /// Optimizer steps taken in total.
    public var step = 0
    /// Where the stage in progress began (its epochs and steps count from there).
    public var stageStartEpoch = 0
    public var stageStartStep = 0
    /// Running sums over the current epoch (per-sample losses), so a resumed epoch reports the same means.
    public var epochLossSum = 0.0
    public var epochReconstructionSum = 0.0
    public var epochKLSum = 0.0
    public var epochSamples = 0.0

    public init() {}

    enum CodingKeys: String, CodingKey {
        case stage, epoch, batchInEpoch, step, stageStartEpoch, stageStartStep
        case epochLossSum, epochReconstructionSum, epochKLSum, epochSamples
    }

    /// Checkpoints written before stages existed have no stage fields: they are in stage 0.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stage = try c.decodeIfPresent(Int.self, forKey: .stage) ?? 0
        epoch = try c.decode(Int.self, forKey: .epoch)
        batchInEpoch = try c.decode(Int.self, forKey: .batchInEpoch)
        step = try c.decode(Int.self, forKey: .step)
        stageStartEpoch = try c.decodeIfPresent(Int.self, forKey: .stageStartEpoch) ?? 0
        stageStartStep = try c.decodeIfPresent(Int.self, forKey: .stageStartStep) ?? 0
        epochLossSum = try c.decode(Double.self, forKey: .epochLossSum)
        epochReconstructionSum = try c.decode(Double.self, forKey: .epochReconstructionSum)
        epochKLSum = try c.decode(Double.self, forKey: .epochKLSum)
        epochSamples = try c.decode(Double.self, forKey: .epochSamples)
    }
}

/// One epoch's figures (losses are means per sample; nil where not computed).
public struct EpochSummary: Codable, Equatable {
    /// The stage's name and the epoch's number within it (1-based).
    public var stage: String
    public var stageEpoch: Int
    /// The epoch's number over the whole run (1-based).
    public var epoch: Int
    public var step: Int
    public var beta: Float
    public var trainLoss: Double
    public var trainReconstruction: Double
    public var trainKL: Double
    public var validationLoss: Double?
    public var validationReconstruction: Double?
    public var validationKL: Double?
    public var seconds: Double
    public var samplesPerSecond: Double
    /// Time this rank spent in the gradient allreduce during the epoch (includes waiting for slower ranks).
    public var allreduceSeconds: Double
}

/// What the trainer reports as it goes; the command-line tool turns these into progress output.
public enum TrainingEvent {
    /// `exchange` says how ranks combine gradients: "none" (one rank), "shared memory" or "rings".
    case started(startStep: Int, totalSteps: Int, parameters: Int, worldSize: Int, exchange: String)
    /// A stage begins (also when a run resumes inside it): its name, position in the recipe, length
    /// and how many parameters it trains.
    case stageStarted(name: String, index: Int, of: Int, epochs: Int, trainable: Int, restartsOptimizer: Bool)
    /// A stage's end-of-stage computation set these parameters.
    case stageFinished(name: String, assigned: [String])
    /// `epoch` counts within the stage (0-based).
    /// `times`: where this step's time went on this rank.
    case step(
        stage: String, epoch: Int, step: Int, totalSteps: Int, batchInEpoch: Int, batchesPerEpoch: Int, loss: Double,
        samplesPerSecond: Double, times: StepPhases)
    case epochFinished(EpochSummary)
    case checkpointSaved(path: String, step: Int)
    case stopRequested(step: Int)
}

/// How a `run` ended.
public enum TrainingOutcome: Equatable {
    case completed
    /// A stop was requested (signal); state is checkpointed and the run can resume.
    case stopped(step: Int)
}

/// Seconds spent in each part of the training step on this rank, of one step or summed over steps.
/// forward: gathering the batch is done before, so this is zeroing gradients + recording the loss;
/// backward: the tape's reverse pass (+ reading control scalars); allreduce: the one collective
/// (including waiting for slower ranks); optimizer: the Adam update.
public struct StepPhases: Equatable {
    public var forward = 0.0, backward = 0.0, allreduce = 0.0, optimizer = 0.0
    public var steps = 0
    public var rows = 0

    public init() {}

    /// One step's.
    init(forward: Double, backward: Double, allreduce: Double, optimizer: Double, rows: Int) {
        (self.forward, self.backward, self.allreduce, self.optimizer) = (forward, backward, allreduce, optimizer)
        (steps, self.rows) = (1, rows)
    }

    public mutating func add(_ other: StepPhases) {
        forward += other.forward; backward += other.backward; allreduce += other.allreduce; optimizer += other.optimizer
        steps += other.steps
        rows += other.rows
    }
    public var total: Double { forward + backward + allreduce + optimizer }
}
