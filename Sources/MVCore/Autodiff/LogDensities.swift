import Foundation

// Elementwise log-likelihood terms with their VJPs: Bernoulli (as BCE with logits),
// Gaussian (mean, log-variance) and Laplace (location, log-scale). Operands broadcast.

let halfLog2Pi: Float = 0.5 * Foundation.log(2 * Float.pi)

extension Tape {
    /// Binary cross-entropy with logits, elementwise: −[t log σ(l) + (1−t) log(1−σ(l))],
    /// computed stably as max(l,0) − l·t + log(1 + e^{−|l|}). Targets in [0, 1].
    public func bceWithLogits(_ logits: Var, targets: Var) -> Var {
        let nl = nodes[logits.id], nt = nodes[targets.id]
        precondition(
            nl.rows == nt.rows && nl.cols == nt.cols, "bceWithLogits: logits \(nl.rows)x\(nl.cols) vs targets \(nt.rows)x\(nt.cols)")
        let out = record(
            .bceWithLogits(logits: logits.id, targets: targets.id), rows: nl.rows, cols: nl.cols,
            needsGrad: nl.needsGrad || nt.needsGrad)
        let y = nodes[out.id].value, l = nl.value, t = nt.value
        for k in 0..<(nl.rows * nl.cols) {
            y[k] = Swift.max(l[k], 0) - l[k] * t[k] + Foundation.log1p(Foundation.exp(-abs(l[k])))
        }
        return out
    }

    private func shape3(_ a: Var, _ b: Var, _ c: Var, _ name: String) -> (rows: Int, cols: Int) {
        let ab = broadcastShape(shape(a), shape(b), name)
        return broadcastShape(ab, shape(c), name)
    }

    /// log N(x; mean, exp(logVar)), elementwise with broadcasting.
    public func gaussianLogDensity(_ x: Var, mean: Var, logVar: Var) -> Var {
        let s = shape3(x, mean, logVar, "gaussianLogDensity")
        let nx = nodes[x.id], nm = nodes[mean.id], nv = nodes[logVar.id]
        let out = record(
            .gaussianLogDensity(x: x.id, mean: mean.id, logVar: logVar.id), rows: s.rows, cols: s.cols,
            needsGrad: nx.needsGrad || nm.needsGrad || nv.needsGrad)
        let y = nodes[out.id].value
        if let layout = gaussianFastLayout(nx, nm, nv, s.rows, s.cols) {
            // x and mean full; log-variance full, per column or scalar: one exp per distinct variance.
            let c = s.cols, lvs = nv.value
            forEachVariance(layout, rows: s.rows, cols: c) { k, iv in
                let d = nx.value[k] - nm.value[k], lv = lvs[iv]
                y[k] = -halfLog2Pi - 0.5 * lv - 0.5 * d * d * Foundation.exp(-lv)
            }
            return out
        }
        for i in 0..<s.rows {
            for j in 0..<s.cols {
                let d = nx.value[bindex(i, j, nx.rows, nx.cols)] - nm.value[bindex(i, j, nm.rows, nm.cols)]
                let lv = nv.value[bindex(i, j, nv.rows, nv.cols)]
                y[i * s.cols + j] = -halfLog2Pi - 0.5 * lv - 0.5 * d * d * Foundation.exp(-lv)
            }
        }
        return out
    }

    /// How the log-variance of a Gaussian density lines up with full-size x and mean, when it does.
    enum VarianceLayout { case full, perColumn, scalar }

    func gaussianFastLayout(_ nx: Node, _ nm: Node, _ nv: Node, _ r: Int, _ c: Int) -> VarianceLayout? {
        guard nx.rows == r, nx.cols == c, nm.rows == r, nm.cols == c else { return nil }
        if nv.rows == r && nv.cols == c { return .full }
        if nv.rows == 1 && nv.cols == c { return .perColumn }
        if nv.rows == 1 && nv.cols == 1 { return .scalar }
        return nil
    }

    /// Calls body(k, iv) for every element k of an r×c result with iv the index of its log-variance.
    @inline(__always)
    func forEachVariance(_ layout: VarianceLayout, rows r: Int, cols c: Int, _ body: (Int, Int) -> Void) {
        switch layout {
        case .full: for k in 0..<(r * c) { body(k, k) }
        case .perColumn: for i in 0..<r { for j in 0..<c { body(i * c + j, j) } }
        case .scalar: for k in 0..<(r * c) { body(k, 0) }
        }
    }

    /// log Laplace(x; loc, exp(logScale)) = −log 2 − logScale − |x − loc| / scale, elementwise with broadcasting.
    public func laplaceLogDensity(_ x: Var, location: Var, logScale: Var) -> Var {
        let s = shape3(x, location, logScale, "laplaceLogDensity")
        let nx = nodes[x.id], nm = nodes[location.id], nv = nodes[logScale.id]
        let out = record(
            .laplaceLogDensity(x: x.id, loc: location.id, logScale: logScale.id), rows: s.rows, cols: s.cols,
            needsGrad: nx.needsGrad || nm.needsGrad || nv.needsGrad)
        let y = nodes[out.id].value
        let log2: Float = Foundation.log(2)
        for i in 0..<s.rows {
            for j in 0..<s.cols {
                let d = nx.value[bindex(i, j, nx.rows, nx.cols)] - nm.value[bindex(i, j, nm.rows, nm.cols)]
                let ls = nv.value[bindex(i, j, nv.rows, nv.cols)]
                y[i * s.cols + j] = -log2 - ls - abs(d) * Foundation.exp(-ls)
            }
        }
        return out
    }

    func backwardLogDensity(_ i: Int) {
        let node = nodes[i]
        let g = node.grad, r = node.rows, c = node.cols
        switch node.op {
        case let .bceWithLogits(l, t):
            let nl = nodes[l], nt = nodes[t]
            for k in 0..<(r * c) {
                if nl.needsGrad { nl.grad[k] += g[k] * (stableSigmoid(nl.value[k]) - nt.value[k]) }
                if nt.needsGrad { nt.grad[k] -= g[k] * nl.value[k] }
            }
        case let .gaussianLogDensity(x, m, v):
            let nx = nodes[x], nm = nodes[m], nv = nodes[v]
            if let layout = gaussianFastLayout(nx, nm, nv, r, c) {
                forEachVariance(layout, rows: r, cols: c) { k, iv in
                    let d = nx.value[k] - nm.value[k]
                    let p = Foundation.exp(-nv.value[iv]), gk = g[k]
                    if nx.needsGrad { nx.grad[k] -= gk * d * p }
                    if nm.needsGrad { nm.grad[k] += gk * d * p }
                    if nv.needsGrad { nv.grad[iv] += gk * (0.5 * d * d * p - 0.5) }
                }
                return
            }
            for i in 0..<r {
                for j in 0..<c {
                    let ix = bindex(i, j, nx.rows, nx.cols), im = bindex(i, j, nm.rows, nm.cols), iv = bindex(i, j, nv.rows, nv.cols)
                    let d = nx.value[ix] - nm.value[im]
                    let p = Foundation.exp(-nv.value[iv])
                    let gk = g[i * c + j]
                    if nx.needsGrad { nx.grad[ix] -= gk * d * p }
                    if nm.needsGrad { nm.grad[im] += gk * d * p }
                    if nv.needsGrad { nv.grad[iv] += gk * (0.5 * d * d * p - 0.5) }
                }
            }
        case let .laplaceLogDensity(x, m, v):
            let nx = nodes[x], nm = nodes[m], nv = nodes[v]
            for i in 0..<r {
                for j in 0..<c {
                    let ix = bindex(i, j, nx.rows, nx.cols), im = bindex(i, j, nm.rows, nm.cols), iv = bindex(i, j, nv.rows, nv.cols)
                    let d = nx.value[ix] - nm.value[im]
                    let p = Foundation.exp(-nv.value[iv])
                    let sgn: Float = d > 0 ? 1 : (d < 0 ? -1 : 0)
                    let gk = g[i * c + j]
                    if nx.needsGrad { nx.grad[ix] -= gk * sgn * p }
                    if nm.needsGrad { nm.grad[im] += gk * sgn * p }
                    if nv.needsGrad { nv.grad[iv] += gk * (abs(d) * p - 1) }
                }
            }
        default:
            preconditionFailure("not a log-density op")
        }
    }
}
