import MVCore
extension Tape {
    /// KL(N(μ_q, diag e^{lv_q}) ‖ N(μ_p, diag e^{lv_p})) per row (rows × 1):
    /// ½ Σ_j [lv_p − lv_q + (e^{lv_q} + (μ_q − μ_p)²) e^{−lv_p} − 1].
    public func gaussianKL(_ q: GaussianPosterior, _ p: GaussianPosterior) -> Var {
        let d = sub(q.mean, p.mean)
        let ratio = mul(add(exp(q.logVar), square(d)), exp(neg(p.logVar)))
        let terms = addScalar(add(sub(p.logVar, q.logVar), ratio), -1)
        return scale(sum(terms, axis: .cols), 0.5)
    }

    /// KL(N(μ, diag e^{lv}) ‖ N(0, I)) per row: ½ Σ_j [μ² + e^{lv} − 1 − lv].
    public func standardNormalKL(_ q: GaussianPosterior) -> Var {
        scale(sum(addScalar(sub(add(square(q.mean), exp(q.logVar)), q.logVar), -1), axis: .cols), 0.5)
    }
}
