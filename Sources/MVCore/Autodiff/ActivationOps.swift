import Foundation

// Elementwise nonlinearities and their VJPs. Each backward uses the saved output where that is
// cheaper than recomputing from the input (exp, sigmoid, tanh).

@inline(__always) func stableSigmoid(_ x: Float) -> Float {
    x >= 0
        ? 1 / (1 + Foundation.exp(-x))
        : {
            let e = Foundation.exp(x); return e / (1 + e)
        }()
}

/// log(1 + eˣ) without overflow.
@inline(__always) func stableSoftplus(_ x: Float) -> Float {
    Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x)))
}

extension Tape {
    @inline(__always)
    private func unary(_ x: Var, _ op: Op, _ f: (Float) -> Float) -> Var {
        let nx = nodes[x.id]
        let out = record(op, rows: nx.rows, cols: nx.cols, needsGrad: nx.needsGrad)
        let y = nodes[out.id].value, xv = nx.value
        for k in 0..<(nx.rows * nx.cols) { y[k] = f(xv[k]) }
        return out
    }

    public func exp(_ x: Var) -> Var { unary(x, .exp(x.id)) { Foundation.exp($0) } }
    public func log(_ x: Var) -> Var { unary(x, .log(x.id)) { Foundation.log($0) } }
    public func softplus(_ x: Var) -> Var { unary(x, .softplus(x.id)) { stableSoftplus($0) } }
    public func sigmoid(_ x: Var) -> Var { unary(x, .sigmoid(x.id)) { stableSigmoid($0) } }
    public func relu(_ x: Var) -> Var { unary(x, .relu(x.id)) { Swift.max($0, 0) } }
    public func leakyRelu(_ x: Var, slope: Float = 0.01) -> Var {
        unary(x, .leakyRelu(x.id, slope)) { $0 > 0 ? $0 : slope * $0 }
    }
    public func tanh(_ x: Var) -> Var { unary(x, .tanh(x.id)) { Foundation.tanh($0) } }

    func backwardActivation(_ i: Int) {
        let node = nodes[i]
        let g = node.grad, y = node.value, n = node.rows * node.cols
        switch node.op {
        case let .exp(x):
            let gx = nodes[x].grad
            for k in 0..<n { gx[k] += g[k] * y[k] }
        case let .log(x):
            let gx = nodes[x].grad, xv = nodes[x].value
            for k in 0..<n { gx[k] += g[k] / xv[k] }
        case let .softplus(x):
            let gx = nodes[x].grad, xv = nodes[x].value
            for k in 0..<n { gx[k] += g[k] * stableSigmoid(xv[k]) }
        case let .sigmoid(x):
            let gx = nodes[x].grad
            for k in 0..<n { gx[k] += g[k] * y[k] * (1 - y[k]) }
        case let .relu(x):
            let gx = nodes[x].grad, xv = nodes[x].value
            for k in 0..<n where xv[k] > 0 { gx[k] += g[k] }
        case let .leakyRelu(x, slope):
            let gx = nodes[x].grad, xv = nodes[x].value
            for k in 0..<n { gx[k] += xv[k] > 0 ? g[k] : slope * g[k] }
        case let .tanh(x):
            let gx = nodes[x].grad
            for k in 0..<n { gx[k] += g[k] * (1 - y[k] * y[k]) }
        default:
            preconditionFailure("not an activation op")
        }
    }
}
