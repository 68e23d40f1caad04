import MVCore
import MVData

/// The loss of one step, each term summed over the batch's rows (not averaged: the trainer sums over
/// ranks and divides by the global row count, which keeps every world size on one trajectory).
public struct LossTerms {
    public let total: Var
    public let reconstruction: Var
    public let kl: Var

    public init(total: Var, reconstruction: Var, kl: Var) {
        self.total = total
        self.reconstruction = reconstruction
        self.kl = kl
    }
}

/// What the trainer needs from a model: its parameters, its recipe (the stages it trains in), and
/// the loss of each stage.
public protocol MultiViewModel: AnyObject {
    var arena: ParameterArena { get }
    var viewDimensions: [Int] { get }
    /// The stages, in training order. Each trains some of the arena's parameter groups.
    var recipe: [StageDefinition] { get }
    /// Records the loss of `batch` in stage `stage` (an index into `recipe`) on `tape` with KL weight
    /// `beta`; randomness keyed by `seed`.
    func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64, stage: Int) throws -> LossTerms
    /// The end of stage `stage`: a computation over the whole training split (sums over every rank's
    /// rows from `split`, identical on every rank), returning the parameter values it sets. Run when the
    /// next stage is entered, so never for the last stage.
    func finishStage(_ stage: Int, split: TrainingSplitSums) throws -> [ParameterAssignment]
    /// Whether stage `stage`'s loss sums over ranks inside the forward pass (`Tape.sumOverRanks`): then
    /// every rank records it at every step, even with no rows of its own, and evaluations run the same
    /// number of chunks on every rank.
    func recordsCollectives(stage: Int) -> Bool
    /// Whether stage `stage`'s KL term is exact (closed form, so never below 0 beyond rounding): then a
    /// negative KL is a numerical breakdown and stops the run. Monte-Carlo KLs may be negative.
    func klIsExact(stage: Int) -> Bool
}

extension MultiViewModel {
    public func recordsCollectives(stage: Int) -> Bool { false }

    public func klIsExact(stage: Int) -> Bool { false }

    public func finishStage(_ stage: Int, split: TrainingSplitSums) throws -> [ParameterAssignment] { [] }
}

/// A model trained in one stage, "train", over all of its parameters (JPVAE, the aggregated VAE).
public protocol SingleStageModel: MultiViewModel {
    func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64) throws -> LossTerms
}

extension SingleStageModel {
    public var recipe: [StageDefinition] { [StageDefinition(name: "train")] }

    public func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64, stage: Int) throws -> LossTerms {
        try loss(batch, tape: tape, beta: beta, seed: seed)
    }
}
