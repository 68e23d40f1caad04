import CKernels
import Foundation

// Fused kernels for the hot path: each replaces a chain of elementwise ops next to a GEMM with one
// pass over memory (README, 'How it is built'). Their VJPs are written from the saved output alone.

extension Activation {
    /// f(z) for one value.
    @inline(__always) func value(_ z: Float) -> Float {
        switch self {
        case .relu: return Swift.max(z, 0)
        case .leakyRelu: return z > 0 ? z : 0.01 * z
        case .tanh: return Foundation.tanh(z)
        case .sigmoid: return stableSigmoid(z)
        case .softplus: return stableSoftplus(z)
        case .identity: return z
        }
    }

    /// f′(z) written in terms of y = f(z), so the pre-activation need not be kept.
    @inline(__always) func derivative(output y: Float) -> Float {
        switch self {
        case .relu: return y > 0 ? 1 : 0
        case .leakyRelu: return y > 0 ? 1 : 0.01
        case .tanh: return 1 - y * y
        case .sigmoid: return y * (1 - y)
        case .softplus: return -Foundation.expm1(-y)  // σ(z) = 1 − e^{−softplus(z)}
        case .identity: return 1
        }
    }
}

extension Tape {
    /// f(x W + b) in one node: the GEMM, then one pass adding the 1×n bias and applying f.
    public func linear(_ x: Var, weight w: Var, bias b: Var, activation: Activation = .identity) -> Var {
        let nx = nodes[x.id], nw = nodes[w.id], nb = nodes[b.id]
        precondition(nx.cols == nw.rows, "linear: input has \(nx.cols) columns, weight has \(nw.rows) rows")
        precondition(nb.rows == 1 && nb.cols == nw.cols, "linear: bias must be 1x\(nw.cols)")
        let m = nx.rows, n = nw.cols, k = nx.cols
        let out = record(
            .linear(x.id, w.id, b.id, activation), rows: m, cols: n,
            needsGrad: nx.needsGrad || nw.needsGrad || nb.needsGrad)
        if sparseAffine(out, x: nx, weight: nw.value, bias: nb.value, activation: activation) {
            nodes[out.id].op = .sparseLinear(x.id, w.id, b.id, activation)
        } else {
            affine(x: nx.value, weight: nw.value, bias: nb.value, into: nodes[out.id].value, m: m, n: n, k: k, activation: activation)
        }
        return out
    }

    /// y = f(x W + b) for row-major x (m×k), W (k×n), b (1×n): `linear`'s forward, shared with `maskedLinear`.
    func affine(
        x: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>,
        m: Int, n: Int, k: Int, activation: Activation
    ) {
        guard m > 0 && n > 0 else { return }
        if activation == .identity || activation == .relu {
            // The product first (β = 0), then one C pass adding the bias and applying f.
            if k > 0 {
                sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: x, b: weight, beta: 0, c: y)
            } else {
                y.update(repeating: 0, count: m * n)
            }
            mvvae_bias_activation(y, bias, m, n, activation == .relu ? 1 : 0)
            return
        }
        // Start from the bias and accumulate the product onto it (β = 1), then one activation pass.
        for i in 0..<m { (y + i * n).update(from: bias, count: n) }
        if k > 0 {
            sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: 1, a: x, b: weight, beta: 1, c: y)
        }
        for q in 0..<(m * n) { y[q] = activation.value(y[q]) }
    }

    /// dZ = g ⊙ f′ of a `linear`-style node `i` (for the identity g itself, for ReLU written over g,
    /// otherwise in `scratch` or else the node's own), with the bias gradient (column sums of dZ) taken in the same pass.
    func affineOutputGradient(
        _ i: Int, activation: Activation, biasGradient gb: UnsafeMutablePointer<Float>?,
        scratch: UnsafeMutablePointer<Float>? = nil
    ) -> UnsafeMutablePointer<Float> {
        let node = nodes[i], g = node.grad, y = node.value, m = node.rows, n = node.cols
        switch activation {
        case .identity:
            if let gb { mvvae_column_sums_add(g, m, n, gb) }
            return g
        case .relu:
            // In place: this node's gradient is read by nothing after its own VJP.
            mvvae_relu_backward(y, g, g, m, n, gb)
            return g
        default:
            let dz = scratch ?? aux(Var(i), count: m * n)
            for q in 0..<(m * n) { dz[q] = g[q] * activation.derivative(output: y[q]) }
            if let gb { mvvae_column_sums_add(dz, m, n, gb) }
            return dz
        }
    }

    /// Σ_j BCE(logits_ij, targets_ij) per row (r×c → r×1): the Bernoulli negative log-likelihood of
    /// each row without materialising the elementwise loss matrix.
    public func bceWithLogitsRowSum(_ logits: Var, targets: Var) -> Var {
        let nl = nodes[logits.id], nt = nodes[targets.id]
        precondition(
            nl.rows == nt.rows && nl.cols == nt.cols, "bceWithLogitsRowSum: logits \(nl.rows)x\(nl.cols) vs targets \(nt.rows)x\(nt.cols)")
        let out = record(
            .bceRowSum(logits: logits.id, targets: targets.id), rows: nl.rows, cols: 1,
            needsGrad: nl.needsGrad || nt.needsGrad)
        // σ(l) is saved for the VJP; it shares e^{−|l|} with the loss, so each element costs one exp.
        let sigma = aux(out, count: nl.rows * nl.cols)
        mvvae_bce_rowsum(nl.value, nt.value, sigma, nodes[out.id].value, nl.rows, nl.cols)
        return out
    }

    /// z = μ + exp(½ logVar) ⊙ ε (the reparameterisation trick) in one pass; ε is a constant.
    public func reparameterize(mean: Var, logVar: Var, noise: Var) -> Var {
        let nm = nodes[mean.id], nv = nodes[logVar.id], ne = nodes[noise.id]
        precondition(
            nm.rows == nv.rows && nm.cols == nv.cols && ne.rows == nm.rows && ne.cols == nm.cols,
            "reparameterize: mean, logVar and noise must have one shape")
        let out = record(
            .reparameterize(mean: mean.id, logVar: logVar.id, noise: noise.id), rows: nm.rows, cols: nm.cols,
            needsGrad: nm.needsGrad || nv.needsGrad)
        let z = nodes[out.id].value
        for k in 0..<(nm.rows * nm.cols) { z[k] = nm.value[k] + Foundation.exp(0.5 * nv.value[k]) * ne.value[k] }
        return out
    }

    func backwardFused(_ i: Int) {
        let node = nodes[i]
        let g = node.grad
        switch node.op {
        case let .linear(x, w, b, activation):
            let nx = nodes[x], nw = nodes[w], nb = nodes[b]
            let m = node.rows, n = node.cols, k = nx.cols
            let dz = affineOutputGradient(i, activation: activation, biasGradient: nb.needsGrad ? nb.grad : nil)
            guard m > 0, n > 0, k > 0 else { return }
            if nw.needsGrad { sgemm(transA: true, transB: false, m: k, n: n, k: m, alpha: 1, a: nx.value, b: dz, beta: 1, c: nw.grad) }
            if nx.needsGrad { sgemm(transA: false, transB: true, m: m, n: k, k: n, alpha: 1, a: dz, b: nw.value, beta: 1, c: nx.grad) }
        case let .sparseLinear(_, w, b, activation):
            let nw = nodes[w], nb = nodes[b]
            let dz = affineOutputGradient(i, activation: activation, biasGradient: nb.needsGrad ? nb.grad : nil)
            if nw.needsGrad { sparseWeightGradient(i, dz: dz, into: nw.grad) }
        case let .bceRowSum(l, t):
            let nl = nodes[l], nt = nodes[t], c = nl.cols
            let sigma = slots[i].aux!
            if nl.needsGrad { mvvae_bce_rowsum_backward(sigma, nt.value, g, nl.grad, node.rows, c) }
            if nt.needsGrad {
                for r in 0..<node.rows {
                    let gr = g[r], lv = nl.value + r * c, gt = nt.grad + r * c
                    for j in 0..<c { gt[j] -= gr * lv[j] }
                }
            }
        case let .reparameterize(m, v, e):
            let nm = nodes[m], nv = nodes[v], ne = nodes[e]
            for q in 0..<(node.rows * node.cols) {
                if nm.needsGrad { nm.grad[q] += g[q] }
                // ∂z/∂logVar = ½ σ ε = ½ (z − μ).
                if nv.needsGrad { nv.grad[q] += g[q] * 0.5 * Foundation.exp(0.5 * nv.value[q]) * ne.value[q] }
            }
        default:
            preconditionFailure("not a fused op")
        }
    }
}
