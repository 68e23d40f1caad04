import Foundation
import MVCore

// Log-densities of diagonal Gaussians and their mixtures at sampled points, for Monte-Carlo KL terms.

extension Tape {
    /// The same distribution with every parameter detached: the sticking-the-landing estimator
    /// (Roeder et al. 2017) evaluates log q(z) this way so that only the path through z carries gradient,
    /// which drops the zero-mean score term from the KL gradient.
    public func detached(_ q: PosteriorMixture) -> PosteriorMixture {
        let parts = array(count: q.components.count) { c in
            GaussianPosterior(mean: detached(q.components[c].mean), logVar: detached(q.components[c].logVar))
        }
        return PosteriorMixture(components: parts, weights: q.weights.map { detached($0) })
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
        var terms: Var?, present: Var?
        forEachPresentComponent(of: q) { c, component in
            let t = logDensity(z, component), wc = sliceColumns(w, c, count: 1)
            terms = terms.map { concatColumns($0, t) } ?? t
            present = present.map { concatColumns($0, wc) } ?? wc
        }
        return weightedLogSumExp(terms!, weights: present!)
    }

    /// `body(c, q_c)` for each component c with positive weight in some row, in order. Which components
    /// a batch lacks varies from step to step; the loop is one `withStableNodeCount` region.
    public func forEachPresentComponent(of q: PosteriorMixture, _ body: (Int, GaussianPosterior) -> Void) {
        withStableNodeCount {
            for (c, component) in q.components.enumerated() where hasWeight(q, c) { body(c, component) }
        }
    }

    /// Whether component c has positive weight in any row (always true for a single Gaussian). With no
    /// rows at all (a rank without rows of this batch still records the step) component 0 stands for all.
    public func hasWeight(_ q: PosteriorMixture, _ c: Int) -> Bool {
        guard let w = q.weights else { return true }
        let (rows, cols) = shape(w), value = valuePointer(w)
        if rows == 0 { return c == 0 }
        for r in 0..<rows where value[r * cols + c] > 0 { return true }
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
