import Foundation
import MVCore
import MVModels

/// Forward passes of a trained JPVAE over whole matrices, in chunks (no gradients kept).
public struct JPVAEInference {
    public let model: JPVAE
    public let seed: UInt64
    public var chunk = 1000

    public init(model: JPVAE, seed: UInt64) {
        self.model = model
        self.seed = seed
    }

    /// Runs `body` over row chunks of `rows`, concatenating the produced matrices row-wise.
    func chunked(_ rows: Int, cols: Int, _ body: (Tape, Range<Int>) throws -> Matrix) rethrows -> Matrix {
        var out = Matrix(rows: rows, cols: cols)
        let tape = Tape()
        var start = 0
        while start < rows {
            let r = start..<Swift.min(rows, start + chunk)
            tape.reset()
            let m = try body(tape, r)
            out.storage.replaceSubrange((r.lowerBound * cols)..<(r.upperBound * cols), with: m.storage)
            start = r.upperBound
        }
        return out
    }

    /// Encoder means and log-variances of view k for every row of x.
    public func encode(view k: Int, _ x: Matrix) -> (mean: Matrix, logVar: Matrix) {
        let v = model.views[k]
        var logVar = Matrix(rows: x.rows, cols: v.latent)
        let mean = chunked(x.rows, cols: v.latent) { tape, r in
            let q = v.encode(tape.constant(x.rows(r)), tape: tape, arena: model.arena)
            let lv = tape.value(q.logVar)
            logVar.storage.replaceSubrange((r.lowerBound * v.latent)..<(r.upperBound * v.latent), with: lv.storage)
            return tape.value(q.mean)
        }
        return (mean, logVar)
    }

    /// One reparameterised draw z = μ + σ ε per row; ε keyed by (seed, row, view) under the evaluation purpose.
    public func sample(mean: Matrix, logVar: Matrix, view k: Int) -> Matrix {
        var z = mean
        for r in 0..<mean.rows {
            var rng = RandomStream(seed: seed, stream: RandomPurpose.evaluation.stream(index: r), block: UInt64(k) << 32)
            for j in 0..<mean.cols {
                z[r, j] = mean[r, j] + Foundation.exp(0.5 * logVar[r, j]) * rng.nextNormal()
            }
        }
        return z
    }

    /// Expected x of view k given latent z (probabilities for Bernoulli views).
    public func decodeMean(view k: Int, _ z: Matrix) -> Matrix {
        let v = model.views[k]
        return chunked(z.rows, cols: v.inputs) { tape, r in
            tape.value(v.likelihood.mean(output: v.decode(tape.constant(z.rows(r)), tape: tape, arena: model.arena), tape: tape))
        }
    }

    /// −log p(x | z) per row for view k (the reconstruction cross-entropy for Bernoulli views).
    public func negativeLogLikelihood(view k: Int, z: Matrix, x: Matrix) -> [Double] {
        let v = model.views[k]
        let col = chunked(z.rows, cols: 1) { tape, r in
            let out = v.decode(tape.constant(z.rows(r)), tape: tape, arena: model.arena)
            return tape.value(
                v.likelihood.negativeLogLikelihood(output: out, target: tape.constant(x.rows(r)), tape: tape, arena: model.arena))
        }
        return col.storage.map(Double.init)
    }

    /// Cross-entropy of data x against predicted probabilities p (both in [0, 1]), per row.
    /// −Σ_tokens Σ_c x_c log p_c per row: `classes` columns per token (0: the whole row is one token), each
    /// token's probabilities clipped at 10⁻⁷ and renormalised (a baseline's need not sum to 1).
    public static func categoricalCrossEntropy(probabilities p: Matrix, data x: Matrix, classes: Int) -> [Double] {
        let width = classes > 0 ? classes : x.cols
        return (0..<x.rows).map { r in
            var s = 0.0
            for start in stride(from: 0, to: x.cols, by: width) {
                var total = 0.0
                for j in start..<(start + width) { total += Swift.max(Double(p[r, j]), 1e-7) }
                for j in start..<(start + width) where x[r, j] != 0 {
                    s -= Double(x[r, j]) * Foundation.log(Swift.max(Double(p[r, j]), 1e-7) / total)
                }
            }
            return s
        }
    }

    public static func crossEntropy(probabilities p: Matrix, data x: Matrix) -> [Double] {
        (0..<x.rows).map { r in
            var s = 0.0
            for j in 0..<x.cols {
                let q = Swift.min(Swift.max(Double(p[r, j]), 1e-7), 1 - 1e-7)
                let t = Double(x[r, j])
                s -= t * Foundation.log(q) + (1 - t) * Foundation.log(1 - q)
            }
            return s
        }
    }
}
