// Elementwise arithmetic with broadcasting (an operand may be 1×c, r×1 or 1×1), and its VJPs.
// A broadcast operand's gradient sums the output gradient over the broadcast dimensions.

extension Tape {
    private func binary(_ a: Var, _ b: Var, _ op: Op, _ name: String, _ f: (Float, Float) -> Float) -> Var {
        let na = nodes[a.id], nb = nodes[b.id]
        let s = broadcastShape((na.rows, na.cols), (nb.rows, nb.cols), name)
        let out = record(op, rows: s.rows, cols: s.cols, needsGrad: na.needsGrad || nb.needsGrad)
        let y = nodes[out.id].value
        let av = na.value, bv = nb.value
        if na.rows == s.rows && na.cols == s.cols && nb.rows == s.rows && nb.cols == s.cols {
            for k in 0..<(s.rows * s.cols) { y[k] = f(av[k], bv[k]) }
        } else {
            for i in 0..<s.rows {
                for j in 0..<s.cols {
                    y[i * s.cols + j] = f(av[bindex(i, j, na.rows, na.cols)], bv[bindex(i, j, nb.rows, nb.cols)])
                }
            }
        }
        return out
    }

    /// a + b (broadcasting).
    public func add(_ a: Var, _ b: Var) -> Var { binary(a, b, .add(a.id, b.id), "add") { $0 + $1 } }
    /// a − b (broadcasting).
    public func sub(_ a: Var, _ b: Var) -> Var { binary(a, b, .sub(a.id, b.id), "sub") { $0 - $1 } }
    /// a ⊙ b (broadcasting).
    public func mul(_ a: Var, _ b: Var) -> Var { binary(a, b, .mul(a.id, b.id), "mul") { $0 * $1 } }
    /// a ⊘ b (broadcasting).
    public func div(_ a: Var, _ b: Var) -> Var { binary(a, b, .div(a.id, b.id), "div") { $0 / $1 } }

    /// c·x for a constant c.
    public func scale(_ x: Var, _ c: Float) -> Var {
        let nx = nodes[x.id]
        let out = record(.scale(x.id, c), rows: nx.rows, cols: nx.cols, needsGrad: nx.needsGrad)
        let y = nodes[out.id].value
        for k in 0..<(nx.rows * nx.cols) { y[k] = c * nx.value[k] }
        return out
    }

    /// x + c for a constant c.
    public func addScalar(_ x: Var, _ c: Float) -> Var {
        let nx = nodes[x.id]
        let out = record(.addScalar(x.id, c), rows: nx.rows, cols: nx.cols, needsGrad: nx.needsGrad)
        let y = nodes[out.id].value
        for k in 0..<(nx.rows * nx.cols) { y[k] = nx.value[k] + c }
        return out
    }

    /// −x.
    public func neg(_ x: Var) -> Var {
        let nx = nodes[x.id]
        let out = record(.neg(x.id), rows: nx.rows, cols: nx.cols, needsGrad: nx.needsGrad)
        let y = nodes[out.id].value
        for k in 0..<(nx.rows * nx.cols) { y[k] = -nx.value[k] }
        return out
    }

    /// x².
    public func square(_ x: Var) -> Var {
        let nx = nodes[x.id]
        let out = record(.square(x.id), rows: nx.rows, cols: nx.cols, needsGrad: nx.needsGrad)
        let y = nodes[out.id].value
        for k in 0..<(nx.rows * nx.cols) { y[k] = nx.value[k] * nx.value[k] }
        return out
    }

    /// Accumulates `g(i,j)·∂` into a possibly broadcast operand's gradient.
    @inline(__always)
    private func accumulate(_ operand: Int, rows: Int, cols: Int, _ contribution: (Int, Int, Int) -> Float) {
        let n = nodes[operand]
        guard n.needsGrad else { return }
        let g = n.grad
        if n.rows == rows && n.cols == cols {
            for k in 0..<(rows * cols) { g[k] += contribution(k / cols, k % cols, k) }
        } else {
            for i in 0..<rows {
                for j in 0..<cols { g[bindex(i, j, n.rows, n.cols)] += contribution(i, j, i * cols + j) }
            }
        }
    }

    func backwardArithmetic(_ i: Int) {
        let node = nodes[i]
        let g = node.grad, r = node.rows, c = node.cols
        switch node.op {
        case let .add(a, b):
            accumulate(a, rows: r, cols: c) { _, _, k in g[k] }
            accumulate(b, rows: r, cols: c) { _, _, k in g[k] }
        case let .sub(a, b):
            accumulate(a, rows: r, cols: c) { _, _, k in g[k] }
            accumulate(b, rows: r, cols: c) { _, _, k in -g[k] }
        case let .mul(a, b):
            let na = nodes[a], nb = nodes[b]
            accumulate(a, rows: r, cols: c) { i, j, k in g[k] * nb.value[bindex(i, j, nb.rows, nb.cols)] }
            accumulate(b, rows: r, cols: c) { i, j, k in g[k] * na.value[bindex(i, j, na.rows, na.cols)] }
        case let .div(a, b):
            let nb = nodes[b]
            let y = node.value
            accumulate(a, rows: r, cols: c) { i, j, k in g[k] / nb.value[bindex(i, j, nb.rows, nb.cols)] }
            accumulate(b, rows: r, cols: c) { i, j, k in -g[k] * y[k] / nb.value[bindex(i, j, nb.rows, nb.cols)] }
        case let .scale(x, s):
            let gx = nodes[x].grad
            for k in 0..<(r * c) { gx[k] += s * g[k] }
        case let .addScalar(x, _):
            let gx = nodes[x].grad
            for k in 0..<(r * c) { gx[k] += g[k] }
        case let .neg(x):
            let gx = nodes[x].grad
            for k in 0..<(r * c) { gx[k] -= g[k] }
        case let .square(x):
            let gx = nodes[x].grad, xv = nodes[x].value
            for k in 0..<(r * c) { gx[k] += 2 * xv[k] * g[k] }
        default:
            preconditionFailure("not an arithmetic op")
        }
    }
}
