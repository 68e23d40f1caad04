/// Failures during training that the user must hear about.
public enum TrainingError: Error, CustomStringConvertible {
    case nonFinite(step: Int, loss: Double)
    case replicasDiverged(step: Int, spread: Double)
    case emptyTrainingSet
    case checkpointMismatch(String)
    case stageMismatch(String)
    /// The step's numbers are impossible (a negative exact KL, a loss spike, a singular matrix).
    case numericalBreakdown(step: Int, what: String)

    public var description: String {
        switch self {
        case let .nonFinite(step, loss):
            return
                "the loss or its gradient became non-finite at step \(step) (loss \(loss)); nothing was applied. Lower "
                + "training.learningRate or check the data for NaN/inf values"
        case let .replicasDiverged(step, spread):
            return
                "parameter replicas disagree across ranks at step \(step) (checksum spread \(spread)); the run is stopped — this "
                + "points to non-deterministic data or a hardware fault"
        case .emptyTrainingSet:
            return "the training split has no rows; check data.validationSize / trainLimit"
        case let .checkpointMismatch(s):
            return "checkpoint does not fit this model: \(s)"
        case let .stageMismatch(s):
            return s
        case let .numericalBreakdown(step, what):
            return
                "numerical breakdown at step \(step): \(what); nothing was applied and no checkpoint of this state is written "
                + "(train again in a new --run with a lower training.learningRate or longer training.warmupSteps: a resume keeps the "
                + "run's own settings and would refuse them)"
        }
    }
}
