import CKernels

// 2-D convolution and its transpose over channels-last images (`ConvolutionGeometry`), as one GEMM each
// way: the patches of every output pixel of the batch gathered into rows (im2col), times the
// patch × outChannels weight matrix. With channels last the product's rows are already the output images'.

extension Tape {
    /// f(conv(x) + b): `x` holds one image per row (`g.inputSize` values), `weight` is `g.patch` × `g.outChannels`,
    /// `bias` 1 × `g.outChannels`; the result holds one `g.outputSize` image per row.
    public func conv2d(_ x: Var, weight w: Var, bias b: Var, _ g: ConvolutionGeometry, activation: Activation = .identity) -> Var {
        let nx = nodes[x.id], nw = nodes[w.id], nb = nodes[b.id]
        precondition(g.problem == nil, "conv2d: \(g.problem ?? "")")
        precondition(nx.cols == g.inputSize, "conv2d: input rows hold \(nx.cols) values, the geometry \(g.inputSize)")
        precondition(nw.rows == g.patch && nw.cols == g.outChannels, "conv2d: weight must be \(g.patch)x\(g.outChannels)")
        precondition(nb.rows == 1 && nb.cols == g.outChannels, "conv2d: bias must be 1x\(g.outChannels)")
        let pixels = nx.rows * g.outHeight * g.outWidth
        let out = record(
            .conv2d(x.id, w.id, b.id, geometry: remember(g), activation), rows: nx.rows, cols: g.outputSize,
            needsGrad: nx.needsGrad || nw.needsGrad || nb.needsGrad)
        // The patches stay for the weight's gradient; the second half is the backward pass's scratch.
        let col = aux(out, count: 2 * pixels * g.patch)
        Patches.gather(nx.value, rows: nx.rows, g, into: col)
        affine(
            x: col, weight: nw.value, bias: nb.value, into: nodes[out.id].value, m: pixels, n: g.outChannels, k: g.patch,
            activation: activation)
        return out
    }

    /// f(convᵀ(x) + b), the adjoint of `conv2d` with the same geometry and weights: `x` holds one
    /// `g.outputSize` map per row, the result one `g.inputSize` image per row; `bias` is 1 × `g.inChannels`.
    /// (A decoder's upsampling: stride s multiplies the size by s, `height`/`width` fix the remainder.)
    public func convTranspose2d(
        _ x: Var, weight w: Var, bias b: Var, _ g: ConvolutionGeometry, activation: Activation = .identity
    ) -> Var {
        let nx = nodes[x.id], nw = nodes[w.id], nb = nodes[b.id]
        precondition(g.problem == nil, "convTranspose2d: \(g.problem ?? "")")
        precondition(nx.cols == g.outputSize, "convTranspose2d: input rows hold \(nx.cols) values, the geometry \(g.outputSize)")
        precondition(nw.rows == g.patch && nw.cols == g.outChannels, "convTranspose2d: weight must be \(g.patch)x\(g.outChannels)")
        precondition(nb.rows == 1 && nb.cols == g.inChannels, "convTranspose2d: bias must be 1x\(g.inChannels)")
        let rows = nx.rows, pixels = rows * g.outHeight * g.outWidth
        let out = record(
            .convTranspose2d(x.id, w.id, b.id, geometry: remember(g), activation), rows: rows, cols: g.inputSize,
            needsGrad: nx.needsGrad || nw.needsGrad || nb.needsGrad)
        let y = nodes[out.id].value
        y.update(repeating: 0, count: rows * g.inputSize)
        guard pixels > 0 else { return out }
        let col = aux(out, count: pixels * g.patch)
        sgemm(
            transA: false, transB: true, m: pixels, n: g.patch, k: g.outChannels, alpha: 1, a: nx.value, b: nw.value, beta: 0,
            c: col)
        Patches.scatterAdd(col, rows: rows, g, into: y)
        addBias(nb.value, activation: activation, to: y, m: rows * g.height * g.width, n: g.inChannels)
        return out
    }

    /// y ← f(y + b) row by row (m × n, b 1 × n).
    private func addBias(_ b: UnsafePointer<Float>, activation: Activation, to y: UnsafeMutablePointer<Float>, m: Int, n: Int) {
        if activation == .identity || activation == .relu {
            mvvae_bias_activation(y, b, m, n, activation == .relu ? 1 : 0)
            return
        }
        for r in 0..<m {
            let row = y + r * n
            for j in 0..<n { row[j] = activation.value(row[j] + b[j]) }
        }
    }

    /// Keeps `g` for the VJP; returns its index (the op holds the index: a plain enum stays small).
    private func remember(_ g: ConvolutionGeometry) -> Int {
        convolutionGeometries.append(g)
        return convolutionGeometries.count - 1
    }

    /// g ← g ⊙ f′(y) in place for node `i` (read as m × n), adding the column sums to `biasGradient`.
    private func activationGradient(_ i: Int, _ activation: Activation, m: Int, n: Int, biasGradient gb: UnsafeMutablePointer<Float>?) {
        let g = nodes[i].grad, y = nodes[i].value
        switch activation {
        case .identity: break
        case .relu:
            // In place: this node's gradient is read by nothing after its own VJP.
            mvvae_relu_backward(y, g, g, m, n, nil)
        default:
            for q in 0..<(m * n) { g[q] *= activation.derivative(output: y[q]) }
        }
        if let gb { mvvae_column_sums_add(g, m, n, gb) }
    }

    func backwardConvolution(_ i: Int) {
        let node = nodes[i]
        switch node.op {
        case let .conv2d(x, w, b, gi, activation):
            let g = convolutionGeometries[gi], nx = nodes[x], nw = nodes[w], nb = nodes[b]
            let pixels = node.rows * g.outHeight * g.outWidth, k = g.patch, n = g.outChannels
            activationGradient(i, activation, m: pixels, n: n, biasGradient: nb.needsGrad ? nb.grad : nil)
            guard pixels > 0 else { return }
            let dz = node.grad, col = slots[i].aux!
            if nw.needsGrad { sgemm(transA: true, transB: false, m: k, n: n, k: pixels, alpha: 1, a: col, b: dz, beta: 1, c: nw.grad) }
            if nx.needsGrad {
                let dcol = col + pixels * k
                sgemm(transA: false, transB: true, m: pixels, n: k, k: n, alpha: 1, a: dz, b: nw.value, beta: 0, c: dcol)
                Patches.scatterAdd(dcol, rows: node.rows, g, into: nx.grad)
            }
        case let .convTranspose2d(x, w, b, gi, activation):
            let g = convolutionGeometries[gi], nx = nodes[x], nw = nodes[w], nb = nodes[b]
            let pixels = node.rows * g.outHeight * g.outWidth, k = g.patch, n = g.outChannels
            activationGradient(
                i, activation, m: node.rows * g.height * g.width, n: g.inChannels, biasGradient: nb.needsGrad ? nb.grad : nil)
            guard pixels > 0 else { return }
            let dcol = slots[i].aux!
            Patches.gather(node.grad, rows: node.rows, g, into: dcol)
            if nw.needsGrad {
                sgemm(transA: true, transB: false, m: k, n: n, k: pixels, alpha: 1, a: dcol, b: nx.value, beta: 1, c: nw.grad)
            }
            if nx.needsGrad {
                sgemm(transA: false, transB: false, m: pixels, n: n, k: k, alpha: 1, a: dcol, b: nw.value, beta: 1, c: nx.grad)
            }
        default:
            preconditionFailure("not a convolution")
        }
    }
}
