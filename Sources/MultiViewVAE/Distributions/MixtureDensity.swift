import Foundation

// Log-densities of diagonal Gaussians and their mixtures at sampled points, for Monte-Carlo KL terms.

extension Tape {
    /// A copy of `x` that takes no gradient (stop-gradient).
    public func detached(_ x: Var) -> Var {
        let n = nodes[x.id]
        return input(rows: n.rows, cols: n.cols) { $0.update(from: nodes[x.id].value, count: n.rows * n.cols) }
    }

    /// The same distribution with every parameter detached: the sticking-the-landing estimator
    /// (Roeder et al. 2017) evaluates log q(z) this way so that only the path through z carries gradient,
    /// which drops the zero-mean score term from the KL gradient.
    public func detached(_ q: PosteriorMixture) -> PosteriorMixture {
        var parts: [GaussianPosterior] = []
        return detached(q, reusing: &parts)
    }

    /// `detached(_:)` with `parts` as the copy's component list, emptied first (keeping its capacity):
    /// the training step passes the same array every time, so the copy allocates no array.
    public func detached(_ q: PosteriorMixture, reusing parts: inout [GaussianPosterior]) -> PosteriorMixture {
        parts.removeAll(keepingCapacity: true)
        for c in q.components { parts.append(GaussianPosterior(mean: detached(c.mean), logVar: detached(c.logVar))) }
        guard let w = q.weights else {
            let gaussian = parts[0]
            return PosteriorMixture(gaussian, reusing: &parts)
        }
        return PosteriorMixture(components: parts, weights: detached(w))
    }

    /// log N(z; μ, diag e^{lv}) per row (rows × 1).
    public func logDensity(_ z: Var, _ q: GaussianPosterior) -> Var {
        sum(gaussianLogDensity(z, mean: q.mean, logVar: q.logVar), axis: .cols)
    }

    /// log N(z; 0, I) per row (rows × 1).
    public func standardNormalLogDensity(_ z: Var) -> Var {
        let d = Float(cols(z))
        return addScalar(scale(sum(square(z), axis: .cols), -0.5), -0.5 * d * Foundation.log(2 * Float.pi))
    }

    /// log Σ_c w_c N(z; μ_c, σ_c²) per row (rows × 1), over the components with w_c > 0 in that row
    /// (`weightedLogSumExp`); a component absent from every row is not even evaluated.
    public func logDensity(_ z: Var, _ q: PosteriorMixture) -> Var {
        guard let w = q.weights else { return logDensity(z, q.components[0]) }
        let start = count
        var terms: Var?, present: Var?, recorded = 0
        for (c, component) in q.components.enumerated() where hasWeight(q, c) {
            let t = logDensity(z, component), wc = sliceColumns(w, c, count: 1)
            accumulate(&terms, t) { concatColumns($0, $1) }
            accumulate(&present, wc) { concatColumns($0, $1) }
            recorded += 1
        }
        padSkippedComponents(since: start, recorded: recorded, of: q.components.count)
        return weightedLogSumExp(terms!, weights: present!)
    }

    // A loop over a mixture's components skips those absent from every row of the batch, so how many
    // it records varies from step to step. The tape keeps one buffer per node position: a step whose
    // later nodes moved would meet buffers of other sizes there and reallocate them (mallocs in steady
    // state). These keep every such loop at one node count: each recorded component adds the same
    // number of nodes, and empty nodes stand in for the skipped ones.

    /// total = combine(total, next), or total = next for the first term with an empty node in place of
    /// the combining one, so that the first component records as many nodes as the others.
    func accumulate(_ total: inout Var?, _ next: Var, by combine: (Var, Var) -> Var) {
        if let sum = total {
            total = combine(sum, next)
        } else {
            total = next
            recordEmpty()
        }
    }

    /// Empty nodes for the components a loop skipped: it started at node `start` and recorded
    /// `recorded` of `components` components, as many nodes each.
    func padSkippedComponents(since start: Int, recorded: Int, of components: Int) {
        guard recorded > 0, recorded < components else { return }
        let perComponent = (count - start) / recorded
        for _ in 0..<(components - recorded) * perComponent { recordEmpty() }
    }

    /// A 0 × 0 leaf that views the last node's buffer instead of owning one: where a full step records a
    /// parameter (a view, with no tape buffer), a leaf of the tape's own would get a buffer allocated.
    private func recordEmpty() {
        _ = externalConstant(nodes[count - 1].value, rows: 0, cols: 0)
    }

    /// Whether component c has positive weight in any row (always true for a single Gaussian). With no
    /// rows at all (a rank without rows of this batch still records the step) component 0 stands for all.
    public func hasWeight(_ q: PosteriorMixture, _ c: Int) -> Bool {
        guard let w = q.weights else { return true }
        let n = nodes[w.id]
        if n.rows == 0 { return c == 0 }
        for r in 0..<n.rows where n.value[r * n.cols + c] > 0 { return true }
        return false
    }

    /// The weight of component c per row (rows × 1), or nil for a single Gaussian (w = 1).
    public func weight(_ q: PosteriorMixture, _ c: Int) -> Var? {
        q.weights.map { sliceColumns($0, c, count: 1) }
    }

    /// Σ_c w_c μ_c: the mixture's mean (rows × latent).
    public func mean(_ q: PosteriorMixture) -> Var {
        guard q.weights != nil else { return q.components[0].mean }
        var total: Var?
        for (c, component) in q.components.enumerated() {
            let t = mul(component.mean, weight(q, c)!)
            total = total.map { add($0, t) } ?? t
        }
        return total!
    }
}
