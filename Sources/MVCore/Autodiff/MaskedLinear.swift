/// A dense layer whose weight is multiplied by a fixed 0/1 mask: y = f(x (W ⊙ M) + b). MADE builds
/// its autoregressive networks from these (`MADE`): the mask cuts every path from input i to the outputs
/// of coordinates ≤ i.
///
/// One node: W ⊙ M is formed in the node's scratch and fed to `linear`'s kernels, so the masked weight
/// costs one pass over k×n floats; W's gradient is (xᵀ dZ) ⊙ M — exactly zero where the mask is, so
/// Adam never moves a cut connection.
extension Tape {
    public func maskedLinear(_ x: Var, weight w: Var, bias b: Var, mask: Var, activation: Activation = .identity) -> Var {
        let nx = nodes[x.id], nw = nodes[w.id], nb = nodes[b.id], nm = nodes[mask.id]
        precondition(nx.cols == nw.rows, "maskedLinear: input has \(nx.cols) columns, weight has \(nw.rows) rows")
        precondition(nb.rows == 1 && nb.cols == nw.cols, "maskedLinear: bias must be 1x\(nw.cols)")
        precondition(nm.rows == nw.rows && nm.cols == nw.cols, "maskedLinear: mask \(nm.rows)x\(nm.cols) vs weight \(nw.rows)x\(nw.cols)")
        let m = nx.rows, n = nw.cols, k = nx.cols
        let out = record(
            .maskedLinear(x.id, w.id, b.id, mask: mask.id, activation), rows: m, cols: n,
            needsGrad: nx.needsGrad || nw.needsGrad || nb.needsGrad)
        // Scratch: W ⊙ M, then room for xᵀ dZ and for dZ in the backward pass.
        let masked = aux(out, count: 2 * k * n + m * n)
        for q in 0..<(k * n) { masked[q] = nw.value[q] * nm.value[q] }
        affine(x: nx.value, weight: masked, bias: nb.value, into: nodes[out.id].value, m: m, n: n, k: k, activation: activation)
        return out
    }

    func backwardMaskedLinear(_ i: Int) {
        guard case let .maskedLinear(x, w, b, mask, activation) = nodes[i].op else { preconditionFailure("not a masked linear node") }
        let nx = nodes[x], nw = nodes[w], nb = nodes[b], nm = nodes[mask]
        let m = nodes[i].rows, n = nodes[i].cols, k = nx.cols
        let masked = slots[i].aux!, product = masked + k * n
        let dz = affineOutputGradient(i, activation: activation, biasGradient: nb.needsGrad ? nb.grad : nil, scratch: product + k * n)
        guard m > 0, n > 0, k > 0 else { return }
        if nw.needsGrad {
            sgemm(transA: true, transB: false, m: k, n: n, k: m, alpha: 1, a: nx.value, b: dz, beta: 0, c: product)
            for q in 0..<(k * n) { nw.grad[q] += product[q] * nm.value[q] }
        }
        if nx.needsGrad { sgemm(transA: false, transB: true, m: m, n: k, k: n, alpha: 1, a: dz, b: masked, beta: 1, c: nx.grad) }
    }
}
