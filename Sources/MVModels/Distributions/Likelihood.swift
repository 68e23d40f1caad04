import MVCore
import MVConfig

/// The observation model of one view: turns decoder outputs into a negative log-likelihood per row.
public struct Likelihood {
    public let kind: ModelConfig.Likelihood
    /// Gaussian/Laplace: learnt log-scale per feature (nil when fixed or Bernoulli).
    public let logScale: ParameterView?
    public let fixedLogScale: Float

    public init(_ name: String, kind: ModelConfig.Likelihood, features: Int, fixedLogScale: Float?, arena: ParameterArena) {
        self.kind = kind
        self.fixedLogScale = fixedLogScale ?? 0
        if kind != .bernoulli && fixedLogScale == nil {
            logScale = arena.register("\(name).logScale", rows: 1, cols: features, initializer: .zeros)
        } else {
            logScale = nil
        }
    }

    /// −log p(x | decoder output), summed over features: a rows×1 column.
    /// Bernoulli: output = logits. Gaussian: output = mean, variance e^{2·logScale}. Laplace: output = location.
    public func negativeLogLikelihood(output: Var, target: Var, tape: Tape, arena: ParameterArena) -> Var {
        switch kind {
        case .bernoulli:
            return tape.bceWithLogitsRowSum(output, targets: target)
        case .gaussian:
            let logVar = tape.scale(scaleVar(tape, arena), 2)
            return tape.neg(tape.sum(tape.gaussianLogDensity(target, mean: output, logVar: logVar), axis: .cols))
        case .laplace:
            return tape.neg(tape.sum(tape.laplaceLogDensity(target, location: output, logScale: scaleVar(tape, arena)), axis: .cols))
        }
    }

    private func scaleVar(_ tape: Tape, _ arena: ParameterArena) -> Var {
        if let logScale { return tape.parameter(logScale, in: arena) }
        return tape.scalar(fixedLogScale)
    }

    /// The expected value of x given a decoder output (probabilities for Bernoulli).
    public func mean(output: Var, tape: Tape) -> Var {
        kind == .bernoulli ? tape.sigmoid(output) : output
    }
}
