// Matrix product (through BLAS), transpose, column concat and row/column slices, and their VJPs.

extension Tape {
    /// op(a) · op(b) where op transposes when asked. GEMM through cblas.
    public func matmul(_ a: Var, _ b: Var, transposeA: Bool = false, transposeB: Bool = false) -> Var {
        let na = nodes[a.id], nb = nodes[b.id]
        let m = transposeA ? na.cols : na.rows
        let k = transposeA ? na.rows : na.cols
        let kb = transposeB ? nb.cols : nb.rows
        let n = transposeB ? nb.rows : nb.cols
        precondition(
            k == kb,
            "matmul: inner dimensions differ (\(na.rows)x\(na.cols)\(transposeA ? "ᵀ" : "") · "
                + "\(nb.rows)x\(nb.cols)\(transposeB ? "ᵀ" : ""))"
        )
        let out = record(
            .matmul(a.id, b.id, transA: transposeA, transB: transposeB), rows: m, cols: n,
            needsGrad: na.needsGrad || nb.needsGrad)
        let y = nodes[out.id].value
        if k == 0 {
            y.update(repeating: 0, count: m * n)
        } else if m > 0 && n > 0 {
            sgemm(transA: transposeA, transB: transposeB, m: m, n: n, k: k, alpha: 1, a: na.value, b: nb.value, beta: 0, c: y)
        }
        return out
    }

    /// xᵀ.
    public func transpose(_ x: Var) -> Var {
        let nx = nodes[x.id]
        let out = record(.transpose(x.id), rows: nx.cols, cols: nx.rows, needsGrad: nx.needsGrad)
        let y = nodes[out.id].value, xv = nx.value, r = nx.rows, c = nx.cols
        for i in 0..<r { for j in 0..<c { y[j * r + i] = xv[i * c + j] } }
        return out
    }

    /// [a b]: columns of a then columns of b (same row count).
    public func concatColumns(_ a: Var, _ b: Var) -> Var {
        let na = nodes[a.id], nb = nodes[b.id]
        precondition(na.rows == nb.rows, "concatColumns: row counts differ (\(na.rows) vs \(nb.rows))")
        let c = na.cols + nb.cols
        let out = record(.concatCols(a.id, b.id), rows: na.rows, cols: c, needsGrad: na.needsGrad || nb.needsGrad)
        let y = nodes[out.id].value
        for i in 0..<na.rows {
            (y + i * c).update(from: na.value + i * na.cols, count: na.cols)
            (y + i * c + na.cols).update(from: nb.value + i * nb.cols, count: nb.cols)
        }
        return out
    }

    /// Columns start..<start+count of x.
    public func sliceColumns(_ x: Var, _ start: Int, count: Int) -> Var {
        let nx = nodes[x.id]
        precondition(start >= 0 && count >= 0 && start + count <= nx.cols, "sliceColumns out of range")
        let out = record(.sliceCols(x.id, start: start), rows: nx.rows, cols: count, needsGrad: nx.needsGrad)
        let y = nodes[out.id].value
        for i in 0..<nx.rows { (y + i * count).update(from: nx.value + i * nx.cols + start, count: count) }
        return out
    }

    /// Rows start..<start+count of x.
    public func sliceRows(_ x: Var, _ start: Int, count: Int) -> Var {
        let nx = nodes[x.id]
        precondition(start >= 0 && count >= 0 && start + count <= nx.rows, "sliceRows out of range")
        let out = record(.sliceRows(x.id, start: start), rows: count, cols: nx.cols, needsGrad: nx.needsGrad)
        nodes[out.id].value.update(from: nx.value + start * nx.cols, count: count * nx.cols)
        return out
    }

    func backwardMatrixOp(_ i: Int) {
        let node = nodes[i]
        let g = node.grad
        switch node.op {
        case let .matmul(a, b, tA, tB):
            let na = nodes[a], nb = nodes[b]
            let m = node.rows, n = node.cols, k = tA ? na.rows : na.cols
            if k == 0 || m == 0 || n == 0 { return }
            if na.needsGrad {
                // C = op(A)op(B): dop(A) = G op(B)ᵀ. For tA, dA = (G op(B)ᵀ)ᵀ = op(B) Gᵀ.
                if tA {
                    sgemm(transA: tB, transB: true, m: k, n: m, k: n, alpha: 1, a: nb.value, b: g, beta: 1, c: na.grad)
                } else {
                    sgemm(transA: false, transB: !tB, m: m, n: k, k: n, alpha: 1, a: g, b: nb.value, beta: 1, c: na.grad)
                }
            }
            if nb.needsGrad {
                // dop(B) = op(A)ᵀ G. For tB, dB = Gᵀ op(A).
                if tB {
                    sgemm(transA: true, transB: tA, m: n, n: k, k: m, alpha: 1, a: g, b: na.value, beta: 1, c: nb.grad)
                } else {
                    sgemm(transA: !tA, transB: false, m: k, n: n, k: m, alpha: 1, a: na.value, b: g, beta: 1, c: nb.grad)
                }
            }
        case let .transpose(x):
            let nx = nodes[x]
            let r = nx.rows, c = nx.cols, gx = nx.grad
            for i in 0..<r { for j in 0..<c { gx[i * c + j] += g[j * r + i] } }
        case let .concatCols(a, b):
            let na = nodes[a], nb = nodes[b], c = node.cols
            for i in 0..<node.rows {
                if na.needsGrad { for j in 0..<na.cols { na.grad[i * na.cols + j] += g[i * c + j] } }
                if nb.needsGrad { for j in 0..<nb.cols { nb.grad[i * nb.cols + j] += g[i * c + na.cols + j] } }
            }
        case let .sliceCols(x, start):
            let nx = nodes[x], c = node.cols
            for i in 0..<node.rows { for j in 0..<c { nx.grad[i * nx.cols + start + j] += g[i * c + j] } }
        case let .sliceRows(x, start):
            let nx = nodes[x], base = nx.grad + start * nx.cols
            for k in 0..<(node.rows * node.cols) { base[k] += g[k] }
        default:
            preconditionFailure("not a matrix op")
        }
    }
}
