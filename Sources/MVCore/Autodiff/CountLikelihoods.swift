import Foundation

// Count likelihoods as scVI scores them: the decoder gives each feature's share of the row, softmax(logits),
// and the mean is that share times the row's observed library size ℓ = Σ_j x_j, μ_j = ℓ·softmax(o)_j.
//   Poisson:            −log p = Σ_j μ_j − x_j log μ_j + log Γ(x_j + 1)
//   negative binomial:  −log p = Σ_j −log Γ(x_j + θ_j) + log Γ(θ_j) + log Γ(x_j + 1) − θ_j log θ_j
//                                    + (θ_j + x_j) log(θ_j + μ_j) − x_j log μ_j,   θ_j = e^{logDispersion_j}
// (mean μ, variance μ + μ²/θ).
//   zero-inflated NB:   a zero drawn with probability π_j = σ(ρ_j) before the NB (ρ_j a learnt logit):
//                       −log p = −log(π_j + (1 − π_j)·NB(0)) for x_j = 0, −log(1 − π_j) + NB's otherwise.
// One op per row sum: its VJP goes through the softmax in closed form, ∂/∂o_j = a_j − softmax(o)_j · Σ_k a_k
// with a_j = ∂(−log p)/∂ log μ_j. A row of zeros (ℓ = 0) scores 0.

extension Tape {
    /// −log p(x | ℓ·softmax(logits)[, θ][, π]) summed over each row: rows × 1. `x` holds non-negative counts,
    /// `logDispersion` (nil: Poisson) and `zeroLogits` (ρ, π = σ(ρ); nil: no zero inflation; needs θ) are
    /// 1 × features.
    public func countNegativeLogLikelihood(_ x: Var, logits: Var, logDispersion: Var?, zeroLogits: Var? = nil) -> Var {
        let nx = nodes[x.id], no = nodes[logits.id]
        precondition(
            nx.rows == no.rows && nx.cols == no.cols, "countNegativeLogLikelihood: x \(nx.rows)x\(nx.cols) vs logits \(no.rows)x\(no.cols)")
        if let d = logDispersion {
            precondition(
                nodes[d.id].rows == 1 && nodes[d.id].cols == nx.cols, "countNegativeLogLikelihood: dispersion must be 1x\(nx.cols)")
        }
        if let z = zeroLogits {
            precondition(logDispersion != nil, "countNegativeLogLikelihood: zero inflation needs a dispersion")
            precondition(
                nodes[z.id].rows == 1 && nodes[z.id].cols == nx.cols, "countNegativeLogLikelihood: zero logits must be 1x\(nx.cols)")
        }
        let out = record(
            .countNegativeLogLikelihood(
                x: x.id, logits: logits.id, logDispersion: logDispersion?.id ?? -1, zeroLogits: zeroLogits?.id ?? -1),
            rows: nx.rows, cols: 1,
            needsGrad: nx.needsGrad || no.needsGrad || (logDispersion.map { nodes[$0.id].needsGrad } ?? false)
                || (zeroLogits.map { nodes[$0.id].needsGrad } ?? false))
        precondition(!nx.needsGrad, "countNegativeLogLikelihood: the counts must be data")
        let rows = nx.rows, cols = nx.cols, y = nodes[out.id].value
        // Kept for the VJP, so it needs no exp or log: per row ℓ and log Σ_j e^{o_j}; per entry the share
        // softmax(o)_j and, with a dispersion, log(θ_j + μ_j).
        let kept = aux(out, count: 2 * rows + (logDispersion == nil ? 1 : 2) * rows * cols)
        let keptShares = kept + 2 * rows, keptLogs = keptShares + rows * cols
        let rho = zeroLogits.map { nodes[$0.id].value }
        // Per feature, once: θ, log θ, log Γ(θ). A zero count then costs no log Γ at all (its log Γ terms
        // cancel), which is most of a sparse count view.
        let feature = logDispersion.map { d -> UnsafeMutablePointer<Double> in
            let f = doubleWorkspace(count: 4 * cols), logTheta = nodes[d.id].value
            for j in 0..<cols {
                let t = Foundation.exp(Double(logTheta[j]))
                (f[j], f[cols + j], f[2 * cols + j]) = (t, Foundation.log(t), lgamma(t))
            }
            return f
        }
        // e^{o_j − max}: one exp per entry, for the normaliser and then the mean.
        let exps = feature.map { $0 + 3 * cols } ?? doubleWorkspace(count: cols)
        for r in 0..<rows {
            let xr = nx.value + r * cols, orow = no.value + r * cols
            var library = 0.0, top = -Double.infinity
            for j in 0..<cols {
                library += Double(xr[j])
                top = Swift.max(top, Double(orow[j]))
            }
            var total = 0.0
            for j in 0..<cols {
                exps[j] = Foundation.exp(Double(orow[j]) - top)
                total += exps[j]
            }
            let lse = top + Foundation.log(total)
            for j in 0..<cols { keptShares[r * cols + j] = Float(exps[j] / total) }
            kept[2 * r] = Float(library)
            kept[2 * r + 1] = Float(lse)
            guard library > 0 else {
                y[r] = 0
                continue
            }
            let logLibrary = Foundation.log(library)
            var nll = 0.0
            for j in 0..<cols {
                let xj = Double(xr[j]), logMu = logLibrary + Double(orow[j]) - lse, mu = library * exps[j] / total
                if let f = feature {
                    let t = f[j], logT = f[cols + j], logTMu = Foundation.log(t + mu)
                    keptLogs[r * cols + j] = Float(logTMu)
                    if let rho {
                        let zero = ZeroInflation(rho: Double(rho[j]), theta: t, mu: mu)
                        if xj == 0 {
                            nll -= zero.logZero
                            continue
                        }
                        nll -= zero.logNotInflated
                    }
                    if xj == 0 {
                        nll += t * (logTMu - logT)
                    } else {
                        nll += -lgamma(xj + t) + f[2 * cols + j] + lgamma(xj + 1) - t * logT + (t + xj) * logTMu - xj * logMu
                    }
                } else {
                    nll += xj == 0 ? mu : mu - xj * logMu + lgamma(xj + 1)
                }
            }
            y[r] = Float(nll)
        }
        return out
    }

    func backwardCountNegativeLogLikelihood(_ i: Int) {
        guard case let .countNegativeLogLikelihood(x, o, d, z) = nodes[i].op else { preconditionFailure("not a count likelihood") }
        let node = nodes[i], nx = nodes[x], no = nodes[o], rows = node.rows, cols = nx.cols
        let kept = slots[i].aux!, nd: Node? = d >= 0 ? nodes[d] : nil, nz: Node? = z >= 0 ? nodes[z] : nil
        // Per feature, once: θ, log θ, ψ(θ) (a zero count's ψ terms cancel).
        let feature = nd.map { nd -> UnsafeMutablePointer<Double> in
            let f = doubleWorkspace(count: 3 * cols)
            for j in 0..<cols {
                let t = Foundation.exp(Double(nd.value[j]))
                (f[j], f[cols + j], f[2 * cols + j]) = (t, Foundation.log(t), digamma(t))
            }
            return f
        }
        for r in 0..<rows {
            let library = Double(kept[2 * r]), g = Double(node.grad[r])
            guard library > 0, g != 0 else { continue }
            let xr = nx.value + r * cols, shares = kept + 2 * rows + r * cols, logs = kept + 2 * rows + rows * cols + r * cols
            // a_j = ∂(−log p)/∂ log μ_j; Poisson μ − x, NB (θ + x)·μ/(θ + μ) − x.
            var sumA = 0.0
            for pass in 0..<2 {
                for j in 0..<cols {
                    let xj = Double(xr[j]), share = Double(shares[j]), mu = library * share
                    var a = mu - xj
                    if let nd, let f = feature {
                        let t = f[j], logT = f[cols + j]
                        // A zero's NB terms weigh by w, the posterior chance it came from the NB; others by 1.
                        var weight = 1.0
                        if let nz {
                            let zero = ZeroInflation(rho: Double(nz.value[j]), theta: t, mu: mu)
                            if xj == 0 { weight = zero.fromNegativeBinomial }
                            // ∂/∂ρ: π − 1 + w for a zero, π otherwise.
                            if pass == 1 && nz.needsGrad { nz.grad[j] += Float(g * (zero.pi - (xj == 0 ? 1 - weight : 0))) }
                        }
                        a = weight * ((t + xj) * mu / (t + mu) - xj)
                        if pass == 1 && nd.needsGrad {
                            // ∂/∂ log θ = θ·[−ψ(x + θ) + ψ(θ) − log θ − 1 + log(θ + μ) + (θ + x)/(θ + μ)]
                            let digammas = xj == 0 ? 0 : -digamma(xj + t) + f[2 * cols + j]
                            let dTheta = digammas - logT - 1 + Double(logs[j]) + (t + xj) / (t + mu)
                            nd.grad[j] += Float(g * weight * t * dTheta)
                        }
                    }
                    if pass == 0 {
                        sumA += a
                    } else if no.needsGrad {
                        no.grad[r * cols + j] += Float(g * (a - share * sumA))
                    }
                }
            }
        }
    }
}

/// A zero-inflated NB's terms for one feature: π = σ(ρ), the log-probability of a zero
/// log(π + (1 − π)·(θ/(θ + μ))^θ), log(1 − π), and w, the share of a zero's probability that is the NB's.
struct ZeroInflation {
    let pi: Double
    let logZero: Double
    let logNotInflated: Double
    let fromNegativeBinomial: Double

    init(rho: Double, theta: Double, mu: Double) {
        // log π = −softplus(−ρ), log(1 − π) = −softplus(ρ), computed without overflow for any ρ.
        func softplus(_ v: Double) -> Double { v > 0 ? v + Foundation.log1p(Foundation.exp(-v)) : Foundation.log1p(Foundation.exp(v)) }
        let logPi = -softplus(-rho)
        logNotInflated = -softplus(rho)
        pi = Foundation.exp(logPi)
        let nbZero = logNotInflated + theta * (Foundation.log(theta) - Foundation.log(theta + mu))
        let top = Swift.max(logPi, nbZero)
        logZero = top + Foundation.log(Foundation.exp(logPi - top) + Foundation.exp(nbZero - top))
        fromNegativeBinomial = Foundation.exp(nbZero - logZero)
    }
}

/// ψ(x) = d/dx log Γ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the asymptotic
/// series (its first omitted term is below 1e-14 there).
public func digamma(_ x: Double) -> Double {
    var x = x, result = 0.0
    while x < 10 {
        result -= 1 / x
        x += 1
    }
    let f = 1 / (x * x)
    let tail = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (1.0 / 240 - f * (1.0 / 132)))))
    return result + Foundation.log(x) - 0.5 / x - tail
}
