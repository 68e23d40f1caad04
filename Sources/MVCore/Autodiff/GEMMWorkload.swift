/// One GEMM of a training step: C[m×n] = op(A)·op(B) with inner dimension k.
public struct GEMMShape: Hashable, Sendable {
    public let m: Int, n: Int, k: Int
    public let transA: Bool, transB: Bool
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
}

extension Tape {
    /// The GEMMs the recorded graph runs: each matmul's forward product and the one or two products
    /// of its VJP (for operands that take gradients), in the shapes `backwardMatrixOp` calls them.
    /// Timing these alone gives the step's GEMM floor.
    public func gemmWorkload() -> [GEMMShape] {
        var out: [GEMMShape] = []
        for i in 0..<count {
            var dense: (x: Int, w: Int)?
            if case let .linear(x, w, _, _) = nodes[i].op { dense = (x, w) }
            if case let .maskedLinear(x, w, _, _, _) = nodes[i].op { dense = (x, w) }
            if let (x, w) = dense {
                let m = nodes[i].rows, n = nodes[i].cols, k = nodes[x].cols
                guard m > 0, n > 0, k > 0 else { continue }
                out.append(GEMMShape(m: m, n: n, k: k, transA: false, transB: false))
                if nodes[w].needsGrad { out.append(GEMMShape(m: k, n: n, k: m, transA: true, transB: false)) }
                if nodes[x].needsGrad { out.append(GEMMShape(m: m, n: k, k: n, transA: false, transB: true)) }
                continue
            }
            if let shapes = convolutionGEMMs(i) {
                out.append(contentsOf: shapes)
                continue
            }
            guard case let .matmul(a, b, tA, tB) = nodes[i].op else { continue }
            let na = nodes[a], nb = nodes[b]
            let m = nodes[i].rows, n = nodes[i].cols, k = tA ? na.rows : na.cols
            guard m > 0, n > 0, k > 0 else { continue }
            out.append(GEMMShape(m: m, n: n, k: k, transA: tA, transB: tB))
            guard nodes[i].needsGrad else { continue }
            if na.needsGrad {
                out.append(
                    tA
                        ? GEMMShape(m: k, n: m, k: n, transA: tB, transB: true)
                        : GEMMShape(m: m, n: k, k: n, transA: false, transB: !tB))
            }
            if nb.needsGrad {
                out.append(
                    tB
                        ? GEMMShape(m: n, n: k, k: m, transA: true, transB: tA)
                        : GEMMShape(m: k, n: n, k: m, transA: !tA, transB: false))
            }
        }
        return out
    }

    /// A convolution's products (`backwardConvolution`'s shapes), or nil for another op.
    private func convolutionGEMMs(_ i: Int) -> [GEMMShape]? {
        let node = nodes[i]
        switch node.op {
        case let .conv2d(x, w, _, gi, _):
            let g = convolutionGeometries[gi], pixels = node.rows * g.outHeight * g.outWidth
            guard pixels > 0 else { return [] }
            var shapes = [GEMMShape(m: pixels, n: g.outChannels, k: g.patch, transA: false, transB: false)]
            if nodes[w].needsGrad { shapes.append(GEMMShape(m: g.patch, n: g.outChannels, k: pixels, transA: true, transB: false)) }
            if nodes[x].needsGrad { shapes.append(GEMMShape(m: pixels, n: g.patch, k: g.outChannels, transA: false, transB: true)) }
            return shapes
        case let .convTranspose2d(x, w, _, gi, _):
            let g = convolutionGeometries[gi], pixels = node.rows * g.outHeight * g.outWidth
            guard pixels > 0 else { return [] }
            var shapes = [GEMMShape(m: pixels, n: g.patch, k: g.outChannels, transA: false, transB: true)]
            if nodes[w].needsGrad { shapes.append(GEMMShape(m: g.patch, n: g.outChannels, k: pixels, transA: true, transB: false)) }
            if nodes[x].needsGrad { shapes.append(GEMMShape(m: pixels, n: g.outChannels, k: g.patch, transA: false, transB: false)) }
            return shapes
        default:
            return nil
        }
    }
}
