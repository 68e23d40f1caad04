/// The loss of one step, each term summed over the batch's rows (not averaged: the trainer sums over
/// ranks and divides by the global row count, which keeps every world size on one trajectory).
public struct LossTerms {
    public let total: Var
    public let reconstruction: Var
    public let kl: Var
}

/// What the trainer needs from a model.
public protocol MultiViewModel: AnyObject {
    var arena: ParameterArena { get }
    var viewDimensions: [Int] { get }
    /// Records the loss of `batch` on `tape` with KL weight `beta`; randomness keyed by `seed`.
    func loss(_ batch: Batch, tape: Tape, beta: Float, seed: UInt64) throws -> LossTerms
}
