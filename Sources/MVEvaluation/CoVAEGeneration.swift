import Foundation
import MVCore
import MVModels

/// CoVAE's generation for `GenerationStatistics`: joint from q(z | x₁, x₂); conditional given x_k from
/// q_k(z_k | x_k) and the prior conditional p(z_{−k} | z_k) (Eq. 2); the joint −log p(x₁, x₂) by
/// importance sampling with the joint posterior as proposal (IWAE).
extension CoVAE: PairGenerationModel {
    public func jointDecoderInputs(_ x: (Matrix, Matrix), noise: EvaluationNoise, draw: Int, tape: Tape) throws -> (Var, Var) {
        let q = encodeJoint(tape.constant(x.0), tape.constant(x.1), tape: tape)
        let n = jointLatent
        let z = q.sample(
            noise: tape.constant(noise.normals(cols: n, stream: 2 * draw)),
            jitterNoise: tape.constant(noise.normals(cols: n, stream: 2 * draw + 1)), tape: tape)
        return (tape.sliceColumns(z, 0, count: latents[0]), tape.sliceColumns(z, offsets[1], count: latents[1]))
    }

    public func conditionalDecoderInputs(given k: Int, _ observed: Matrix, noise: EvaluationNoise, draw: Int, tape: Tape) throws -> (
        given: Var, other: Var
    ) {
        let z = try generate(
            given: k, tape.constant(observed), noise: tape.constant(noise.normals(cols: latents[k], stream: 1000 + 4 * draw + 2 * k)),
            conditionalNoise: tape.constant(noise.normals(cols: latents[1 - k], stream: 1001 + 4 * draw + 2 * k)),
            blocks: try priorBlocks(tape: tape), tape: tape)
        return (z.given, otherLatent(1 - k, given: k, z.other, tape: tape))
    }

    /// The singular values of Σ_prior's cross block (two modalities: C).
    public func priorCorrelations() throws -> [Double]? {
        let (d0, d1) = (latents[0], latents[1]), sigma = try priorCovarianceValue()
        return try DoubleMatrix(rows: d1, cols: d0, (0..<(d0 * d1)).map { sigma[d0 + $0 / d0, $0 % d0] }).singularValueDecomposition().s
    }

    /// Σ_prior in double precision, as rows.
    func priorCovariance() throws -> [[Double]] {
        let sigma = try priorCovarianceValue()
        return (0..<sigma.rows).map { i in (0..<sigma.cols).map { sigma[i, $0] } }
    }

    /// Per row −log (1/N Σ_n p(x₁|z₁ⁿ) p(x₂|z₂ⁿ) p(zⁿ) / q(zⁿ | x)), zⁿ ~ q(z | x). q's factor is per row
    /// and the same for every draw: its Cholesky is taken once per row.
    public func jointNegativeLogLikelihood(_ xs: (Matrix, Matrix), draws: Int, noise: EvaluationNoise) throws -> [Double] {
        precondition(modalities == 2, "the pair statistics are for two modalities")
        let rows = xs.0.rows, dd = jointLatent, jitter = Double(settings.jitter)
        let priorFactor = try GaussianKL.cholesky(try priorCovariance())
        let tape = Tape()
        let q = encodeJoint(tape.constant(xs.0), tape.constant(xs.1), tape: tape)
        let mean = tape.value(q.mean), factor = tape.value(q.factor)
        let logTwoPi = Foundation.log(2 * Double.pi)
        func logDensity(_ centred: [Double], _ chol: [[Double]]) -> Double {
            let y = GaussianKL.forwardSolve(chol, centred)
            let half = (0..<dd).reduce(0.0) { $0 + Foundation.log(chol[$1][$1]) }
            return -0.5 * y.reduce(0) { $0 + $1 * $1 } - half - 0.5 * Double(dd) * logTwoPi
        }
        let choleskies = try (0..<rows).map { r -> [[Double]] in
            var s = [[Double]](repeating: [Double](repeating: 0, count: dd), count: dd)
            for i in 0..<dd {
                for j in 0...i {
                    var t = i == j ? jitter : 0
                    for k in 0...j { t += Double(factor[r, i * dd + k]) * Double(factor[r, j * dd + k]) }
                    s[i][j] = t; s[j][i] = t
                }
            }
            return try GaussianKL.cholesky(s)
        }
        var weights = [[Double]](repeating: [], count: rows)
        for s in 0..<draws {
            let e1 = noise.normals(cols: dd, stream: 100_000 + 2 * s), e2 = noise.normals(cols: dd, stream: 100_001 + 2 * s)
            var z = Matrix(rows: rows, cols: dd)
            var logRatio = [Double](repeating: 0, count: rows)
            for r in 0..<rows {
                var centred = [Double](repeating: 0, count: dd)
                for i in 0..<dd {
                    var t = jitter.squareRoot() * Double(e2[r, i])
                    for k in 0...i { t += Double(factor[r, i * dd + k]) * Double(e1[r, k]) }
                    centred[i] = t
                    z[r, i] = Float(Double(mean[r, i]) + t)
                }
                logRatio[r] = logDensity((0..<dd).map { Double(z[r, $0]) }, priorFactor) - logDensity(centred, choleskies[r])
            }
            tape.reset()
            var logLikelihood = [Double](repeating: 0, count: rows)
            for k in 0..<2 {
                let zk = tape.constant(z.columns(offsets[k]..<(offsets[k] + latents[k])))
                let nll = tape.value(
                    likelihoods[k].negativeLogLikelihood(
                        output: decode(k, zk, tape: tape),
                        target: tape.constant(k == 0 ? xs.0 : xs.1), tape: tape, arena: arena))
                for r in 0..<rows { logLikelihood[r] -= Double(nll[r, 0]) }
            }
            for r in 0..<rows { weights[r].append(logLikelihood[r] + logRatio[r]) }
        }
        return weights.map(negativeLogMeanExp)
    }
}
