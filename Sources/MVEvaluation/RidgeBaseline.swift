import Foundation
import MVCore
import MVConfig
import MVModels

/// The linear yardstick beside every imputation score: ridge regression from the observed views
/// (side by side) to the missing one, Ŷ = ȳ + (X − x̄) W with W = (XcᵀXc + λ n I)⁻¹ XcᵀYc, λ chosen
/// on held-out rows from a grid; real-valued views are scored under N(Ŷ, σ²) with σ² the training
/// residual variance of each feature, Bernoulli views by the cross-entropy of Ŷ clipped into [10⁻³, 1 − 10⁻³].
/// A model that does not beat it has learnt nothing a linear map would not.
public struct RidgeBaseline {
    /// The grid of λ, per training row (so the choice does not scale with n).
    public static let penalties: [Double] = [1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100]

    public let penalty: Double
    let weights: DoubleMatrix
    let inputMean: [Double]
    let outputMean: [Double]
    /// Per output feature, from the training residuals (never below 10⁻⁶ of the feature's variance).
    public let residualVariance: [Double]

    /// Fits on `x` → `y` (rows aligned). λ minimises the mean squared error on `validation` if given
    /// (and non-empty), else on the last tenth of the rows, held out for the choice only; the final fit
    /// uses every row of `x`.
    public init(x: Matrix, y: Matrix, validation: (x: Matrix, y: Matrix)? = nil) throws {
        guard x.rows == y.rows, x.rows >= 2 else {
            throw ImputationError(
                description: "the ridge baseline needs at least 2 training rows with the views observed, got \(Swift.min(x.rows, y.rows))")
        }
        var choice = validation.flatMap { $0.x.rows > 0 ? $0 : nil }
        var fitX = x, fitY = y
        if choice == nil {
            let held = Swift.max(1, x.rows / 10), kept = x.rows - held
            if kept >= 2 {
                choice = (x.rows(kept..<x.rows), y.rows(kept..<y.rows))
                fitX = x.rows(0..<kept)
                fitY = y.rows(0..<kept)
            }
        }
        var best = (penalty: Self.penalties[3], error: Double.infinity)
        if let choice {
            for penalty in Self.penalties {
                let trial = try RidgeBaseline(fitting: fitX, fitY, penalty: penalty)
                let error = trial.meanSquaredError(choice.x, truth: choice.y)
                if error < best.error { best = (penalty, error) }
            }
        }
        self = try RidgeBaseline(fitting: x, y, penalty: best.penalty)
    }

    private init(fitting x: Matrix, _ y: Matrix, penalty: Double) throws {
        let n = Double(x.rows)
        let mx = (0..<x.cols).map { c in (0..<x.rows).reduce(0.0) { $0 + Double(x[$1, c]) } / n }
        let my = (0..<y.cols).map { c in (0..<y.rows).reduce(0.0) { $0 + Double(y[$1, c]) } / n }
        let xc = DoubleMatrix(x).subtractingFromColumns(mx), yc = DoubleMatrix(y).subtractingFromColumns(my)
        var gram = xc.matmul(xc, transposeSelf: true)
        let scale = Swift.max((0..<gram.rows).map { gram[$0, $0] }.reduce(0, +) / Double(Swift.max(gram.rows, 1)), 1e-12)
        for i in 0..<gram.rows { gram[i, i] += penalty * n + 1e-9 * scale }
        let l = try gram.cholesky()
        weights = l.solveLower(l.solveLower(xc.matmul(yc, transposeSelf: true)), transpose: true)
        inputMean = mx
        outputMean = my
        self.penalty = penalty
        let residual = yc - xc.matmul(weights)
        residualVariance = (0..<y.cols).map { c in
            let total = (0..<y.rows).reduce(0.0) { $0 + yc[$1, c] * yc[$1, c] } / n
            let left = (0..<y.rows).reduce(0.0) { $0 + residual[$1, c] * residual[$1, c] } / n
            return Swift.max(left, 1e-6 * total, 1e-12)
        }
    }

    /// Ŷ for the rows of `x`.
    public func predict(_ x: Matrix) -> Matrix {
        let p = DoubleMatrix(x).subtractingFromColumns(inputMean).matmul(weights)
        var out = Matrix(rows: x.rows, cols: outputMean.count)
        for r in 0..<x.rows { for c in 0..<out.cols { out[r, c] = Float(p[r, c] + outputMean[c]) } }
        return out
    }

    /// Mean over rows and features of (Ŷ − truth)².
    public func meanSquaredError(_ x: Matrix, truth: Matrix) -> Double {
        let p = predict(x)
        return zip(p.storage, truth.storage).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(Swift.max(truth.count, 1))
    }

    /// −log p(truth | x) per row under the baseline's own likelihood (see the type).
    /// `classes`: a categorical view's classes per token (0: the whole view is one token).
    public func negativeLogLikelihood(_ x: Matrix, truth: Matrix, kind: ModelConfig.Likelihood, classes: Int = 0) -> [Double] {
        let p = predict(x)
        if kind == .categorical {
            // A linear map's scores clipped to [10⁻³, 1] and renormalised per token.
            var clipped = p
            for i in clipped.storage.indices { clipped.storage[i] = Swift.min(Swift.max(clipped.storage[i], 1e-3), 1) }
            return JPVAEInference.categoricalCrossEntropy(probabilities: clipped, data: truth, classes: classes)
        }
        if kind.isCount { return poissonNegativeLogLikelihood(shares: p, truth: truth) }
        if kind == .bernoulli {
            // A linear map overshoots [0, 1]; clipped at 10⁻³ so one overshoot does not cost 16 nats.
            var clipped = p
            for i in clipped.storage.indices { clipped.storage[i] = Swift.min(Swift.max(clipped.storage[i], 1e-3), 1 - 1e-3) }
            return JPVAEInference.crossEntropy(probabilities: clipped, data: truth)
        }
        return (0..<truth.rows).map { r in
            (0..<truth.cols).reduce(0.0) { acc, c in
                let d = Double(truth[r, c] - p[r, c]), v = residualVariance[c]
                return acc + 0.5 * Foundation.log(2 * Double.pi * v) + d * d / (2 * v)
            }
        }
    }
}
