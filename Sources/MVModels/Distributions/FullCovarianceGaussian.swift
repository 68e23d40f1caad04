import MVCore

/// A full-covariance Gaussian posterior per row, q(z | x) = N(μ, Σ) with Σ = L Lᵀ + εI (the CoVAE
/// paper's Cholesky parameterisation, §2.2): μ rows × D, L rows × D² lower-triangular with a positive
/// diagonal. Sampling and the KL against a fixed N(0, Σ_prior) are batched over rows.
public struct FullCovarianceGaussian {
    public let mean: Var
    public let factor: Var
    /// ε of Σ = L Lᵀ + εI: keeps Σ positive definite when L's diagonal shrinks.
    public let jitter: Float

    public init(mean: Var, factor: Var, jitter: Float) {
        self.mean = mean
        self.factor = factor
        self.jitter = jitter
    }

    /// L from raw network outputs: `diagonal` (rows × D) through softplus, `strictlyLower`
    /// (rows × D(D−1)/2) as they are.
    public static func factor(diagonal raw: Var, strictlyLower: Var, tape: Tape) -> Var {
        tape.rowLowerTriangular(diagonal: tape.softplus(raw), strictlyLower: strictlyLower)
    }

    /// Σ = L Lᵀ + εI per row (rows × D²).
    public func covariance(tape: Tape) -> Var {
        let d = tape.cols(mean)
        let eye = tape.input(rows: 1, cols: d * d) { p in
            p.update(repeating: 0, count: d * d)
            for i in 0..<d { p[i * d + i] = jitter }
        }
        return tape.add(tape.rowGram(factor), eye)
    }

    /// z = μ + L ε₁ + √ε ε₂ with ε₁, ε₂ ~ N(0, I) (rows × D each): exactly N(μ, L Lᵀ + εI).
    public func sample(noise: Var, jitterNoise: Var, tape: Tape) -> Var {
        tape.add(tape.add(mean, tape.rowMatVec(factor, noise)), tape.scale(jitterNoise, jitter.squareRoot()))
    }

    /// KL(q ‖ N(0, Σ_p)) per row (rows × 1) in closed form, from P = Σ_p⁻¹ (D × D) and ln det Σ_p (1 × 1):
    /// ½[tr(P Σ) + μᵀ P μ − D + ln det Σ_p − ln det Σ].
    public func klDivergence(priorPrecision p: Var, priorLogDet: Var, tape: Tape) throws -> Var {
        let d = tape.cols(mean)
        let sigma = covariance(tape: tape)
        // tr(P Σ) = Σ_ij P_ij Σ_ij for symmetric P and Σ.
        let trace = tape.sum(tape.mul(sigma, tape.reshape(p, rows: 1, cols: d * d)), axis: .cols)
        let quadratic = tape.sum(tape.mul(tape.matmul(mean, p), mean), axis: .cols)
        let logDet = try tape.rowLogDeterminant(sigma)
        let inner = tape.sub(tape.add(tape.addScalar(tape.add(trace, quadratic), -Float(d)), priorLogDet), logDet)
        return tape.scale(inner, 0.5)
    }
}
