import MVCore
import MVConfig
import MVModels

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
            throw ConfigError.invalidValue(
                key: "training.stages.\(name)",
                message: "this model trains in the stage(s) \(names.joined(separator: ", ")); there is no stage '\(name)'")
        }
        return recipe.map { stage in
            guard let range = stage.groups.isEmpty ? 0..<arena.count : arena.range(ofGroups: stage.groups) else {
                preconditionFailure("stage \(stage.name): groups \(stage.groups) are unknown or not adjacent in the arena")
            }
            let settings = training.stages[stage.name]
            return TrainingStage(
                name: stage.name, epochs: settings?.epochs ?? stage.defaultEpochs ?? training.epochs, trainable: range,
                restartsOptimizer: stage.restartsOptimizer,
                learningRate: settings?.learningRate ?? training.learningRate, warmupSteps: training.warmupSteps)
        }
    }
}
