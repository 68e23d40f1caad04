/// Deep CCA's objective (Andrew et al. 2013, "Deep Canonical Correlation Analysis") for the features
/// of two views over the whole global batch, in its squared form:
///   Σ_i ρ_i² = tr(C₁₁⁻¹ C₁₂ C₂₂⁻¹ C₂₁),  C_kk = Cov(f_k) + r I (regularised), C₁₂ = Cov(f₁, f₂).
/// Andrew et al. maximise Σ_i ρ_i, the trace norm of C₁₁^{-1/2} C₁₂ C₂₂^{-1/2}; the squared form has
/// the same maximisers when every correlation can reach 1 and needs no matrix square roots (their
/// gradient needs an eigendecomposition per step). The covariances are formed from sums over every
/// rank's rows (`Tape.sumOverRanks` over the tape's communicator), so the objective does not depend on how the batch is split.
public enum DeepCCAObjective {
    /// The objective (1 × 1) and the global row count N (1 × 1) for features f₁ (n × p), f₂ (n × q).
    public static func squaredCorrelations(_ f1: Var, _ f2: Var, regularization r: Float, tape: Tape) throws -> (objective: Var, rows: Var) {
        let p = tape.cols(f1), q = tape.cols(f2), n = tape.rows(f1)
        precondition(tape.rows(f2) == n, "deep CCA: the views' features need the same rows")
        func flat(_ x: Var) -> Var { tape.reshape(x, rows: 1, cols: tape.rows(x) * tape.cols(x)) }
        // One vector of sufficient statistics: Σf₁, Σf₂, Σf₁ᵀf₁, Σf₂ᵀf₂, Σf₁ᵀf₂, n — one allreduce.
        let parts = [tape.sum(f1, axis: .rows), tape.sum(f2, axis: .rows), flat(tape.matmul(f1, f1, transposeA: true)),
                     flat(tape.matmul(f2, f2, transposeA: true)), flat(tape.matmul(f1, f2, transposeA: true)), tape.scalar(Float(n))]
        var packed = parts[0]
        for part in parts.dropFirst() { packed = tape.concatColumns(packed, part) }
        let s = try tape.sumOverRanks(packed)
        var at = 0
        func take(_ rows: Int, _ cols: Int) -> Var {
            defer { at += rows * cols }
            return tape.reshape(tape.sliceColumns(s, at, count: rows * cols), rows: rows, cols: cols)
        }
        let s1 = take(1, p), s2 = take(1, q), q11 = take(p, p), q22 = take(q, q), q12 = take(p, q), rows = take(1, 1)
        let m1 = tape.div(s1, rows), m2 = tape.div(s2, rows)
        func covariance(_ second: Var, _ a: Var, _ b: Var) -> Var {
            tape.sub(tape.div(second, rows), tape.matmul(a, b, transposeA: true))
        }
        let c11 = tape.add(covariance(q11, m1, m1), ridge(p, r, tape: tape))
        let c22 = tape.add(covariance(q22, m2, m2), ridge(q, r, tape: tape))
        let c12 = covariance(q12, m1, m2)
        // tr(A B) with A = C₁₁⁻¹ C₁₂ (p × q), B = C₂₂⁻¹ C₂₁ (q × p): Σ_ij A_ij B_ji.
        let a = try tape.solve(c11, c12), b = try tape.solve(c22, tape.transpose(c12))
        return (tape.sum(tape.mul(a, tape.transpose(b))), rows)
    }

    static func ridge(_ n: Int, _ r: Float, tape: Tape) -> Var {
        tape.input(rows: n, cols: n) { m in
            m.update(repeating: 0, count: n * n)
            for i in 0..<n { m[i * n + i] = r }
        }
    }
}
