import MVCore
import MVConfig

/// The observation model of one view: turns decoder outputs into a negative log-likelihood per row.
public struct Likelihood {
    public let kind: ModelConfig.Likelihood
    /// Gaussian/Laplace: learnt log-scale per feature (nil when fixed or Bernoulli).
    public let logScale: ParameterView?
    /// Negative binomial (zero-inflated too): learnt log θ per feature (variance μ + μ²/θ).
    public let logDispersion: ParameterView?
    /// Zero-inflated negative binomial: learnt logit ρ per feature of the chance π = σ(ρ) of an extra zero.
    public let zeroLogit: ParameterView?
    /// The arena of the learnt parameters (a zero-inflated view's mean reads π).
    private let arena: ParameterArena
    public let fixedLogScale: Float
    /// Categorical: classes per token (the view is features / classes one-hot blocks).
    public let classes: Int

    /// `categories`: a categorical view's classes per token (0: the whole view is one block).
    public init(
        _ name: String, kind: ModelConfig.Likelihood, features: Int, fixedLogScale: Float?, categories: Int = 0,
        arena: ParameterArena
    ) {
        self.kind = kind
        self.fixedLogScale = fixedLogScale ?? 0
        classes = kind == .categorical && categories > 0 ? categories : features
        precondition(features % classes == 0, "\(name): \(features) features are not blocks of \(classes) classes")
        if (kind == .gaussian || kind == .laplace) && fixedLogScale == nil {
            logScale = arena.register("\(name).logScale", rows: 1, cols: features, initializer: .zeros)
        } else {
            logScale = nil
        }
        logDispersion = kind.hasDispersion ? arena.register("\(name).logDispersion", rows: 1, cols: features, initializer: .zeros) : nil
        zeroLogit =
            kind == .zeroInflatedNegativeBinomial
            ? arena.register("\(name).zeroLogit", rows: 1, cols: features, initializer: .zeros) : nil
        self.arena = arena
    }

    /// −log p(x | decoder output), summed over features: a rows×1 column.
    /// Bernoulli: output = logits. Gaussian: output = mean, variance e^{2·logScale}. Laplace: output = location.
    /// Poisson, negative binomial (zero-inflated too): output = logits of each feature's share of the row's total count.
    public func negativeLogLikelihood(output: Var, target: Var, tape: Tape, arena: ParameterArena) -> Var {
        switch kind {
        case .bernoulli:
            return tape.bceWithLogitsRowSum(output, targets: target)
        case .gaussian:
            let logVar = tape.scale(scaleVar(tape, arena), 2)
            return tape.neg(tape.sum(tape.gaussianLogDensity(target, mean: output, logVar: logVar), axis: .cols))
        case .laplace:
            return tape.neg(tape.sum(tape.laplaceLogDensity(target, location: output, logScale: scaleVar(tape, arena)), axis: .cols))
        case .categorical:
            // Per token, −log softmax(o)_c = logsumexp(o) − o_c for the one-hot class c: Σ_tokens logsumexp − Σ x ⊙ o.
            let (rows, features) = tape.shape(output), tokens = features / classes
            var normalizers = tape.logsumexp(tokens == 1 ? output : tape.reshape(output, rows: rows * tokens, cols: classes))
            if tokens > 1 { normalizers = tape.sum(tape.reshape(normalizers, rows: rows, cols: tokens), axis: .cols) }
            return tape.sub(normalizers, tape.sum(tape.mul(target, output), axis: .cols))
        case .poisson, .negativeBinomial, .zeroInflatedNegativeBinomial:
            return tape.countNegativeLogLikelihood(
                target, logits: output, logDispersion: logDispersion.map { tape.parameter($0, in: arena) },
                zeroLogits: zeroLogit.map { tape.parameter($0, in: arena) })
        }
    }

    private func scaleVar(_ tape: Tape, _ arena: ParameterArena) -> Var {
        if let logScale { return tape.parameter(logScale, in: arena) }
        return tape.scalar(fixedLogScale)
    }

    /// Count views' expected counts given the observed row totals: `shares` (from `mean`) times each row's
    /// total in `target`, which is how the likelihood scores them; other views' means as they are.
    public func expectedCounts(_ shares: Matrix, given target: Matrix) -> Matrix {
        guard kind.isCount else { return shares }
        var out = shares
        for r in 0..<out.rows {
            let total = (0..<target.cols).reduce(Float(0)) { $0 + target[r, $1] }
            for c in 0..<out.cols { out[r, c] *= total }
        }
        return out
    }

    /// The expected value of x given a decoder output (probabilities for Bernoulli, each token's class
    /// probabilities for categorical, each feature's expected share of the row's total for counts (times 1 − π
    /// when zero-inflated): the
    /// library size of a view not observed is unknown, so its expected counts are these times a size).
    public func mean(output: Var, tape: Tape) -> Var {
        switch kind {
        case .bernoulli: return tape.sigmoid(output)
        case .poisson, .negativeBinomial: return tape.softmax(output)
        case .zeroInflatedNegativeBinomial:
            // (1 − π)·share: the extra zeros lower the mean.
            return tape.mul(tape.softmax(output), tape.sigmoid(tape.neg(tape.parameter(zeroLogit!, in: arena))))
        case .categorical:
            let (rows, features) = tape.shape(output)
            if features == classes { return tape.softmax(output) }
            return tape.reshape(
                tape.softmax(tape.reshape(output, rows: rows * features / classes, cols: classes)), rows: rows, cols: features)
        case .gaussian, .laplace: return output
        }
    }
}
