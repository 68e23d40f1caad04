import Foundation
import MVCore
import MVModels

/// What `mvvae encode` gives for each row: the model's posterior over its latent given a subset of the
/// views, for downstream use (clustering, UMAP, classifiers). Rows stay aligned with the input.
public struct Embedding {
    /// A name per latent coordinate, e.g. "z3" (a shared latent) or "view2.z1" (a view's own latent).
    public var columns: [String]
    /// The posterior mean, rows × columns.
    public var mean: Matrix
    /// Gaussian posteriors: log σ² of each coordinate (CoVAE's full covariance: its marginal variances).
    public var logVariance: Matrix?
    /// Mixture posteriors (no single variance): one draw per row, keyed by the row's position.
    public var draw: Matrix?

    public init(columns: [String], mean: Matrix, logVariance: Matrix? = nil, draw: Matrix? = nil) {
        self.columns = columns
        self.mean = mean
        self.logVariance = logVariance
        self.draw = draw
    }
}

/// A model that can say q(z | x_O) for any non-empty subset O of its views: the one code path
/// `mvvae encode` uses for every family.
public protocol EmbeddingModel: MultiViewModel {
    /// The posterior of one chunk of rows. `observed` holds every view of O (view → rows × features,
    /// all the same rows, already checked); `noise` keys any draw by the rows' positions.
    func embedChunk(_ observed: [Int: Matrix], noise: EvaluationNoise, tape: Tape) throws -> Embedding
}

extension Matrix {
    /// Matrices of the same rows side by side (rows × Σ cols).
    static func sideBySide(_ parts: [Matrix]) -> Matrix {
        let rows = parts.first?.rows ?? 0, cols = parts.reduce(0) { $0 + $1.cols }
        var out = Matrix(rows: rows, cols: cols)
        var offset = 0
        for p in parts {
            precondition(p.rows == rows, "sideBySide: \(p.rows) rows next to \(rows)")
            for r in 0..<rows { for c in 0..<p.cols { out[r, offset + c] = p[r, c] } }
            offset += p.cols
        }
        return out
    }
}

public struct EmbeddingError: Error, CustomStringConvertible, Equatable {
    public let description: String
}

extension EmbeddingModel {
    /// q(z | x_O) for every row, in chunks of `chunk` rows (the result does not depend on the chunking).
    public func embed(_ observed: [Int: Matrix], seed: UInt64, chunk: Int = 1000) throws -> Embedding {
        let dims = viewDimensions
        guard !observed.isEmpty else { throw EmbeddingError(description: "give at least one view to encode") }
        for (k, x) in observed.sorted(by: { $0.key < $1.key }) {
            guard dims.indices.contains(k) else {
                throw EmbeddingError(description: "view \(k + 1) does not exist: this model has views 1…\(dims.count)")
            }
            guard x.cols == dims[k] else {
                throw EmbeddingError(description: "view \(k + 1) has \(x.cols) features; this model's view \(k + 1) has \(dims[k])")
            }
        }
        let rows = observed.values.first!.rows
        guard observed.values.allSatisfy({ $0.rows == rows }) else {
            throw EmbeddingError(
                description:
                    "the views to encode have different numbers of rows: "
                    + "\(observed.sorted { $0.key < $1.key }.map { "view \($0.key + 1): \($0.value.rows)" }.joined(separator: ", "))"
            )
        }
        let tape = Tape()
        var parts: [Embedding] = []
        var start = 0
        repeat {
            let r = start..<Swift.min(rows, start + Swift.max(chunk, 1))
            tape.reset()
            parts.append(
                try embedChunk(observed.mapValues { $0.rows(r) }, noise: EvaluationNoise(seed: seed, indices: Array(r)), tape: tape))
            start = r.upperBound
        } while start < rows
        func stack(_ m: [Matrix]) -> Matrix {
            Matrix(rows: m.reduce(0) { $0 + $1.rows }, cols: m[0].cols, m.flatMap(\.storage))
        }
        return Embedding(
            columns: parts[0].columns, mean: stack(parts.map(\.mean)),
            logVariance: parts[0].logVariance.map { _ in stack(parts.map { $0.logVariance! }) },
            draw: parts[0].draw.map { _ in stack(parts.map { $0.draw! }) })
    }
}
