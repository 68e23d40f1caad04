import Foundation

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
    public struct Imputation {
        public let modality: Int
        public let mean: Matrix, deviation: Matrix
        public let draws: [Matrix]
        /// With the truth given: −log of its density under the mixture of the decoded draws, per row.
        public let predictiveNLL: [Double]?
    }

    /// The regression of z_M on z_O and the Cholesky factor of the conditional covariance, as float
    /// matrices for row-wise sampling: z_M = z_O Rᵀ + ε Fᵀ. Refuses an empty or full `observed`.
    public func conditional(observed: [Int]) throws -> (regression: Matrix, factor: Matrix, missing: [Int]) {
        let k = model.modalities
        let o = Array(Set(observed)).sorted(), m = (0..<k).filter { !o.contains($0) }
        guard !o.isEmpty, !m.isEmpty, o.allSatisfy({ (0..<k).contains($0) }) else {
            throw GenerationStatistics.Failure(description: "CoVAE imputes from a non-empty proper subset of its \(k) modalities, got \(observed.map { $0 + 1 })")
        }
        let sigma = try model.priorCovarianceValue()
        func coordinates(_ views: [Int]) -> [Int] { views.flatMap { j in model.offsets[j]..<(model.offsets[j] + model.latents[j]) } }
        let oi = coordinates(o), mi = coordinates(m)
        func block(_ rows: [Int], _ cols: [Int]) -> DoubleMatrix {
            DoubleMatrix(rows: rows.count, cols: cols.count, rows.flatMap { r in cols.map { sigma[r, $0] } })
        }
        let l = try block(oi, oi).cholesky()
        let coefficients = l.solveLower(l.solveLower(block(oi, mi)), transpose: true)     // Σ_OO⁻¹ Σ_OM
        let covariance = block(mi, mi) - block(mi, oi).matmul(coefficients)
        let factor = try covariance.cholesky()
        func float(_ a: DoubleMatrix) -> Matrix { Matrix(rows: a.rows, cols: a.cols, a.storage.map { Float($0) }) }
        return (float(coefficients.transposed), float(factor), m)
    }

    /// Imputes every modality outside `observed` (modality → rows of its features; all the same rows);
    /// with `truth` for a missing modality, also scores it (log-mean-exp over the draws). The draws are
    /// keyed by row (`EvaluationNoise`, positions from `firstRow` on), so chunking changes nothing.
    public func impute(observed: [Int: Matrix], samples: Int, truth: [Int: Matrix] = [:], firstRow: Int = 0) throws -> [Imputation] {
        let sizes = model.latents
        let given = observed.keys.sorted()
        guard let n = observed.values.first?.rows, observed.values.allSatisfy({ $0.rows == n }) else {
            throw GenerationStatistics.Failure(description: "the observed modalities need the same rows")
        }
        for (j, t) in truth where t.rows != n || t.cols != model.viewDimensions[j] {
            throw GenerationStatistics.Failure(description: "the truth of modality \(j + 1) is \(t.rows)×\(t.cols); expected \(n)×\(model.viewDimensions[j])")
        }
        for j in given where observed[j]!.cols != model.viewDimensions[j] {
            throw GenerationStatistics.Failure(description: "observed rows of modality \(j + 1) have \(observed[j]!.cols) features; the model's have \(model.viewDimensions[j])")
        }
        let (regression, factor, missing) = try conditional(observed: given)
        let keys = EvaluationNoise(seed: seed, indices: Array(firstRow..<(firstRow + n)))
        var draws = [[Matrix]](repeating: [], count: missing.count)
        var logDensities = [[[Double]]](repeating: [], count: missing.count)
        for s in 0..<samples {
            let tape = Tape()
            // z_O and z_M side by side in modality order, as `conditional` lays them out.
            var zO = Matrix(rows: n, cols: regression.cols), at = 0
            for j in given {
                let q = model.encode(j, tape.constant(observed[j]!), tape: tape)
                let noise = keys.normals(cols: sizes[j], stream: s * 64 + j)
                let z = tape.value(tape.reparameterize(mean: q.mean, logVar: q.logVar, noise: tape.constant(noise)))
                for r in 0..<n { for c in 0..<sizes[j] { zO[r, at + c] = z[r, c] } }
                at += sizes[j]
            }
            let noise = keys.normals(cols: regression.rows, stream: s * 64 + 63)
            let zM = zO.matmul(regression, transposeOther: true) + noise.matmul(factor, transposeOther: true)
            var from = 0
            for (i, j) in missing.enumerated() {
                let out = model.decode(j, tape.constant(zM.columns(from..<(from + sizes[j]))), tape: tape)
                from += sizes[j]
                draws[i].append(tape.value(model.likelihoods[j].mean(output: out, tape: tape)))
                if let t = truth[j] {
                    let nll = tape.value(model.likelihoods[j].negativeLogLikelihood(output: out, target: tape.constant(t), tape: tape, arena: model.arena))
                    logDensities[i].append(nll.storage.map { -Double($0) })
                }
            }
        }
        return missing.enumerated().map { i, j in
            let (mean, deviation) = Self.moments(draws[i])
            let scores = truth[j] == nil ? nil : (0..<n).map { r in negativeLogMeanExp(logDensities[i].map { $0[r] }) }
            return Imputation(modality: j, mean: mean, deviation: deviation, draws: draws[i], predictiveNLL: scores)
        }
    }

    /// The two-modality form: modality 1 − k from modality k.
    public func impute(given k: Int, observed: Matrix, samples: Int) throws -> (mean: Matrix, deviation: Matrix, draws: [Matrix]) {
        let r = try impute(observed: [k: observed], samples: samples)[0]
        return (r.mean, r.deviation, r.draws)
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
