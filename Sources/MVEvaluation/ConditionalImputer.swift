import Foundation
import MVCore
import MVModels

/// Imputed values of one missing view from N draws of the model's conditional given the observed views.
public struct ViewImputation {
    public let modality: Int
    /// The predictive mean: the average over the draws of each draw's expected view.
    public let mean: Matrix
    /// Per-feature standard deviation of the draws' expected views.
    public let deviation: Matrix
    /// Each draw's expected view (probabilities for Bernoulli views), N of them.
    public let draws: [Matrix]
    /// With the truth given: −log of its density under the mixture of the N decoded distributions
    /// (log-mean-exp over the draws), per row.
    public let predictiveNLL: [Double]?
}

public struct ImputationError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

/// A model's conditional p(z_M | x_O), drawn and decoded: the one path `mvvae impute` and evaluation
/// use for every family. A conformance says how one draw of the missing views' decoder outputs is made.
public protocol ConditionalImputer {
    var viewDimensions: [Int] { get }
    var arena: ParameterArena { get }
    func likelihood(of view: Int) -> Likelihood
    /// Which observed subsets this model can impute from (a message when it cannot), before any work.
    func checkObserved(_ observed: [Int]) throws
    /// Draw `d` of the decoder output of every view in `missing` for the chunk's rows, from the model's
    /// conditional given `observed`; every random number keyed by (`noise`, the row, `d`).
    func decodedDraw(_ observed: [Int: Matrix], missing: [Int], noise: EvaluationNoise, draw d: Int, tape: Tape) throws -> [Int: Var]
    /// A line about how the draws were made (a sampler's acceptance rate), after `impute`; nil: nothing to say.
    var report: String? { get }
}

extension ConditionalImputer {
    public var report: String? { nil }
}

extension ConditionalImputer {
    /// Imputes every view outside `observed` (view → rows of its features; all the same rows) with
    /// `samples` draws; with `truth` for a missing view, also scores it. Draws are keyed by row position
    /// (from `firstRow` on), so splitting the rows into calls changes nothing.
    public func impute(observed: [Int: Matrix], samples: Int, seed: UInt64, truth: [Int: Matrix] = [:], firstRow: Int = 0) throws
        -> [ViewImputation]
    {
        let k = viewDimensions.count
        let given = observed.keys.sorted(), missing = (0..<k).filter { observed[$0] == nil }
        guard !given.isEmpty, !missing.isEmpty, given.allSatisfy({ (0..<k).contains($0) }) else {
            throw ImputationError(
                description:
                    "imputation needs some of the \(k) views observed and some missing; got views "
                    + "\(given.map { String($0 + 1) }.joined(separator: ","))"
            )
        }
        guard samples >= 1 else { throw ImputationError(description: "imputation needs at least one draw, got \(samples)") }
        try checkObserved(given)
        guard let n = observed.values.first?.rows, observed.values.allSatisfy({ $0.rows == n }) else {
            let rows = given.map { "view \($0 + 1): \(observed[$0]!.rows)" }.joined(separator: ", ")
            throw ImputationError(description: "the observed views need the same rows: \(rows)")
        }
        for j in given where observed[j]!.cols != viewDimensions[j] {
            throw ImputationError(
                description:
                    "the observed view \(j + 1) has \(observed[j]!.cols) features; the model's view \(j + 1) has \(viewDimensions[j])")
        }
        for (j, t) in truth.sorted(by: { $0.key < $1.key }) where t.rows != n || t.cols != viewDimensions[j] || observed[j] != nil {
            throw ImputationError(
                description: observed[j] != nil
                    ? "a truth is given for view \(j + 1), which is observed"
                    : "the truth of view \(j + 1) is \(t.rows)×\(t.cols); expected \(n)×\(viewDimensions[j])")
        }
        let noise = EvaluationNoise(seed: seed, indices: Array(firstRow..<(firstRow + n)))
        var draws = [[Matrix]](repeating: [], count: missing.count)
        var logDensities = [[[Double]]](repeating: [], count: missing.count)
        let tape = Tape()
        for d in 0..<samples {
            tape.reset()
            let outputs = try decodedDraw(observed, missing: missing, noise: noise, draw: d, tape: tape)
            for (i, j) in missing.enumerated() {
                let out = outputs[j]!
                draws[i].append(tape.value(likelihood(of: j).mean(output: out, tape: tape)))
                if let t = truth[j] {
                    let nll = tape.value(
                        likelihood(of: j).negativeLogLikelihood(output: out, target: tape.constant(t), tape: tape, arena: arena))
                    logDensities[i].append(nll.storage.map { -Double($0) })
                }
            }
        }
        return missing.enumerated().map { i, j in
            let (mean, deviation) = Self.moments(draws[i])
            let scores = truth[j] == nil ? nil : (0..<n).map { r in negativeLogMeanExp(logDensities[i].map { $0[r] }) }
            return ViewImputation(modality: j, mean: mean, deviation: deviation, draws: draws[i], predictiveNLL: scores)
        }
    }

    /// Per-element mean and standard deviation across draws.
    static func moments(_ draws: [Matrix]) -> (Matrix, Matrix) {
        let rows = draws[0].rows, cols = draws[0].cols
        var mean = Matrix(rows: rows, cols: cols), deviation = Matrix(rows: rows, cols: cols)
        for i in 0..<(rows * cols) {
            var sum = 0.0, squares = 0.0
            for draw in draws { sum += Double(draw.storage[i]); squares += Double(draw.storage[i]) * Double(draw.storage[i]) }
            let m = sum / Double(draws.count)
            mean.storage[i] = Float(m)
            deviation.storage[i] = Float(Swift.max(squares / Double(draws.count) - m * m, 0).squareRoot())
        }
        return (mean, deviation)
    }
}
