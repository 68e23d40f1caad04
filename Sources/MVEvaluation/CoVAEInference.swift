import Foundation
import MVCore
import MVModels

/// CoVAE's conditional generation (the CoVAE paper, "Generating from CoVAE") for any observed subset O
/// of the modalities: each observed modality j is encoded by its unimodal encoder, z_j ~ q_j(z_j | x_j);
/// the missing latents z_M are drawn from the prior conditional (Eq. 2 for any O)
///
///     z_M | z_O ~ N(Σ_MO Σ_OO⁻¹ z_O, Σ_MM − Σ_MO Σ_OO⁻¹ Σ_OM),
///
/// and each draw is decoded. The spread of the decoded draws is the imputation's latent uncertainty: it
/// shrinks as the prior's correlations grow and, with ρ → 0, is that of decoding the prior itself.
public struct CoVAEInference {
    public let model: CoVAE
    public let seed: UInt64

    public init(model: CoVAE, seed: UInt64) {
        self.model = model
        self.seed = seed
    }

    /// Per missing modality: the decoded means of `samples` draws, their mean and per-feature standard
    /// deviation (rows × features each).
    public typealias Imputation = ViewImputation

    /// The regression of z_M on z_O and the Cholesky factor of the conditional covariance, as float
    /// matrices for row-wise sampling: z_M = z_O Rᵀ + ε Fᵀ. Refuses an empty or full `observed`.
    public func conditional(observed: [Int]) throws -> (regression: Matrix, factor: Matrix, missing: [Int]) {
        let k = model.modalities
        let o = Array(Set(observed)).sorted(), m = (0..<k).filter { !o.contains($0) }
        guard !o.isEmpty, !m.isEmpty, o.allSatisfy({ (0..<k).contains($0) }) else {
            throw GenerationStatistics.Failure(
                description: "CoVAE imputes from a non-empty proper subset of its \(k) modalities, got \(observed.map { $0 + 1 })")
        }
        let sigma = try model.priorCovarianceValue()
        let oi = model.coordinates(of: o), mi = model.coordinates(of: m)
        func block(_ rows: [Int], _ cols: [Int]) -> DoubleMatrix {
            DoubleMatrix(rows: rows.count, cols: cols.count, rows.flatMap { r in cols.map { sigma[r, $0] } })
        }
        let l = try block(oi, oi).cholesky()
        let coefficients = l.solveLower(l.solveLower(block(oi, mi)), transpose: true)  // Σ_OO⁻¹ Σ_OM
        let covariance = block(mi, mi) - block(mi, oi).matmul(coefficients)
        let factor = try covariance.cholesky()
        func float(_ a: DoubleMatrix) -> Matrix { Matrix(rows: a.rows, cols: a.cols, a.storage.map { Float($0) }) }
        return (float(coefficients.transposed), float(factor), m)
    }

    /// Imputes every modality outside `observed` (modality → rows of its features; all the same rows);
    /// with `truth` for a missing modality, also scores it (log-mean-exp over the draws). The draws are
    /// keyed by row (`EvaluationNoise`, positions from `firstRow` on), so chunking changes nothing.
    public func impute(observed: [Int: Matrix], samples: Int, truth: [Int: Matrix] = [:], firstRow: Int = 0) throws -> [Imputation] {
        try model.impute(observed: observed, samples: samples, seed: seed, truth: truth, firstRow: firstRow)
    }

    /// The two-modality form: modality 1 − k from modality k.
    public func impute(given k: Int, observed: Matrix, samples: Int) throws -> (mean: Matrix, deviation: Matrix, draws: [Matrix]) {
        let r = try impute(observed: [k: observed], samples: samples)[0]
        return (r.mean, r.deviation, r.draws)
    }
}
