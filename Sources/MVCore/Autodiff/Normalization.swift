import Foundation

extension Tape {
    /// Layer normalisation of each row without affine terms: (x − mean) / sqrt(var + eps).
    /// Compose with `mul`/`add` of 1×c parameters for the learnt gain and bias.
    public func layerNorm(_ x: Var, eps: Float = 1e-5) -> Var {
        let nx = nodes[x.id]
        let out = record(.layerNorm(x.id, eps), rows: nx.rows, cols: nx.cols, needsGrad: nx.needsGrad)
        let y = nodes[out.id].value, xv = nx.value, c = nx.cols
        let rstd = aux(out, count: nx.rows)  // saved 1/σ per row for the VJP
        for i in 0..<nx.rows {
            var mu: Float = 0
            for j in 0..<c { mu += xv[i * c + j] }
            mu /= Float(c)
            var v: Float = 0
            for j in 0..<c { let d = xv[i * c + j] - mu; v += d * d }
            v /= Float(c)
            let r = 1 / (v + eps).squareRoot()
            rstd[i] = r
            for j in 0..<c { y[i * c + j] = (xv[i * c + j] - mu) * r }
        }
        return out
    }

    func backwardNormalization(_ i: Int) {
        let node = nodes[i]
        guard case let .layerNorm(x, _) = node.op else { preconditionFailure("not a normalization op") }
        let g = node.grad, y = node.value, c = node.cols, gx = nodes[x].grad
        let rstd = slots[i].aux!
        // dx = rstd · (g − mean(g) − y · mean(g ⊙ y))
        for r in 0..<node.rows {
            var mg: Float = 0, mgy: Float = 0
            for j in 0..<c { mg += g[r * c + j]; mgy += g[r * c + j] * y[r * c + j] }
            mg /= Float(c); mgy /= Float(c)
            for j in 0..<c { gx[r * c + j] += rstd[r] * (g[r * c + j] - mg - y[r * c + j] * mgy) }
        }
    }
}
