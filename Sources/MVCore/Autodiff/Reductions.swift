import Foundation

// Sums, means, log-sum-exp and softmax, and their VJPs.

extension Tape {
    private func reducedShape(_ x: Var, _ axis: Axis) -> (Int, Int) {
        let n = nodes[x.id]
        switch axis {
        case .rows: return (1, n.cols)
        case .cols: return (n.rows, 1)
        case .all: return (1, 1)
        }
    }

    private func reduceSum(_ x: Var, _ axis: Axis, into y: UnsafeMutablePointer<Float>, scale: Float) {
        let n = nodes[x.id]
        let xv = n.value, r = n.rows, c = n.cols
        switch axis {
        case .rows:
            y.update(repeating: 0, count: c)
            for i in 0..<r { for j in 0..<c { y[j] += xv[i * c + j] } }
            for j in 0..<c { y[j] *= scale }
        case .cols:
            for i in 0..<r {
                var s: Float = 0
                for j in 0..<c { s += xv[i * c + j] }
                y[i] = s * scale
            }
        case .all:
            // Accumulate in Double: a loss summed over a batch of pixels loses digits in Float.
            var s: Double = 0
            for k in 0..<(r * c) { s += Double(xv[k]) }
            y[0] = Float(s) * scale
        }
    }

    /// Σ over `axis`.
    public func sum(_ x: Var, axis: Axis = .all) -> Var {
        let (r, c) = reducedShape(x, axis)
        let out = record(.sum(x.id, axis), rows: r, cols: c, needsGrad: nodes[x.id].needsGrad)
        reduceSum(x, axis, into: nodes[out.id].value, scale: 1)
        return out
    }

    /// Mean over `axis`.
    public func mean(_ x: Var, axis: Axis = .all) -> Var {
        let n = nodes[x.id]
        let (r, c) = reducedShape(x, axis)
        let count = axis == .rows ? n.rows : axis == .cols ? n.cols : n.rows * n.cols
        let out = record(.mean(x.id, axis), rows: r, cols: c, needsGrad: n.needsGrad)
        reduceSum(x, axis, into: nodes[out.id].value, scale: 1 / Float(Swift.max(count, 1)))
        return out
    }

    /// log Σ_j exp(x_ij) for each row: r×c → r×1.
    public func logsumexp(_ x: Var) -> Var {
        let n = nodes[x.id]
        let out = record(.logsumexp(x.id), rows: n.rows, cols: 1, needsGrad: n.needsGrad)
        let y = nodes[out.id].value, xv = n.value, c = n.cols
        for i in 0..<n.rows {
            var m = -Float.infinity
            for j in 0..<c { m = Swift.max(m, xv[i * c + j]) }
            if m == -.infinity { y[i] = -.infinity; continue }
            var s: Float = 0
            for j in 0..<c { s += Foundation.exp(xv[i * c + j] - m) }
            y[i] = m + Foundation.log(s)
        }
        return out
    }

    /// Softmax along each row.
    public func softmax(_ x: Var) -> Var {
        let n = nodes[x.id]
        let out = record(.softmax(x.id), rows: n.rows, cols: n.cols, needsGrad: n.needsGrad)
        let y = nodes[out.id].value, xv = n.value, c = n.cols
        for i in 0..<n.rows {
            var m = -Float.infinity
            for j in 0..<c { m = Swift.max(m, xv[i * c + j]) }
            var s: Float = 0
            for j in 0..<c {
                let e = Foundation.exp(xv[i * c + j] - m)
                y[i * c + j] = e
                s += e
            }
            let inv = 1 / s
            for j in 0..<c { y[i * c + j] *= inv }
        }
        return out
    }

    func backwardReduction(_ i: Int) {
        let node = nodes[i]
        let g = node.grad
        switch node.op {
        case let .sum(x, axis), let .mean(x, axis):
            let nx = nodes[x]
            let r = nx.rows, c = nx.cols, gx = nx.grad
            var scale: Float = 1
            if case .mean = node.op {
                scale = 1 / Float(Swift.max(axis == .rows ? r : axis == .cols ? c : r * c, 1))
            }
            switch axis {
            case .rows: for i in 0..<r { for j in 0..<c { gx[i * c + j] += scale * g[j] } }
            case .cols: for i in 0..<r { for j in 0..<c { gx[i * c + j] += scale * g[i] } }
            case .all:
                let s = scale * g[0]
                for k in 0..<(r * c) { gx[k] += s }
            }
        case let .logsumexp(x):
            let nx = nodes[x]
            let c = nx.cols, gx = nx.grad, xv = nx.value, y = node.value
            for i in 0..<nx.rows where y[i] > -.infinity {
                for j in 0..<c { gx[i * c + j] += g[i] * Foundation.exp(xv[i * c + j] - y[i]) }
            }
        case let .softmax(x):
            let nx = nodes[x]
            let c = nx.cols, gx = nx.grad, y = node.value
            for i in 0..<nx.rows {
                var dot: Float = 0
                for j in 0..<c { dot += g[i * c + j] * y[i * c + j] }
                for j in 0..<c { gx[i * c + j] += y[i * c + j] * (g[i * c + j] - dot) }
            }
        default:
            preconditionFailure("not a reduction op")
        }
    }
}
