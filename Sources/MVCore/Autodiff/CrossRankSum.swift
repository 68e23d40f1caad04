// A sum over the ranks of a data-parallel step, inside the forward pass: batch-level objectives
// (deep CCA's covariances) need statistics of the whole global batch, not of one rank's slice.
//
// The convention: the step's objective J is the sum of every rank's loss, J = Σ_r ℓ_r (a batch-level
// objective L computed alike on every rank enters as ℓ_r = L / P), and S = Σ_r x_r. Then
// ∂J/∂x_r = Σ_r' ∂ℓ_r'/∂S: the VJP sums the incoming gradients over the ranks too. (Passing ∂ℓ_r/∂S on
// unchanged would be right only when nothing rank-local lies downstream of S; deep CCA's second pass
// centres each rank's own rows with the global means, so it does.)

extension Tape {
    /// x summed elementwise over every rank of the tape's `communicator` (nil: one process, the identity).
    /// Collective in both directions: every rank must record it, and run `backward`, in the same order.
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
        let n = nodes[i].rows * nodes[i].cols
        let g = aux(Var(i), count: n)
        g.update(from: nodes[i].grad, count: n)
        if let communicator, communicator.size > 1, n > 0 {
            do { try communicator.allreduceSum(g, count: n) } catch {
                // `backward` does not throw: the trainer reads this after it and stops.
                if collectiveFailure == nil { collectiveFailure = error }
            }
        }
        let gx = nodes[x].grad
        for k in 0..<n { gx[k] += g[k] }
    }
}
