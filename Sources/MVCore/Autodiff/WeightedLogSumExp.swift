import Foundation

// log Σ_c w_c e^{l_c} per row over the components with w_c > 0, and its VJP: the log-density of a
// mixture from its components' log-densities l and weights w.

extension Tape {
    /// r×C logits and r×C non-negative weights → r×1. Components with w_c = 0 are left out exactly (not
    /// as log 0 = −∞, whose VJP would be NaN, nor as a tiny weight, which an absent component with a far
    /// larger density would still dominate). A row with no positive weight gives −∞.
    public func weightedLogSumExp(_ logits: Var, weights: Var) -> Var {
        let nl = nodes[logits.id], nw = nodes[weights.id]
        precondition(
            nl.rows == nw.rows && nl.cols == nw.cols, "weightedLogSumExp: logits \(nl.rows)x\(nl.cols) vs weights \(nw.rows)x\(nw.cols)")
        let out = record(
            .weightedLogSumExp(logits: logits.id, weights: weights.id), rows: nl.rows, cols: 1,
            needsGrad: nl.needsGrad || nw.needsGrad)
        let y = nodes[out.id].value, l = nl.value, w = nw.value, c = nl.cols
        for i in 0..<nl.rows {
            var m = -Float.infinity
            for j in 0..<c where w[i * c + j] > 0 { m = Swift.max(m, l[i * c + j]) }
            if m == -.infinity { y[i] = -.infinity; continue }
            var s: Float = 0
            for j in 0..<c where w[i * c + j] > 0 { s += w[i * c + j] * Foundation.exp(l[i * c + j] - m) }
            y[i] = m + Foundation.log(s)
        }
        return out
    }

    func backwardWeightedLogSumExp(_ i: Int) {
        guard case let .weightedLogSumExp(logits, weights) = nodes[i].op else { preconditionFailure("not weightedLogSumExp") }
        let node = nodes[i], nl = nodes[logits], nw = nodes[weights]
        let g = node.grad, y = node.value, l = nl.value, w = nw.value, c = nl.cols
        for r in 0..<nl.rows where y[r] > -.infinity {
            for j in 0..<c where w[r * c + j] > 0 {
                // ∂y/∂l_c = w_c e^{l_c − y} (the responsibility), ∂y/∂w_c = e^{l_c − y}.
                let e = Foundation.exp(l[r * c + j] - y[r])
                if nl.needsGrad { nl.grad[r * c + j] += g[r] * w[r * c + j] * e }
                if nw.needsGrad { nw.grad[r * c + j] += g[r] * e }
            }
        }
    }
}
