// A sum over the ranks of a data-parallel step, inside the forward pass: batch-level objectives
// (deep CCA's covariances) need statistics of the whole global batch, not of one rank's slice.

extension Tape {
    /// x summed elementwise over every rank of the tape's `communicator` (nil: one process, the identity). Every
    /// rank then computes the same objective L(S) from S = Σ_r x_r; the VJP passes ∂L/∂S on to this
    /// rank's own x_r, and the trainer's sum of the ranks' gradients gives Σ_r ∂L/∂S · ∂x_r/∂θ = ∂L/∂θ.
    /// Collective: every rank must record it in the same order.
    public func sumOverRanks(_ x: Var) throws -> Var {
        let nx = nodes[x.id]
        let n = nx.rows * nx.cols
        let out = record(.sumOverRanks(x.id), rows: nx.rows, cols: nx.cols, needsGrad: nx.needsGrad)
        let y = nodes[out.id].value
        y.update(from: nx.value, count: n)
        if let communicator, communicator.size > 1, n > 0 { try communicator.allreduceSum(y, count: n) }
        return out
    }

    func backwardSumOverRanks(_ i: Int) {
        guard case let .sumOverRanks(x) = nodes[i].op, nodes[x].needsGrad else { return }
        let g = nodes[i].grad, gx = nodes[x].grad
        for k in 0..<(nodes[i].rows * nodes[i].cols) { gx[k] += g[k] }
    }
}
