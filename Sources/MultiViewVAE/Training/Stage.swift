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

/// A stage resolved against a config and an arena: what the trainer runs.
public struct TrainingStage: Equatable {
    public let name: String
    public let epochs: Int
    public let trainable: Range<Int>
    public let restartsOptimizer: Bool
    /// `training.stages.<name>.learningRate`, else `training.learningRate`.
    public let learningRate: Float
    public let warmupSteps: Int

    /// The learning rate of the stage's step `step` (0-based within the stage), after the warm-up.
    public func learningRate(step: Int) -> Float {
        warmupSteps > 0 && step < warmupSteps ? learningRate * Float(step + 1) / Float(warmupSteps) : learningRate
    }

    /// `recipe` with the lengths and learning rates of `training`; a `training.stages` entry that names
    /// no stage of the recipe is an error naming the stages there are.
    public static func resolve(_ recipe: [StageDefinition], arena: ParameterArena, training: TrainingConfig) throws -> [TrainingStage] {
        let names = recipe.map(\.name)
        for name in training.stages.keys.sorted() where !names.contains(name) {
            throw ConfigError.invalidValue(key: "training.stages.\(name)",
                                           message: "this model trains in the stage(s) \(names.joined(separator: ", ")); there is no stage '\(name)'")
        }
        return recipe.map { stage in
            guard let range = stage.groups.isEmpty ? 0..<arena.count : arena.range(ofGroups: stage.groups) else {
                preconditionFailure("stage \(stage.name): groups \(stage.groups) are unknown or not adjacent in the arena")
            }
            let settings = training.stages[stage.name]
            return TrainingStage(name: stage.name, epochs: settings?.epochs ?? stage.defaultEpochs ?? training.epochs, trainable: range,
                                 restartsOptimizer: stage.restartsOptimizer,
                                 learningRate: settings?.learningRate ?? training.learningRate, warmupSteps: training.warmupSteps)
        }
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
