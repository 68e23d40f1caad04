import MVCore
import MVData

/// One stage of a model's recipe, as the model declares it.
public struct StageDefinition: Equatable {
    /// Names the stage in configs (`training.stages.<name>`), metrics, progress and checkpoints.
    public let name: String
    /// The parameter groups it trains (adjacent in the arena, see `ParameterArena.beginGroup`); empty:
    /// every parameter. The others are frozen: no gradient, no exchange, no optimizer work.
    public let groups: [String]
    /// Its length unless `training.stages.<name>.epochs` says otherwise; nil: `training.epochs`.
    public let defaultEpochs: Int?
    /// Adam's moments and step count start afresh at the stage's start.
    public let restartsOptimizer: Bool

    public init(name: String, groups: [String] = [], defaultEpochs: Int? = nil, restartsOptimizer: Bool = false) {
        self.name = name
        self.groups = groups
        self.defaultEpochs = defaultEpochs
        self.restartsOptimizer = restartsOptimizer
    }
}

/// Values an end-of-stage computation sets: one parameter view's `rows × cols` values.
public struct ParameterAssignment {
    public let view: ParameterView
    public let values: [Float]

    public init(_ view: ParameterView, _ values: [Float]) {
        precondition(values.count == view.count, "assignment to \(view.name): \(values.count) values for \(view.count)")
        self.view = view
        self.values = values
    }
}

/// Sums over the whole training split for end-of-stage computations: each rank runs `body` over its
/// share of the rows, chunk by chunk, adding into `count` doubles; the ranks' sums are then added by an
/// allreduce, so every rank gets the same bits and world sizes agree to rounding.
public protocol TrainingSplitSums {
    /// `body(batch, tape, sums)` for each chunk of this rank's rows (loaded into `batch`; `tape` reset).
    func sum(count: Int, _ body: (Batch, Tape, UnsafeMutablePointer<Double>) throws -> Void) throws -> [Double]
}
