import MVCore

/// Deep CCA's objective (Andrew et al. 2013, "Deep Canonical Correlation Analysis") for the features
/// of two views over the whole global batch, in its squared form:
///   Σ_i ρ_i² = tr(C₁₁⁻¹ C₁₂ C₂₂⁻¹ C₂₁),  C_kk = Cov(f_k) + r I (regularised), C₁₂ = Cov(f₁, f₂).
/// Andrew et al. maximise Σ_i ρ_i, the trace norm of C₁₁^{-1/2} C₁₂ C₂₂^{-1/2}; the squared form has
/// the same maximisers when every correlation can reach 1 and needs no matrix square roots (their
/// gradient needs an eigendecomposition per step). The covariances are formed from sums over every
/// rank's rows (`Tape.sumOverRanks` over the tape's communicator), so the objective does not depend on
/// how the batch is split.
public enum DeepCCAObjective {
    /// The objective (1 × 1) and the global row count N (1 × 1) for features f₁ (n × p), f₂ (n × q);
    /// with 0/1 `weights` (n × 1), over the rows of weight 1 only (N counts those). 0 when N ≤ p + q.
    /// Also ‖m₁‖² + ‖m₂‖² of the features' means: the objective does not change when features shift, so
    /// shifts get a gradient of pure rounding noise (biases of units active on every row), which Adam
    /// turns into full steps of a sign that depends on summation order — a small penalty on the means
    /// gives those directions a real gradient (and costs nothing: correlations ignore the means).
    public static func squaredCorrelations(
        _ features1: Var, _ features2: Var, regularization r: Float, weights: Var? = nil,
        tape: Tape
    ) throws -> (objective: Var, rows: Var, meanSquares: Var) {
        let p = tape.cols(features1), q = tape.cols(features2), n = tape.rows(features1)
        precondition(tape.rows(features2) == n, "deep CCA: the views' features need the same rows")
        let f1 = weights.map { tape.mul(features1, $0) } ?? features1, f2 = weights.map { tape.mul(features2, $0) } ?? features2
        precondition(weights == nil || tape.cols(weights!) == 1, "deep CCA: weights are n × 1")
        func flat(_ x: Var) -> Var { tape.reshape(x, rows: 1, cols: tape.rows(x) * tape.cols(x)) }
        // Two passes over the global batch (one allreduce each): the means, then the second moments of the
        // centred features. (One pass, E[ffᵀ] − m mᵀ, cancels two large terms when the features sit far from
        // 0, and its rounding reaches the gradient of directions the objective does not depend on.)
        let count = weights.map { tape.sum($0) } ?? tape.scalar(Float(n))
        let first = try tape.sumOverRanks(
            tape.concatColumns(tape.concatColumns(tape.sum(f1, axis: .rows), tape.sum(f2, axis: .rows)), count))
        let rows = tape.sliceColumns(first, p + q, count: 1)
        // The count has no gradient; the same on every rank. A batch without pairs divides by 1, not 0.
        let pairCount = tape.item(rows), inverse = 1 / Swift.max(pairCount, 1)
        let m1 = tape.scale(tape.sliceColumns(first, 0, count: p), inverse), m2 = tape.scale(tape.sliceColumns(first, p, count: q), inverse)
        var c1 = tape.sub(features1, m1), c2 = tape.sub(features2, m2)
        if let weights { c1 = tape.mul(c1, weights); c2 = tape.mul(c2, weights) }
        let second = try tape.sumOverRanks(
            tape.concatColumns(
                tape.concatColumns(
                    flat(tape.matmul(c1, c1, transposeA: true)),
                    flat(tape.matmul(c2, c2, transposeA: true))),
                flat(tape.matmul(c1, c2, transposeA: true))))
        func block(_ at: Int, _ r: Int, _ c: Int) -> Var {
            tape.scale(tape.reshape(tape.sliceColumns(second, at, count: r * c), rows: r, cols: c), inverse)
        }
        let meanSquares = tape.add(tape.sum(tape.square(m1)), tape.sum(tape.square(m2)))
        // A global batch of at most p + q pairs has no usable covariance (one row: pure rounding, amplified
        // by 1/r): it contributes nothing. Every rank takes the same branch; the collectives are behind us.
        guard pairCount > Float(p + q) else { return (tape.scale(tape.sum(second), 0), rows, meanSquares) }
        let c11 = tape.add(block(0, p, p), ridge(p, r, tape: tape))
        let c22 = tape.add(block(p * p, q, q), ridge(q, r, tape: tape))
        let c12 = block(p * p + q * q, p, q)
        // tr(A B) with A = C₁₁⁻¹ C₁₂ (p × q), B = C₂₂⁻¹ C₂₁ (q × p): Σ_ij A_ij B_ji.
        let a = try tape.solve(c11, c12), b = try tape.solve(c22, tape.transpose(c12))
        return (tape.sum(tape.mul(a, tape.transpose(b))), rows, meanSquares)
    }

    static func ridge(_ n: Int, _ r: Float, tape: Tape) -> Var {
        tape.input(rows: n, cols: n) { m in
            m.update(repeating: 0, count: n * n)
            for i in 0..<n { m[i * n + i] = r }
        }
    }
}
