import Foundation

// Masked multi-head attention over a small set (the modalities of one sample), fused into one node,
// and a reshape that lets the per-modality layers see the same buffer as (rows·K) × d.
//
// Layout: Q, K, V and the output are rows × (K·d), modality-major blocks of width d = heads·headSize;
// head h of modality s in row r is the headSize floats at r·K·d + s·d + h·headSize. The set is tiny
// (K = 2…5), so plain loops beat any GEMM batching and need no scratch beyond the saved softmax.

extension Tape {
    /// For each row, head and query modality s: softmax over the present keys t (mask m_t ≠ 0) of
    /// ⟨q_s, k_t⟩/√headSize, then the weighted sum of the present values v_t. A row with no present
    /// modality (an empty set) outputs 0 and passes back 0. The mask is data: it takes no gradient.
    public func maskedAttention(queries q: Var, keys k: Var, values v: Var, mask: Var, heads: Int) -> Var {
        let nq = nodes[q.id], nk = nodes[k.id], nv = nodes[v.id], nm = nodes[mask.id]
        let rows = nq.rows, set = nm.cols
        precondition(!nm.needsGrad, "maskedAttention: the mask must be a constant")
        precondition(
            nm.rows == rows && set >= 1 && nq.cols % set == 0,
            "maskedAttention: mask \(nm.rows)x\(nm.cols) does not fit queries \(rows)x\(nq.cols)")
        precondition(
            nk.rows == rows && nv.rows == rows && nk.cols == nq.cols && nv.cols == nq.cols,
            "maskedAttention: queries, keys and values must have one shape")
        let width = nq.cols / set
        precondition(heads >= 1 && width % heads == 0, "maskedAttention: width \(width) is not divisible by \(heads) heads")
        let out = record(
            .maskedAttention(q: q.id, k: k.id, v: v.id, mask: mask.id, heads: heads), rows: rows, cols: nq.cols,
            needsGrad: nq.needsGrad || nk.needsGrad || nv.needsGrad)
        // Saved for the VJP: p[r, h, s, t], the attention weights (0 for absent keys).
        let p = aux(out, count: rows * heads * set * set + set)
        attentionForward(
            q: nq.value, k: nk.value, v: nv.value, mask: nm.value, out: nodes[out.id].value, p: p,
            rows: rows, set: set, width: width, heads: heads)
        return out
    }

    /// The same floats read as a rows × cols matrix (rows·cols must equal the input's size).
    /// Row-major storage makes rows × (K·d) and (rows·K) × d the same buffer, so this is one copy.
    public func reshape(_ x: Var, rows: Int, cols: Int) -> Var {
        let nx = nodes[x.id]
        precondition(rows * cols == nx.rows * nx.cols, "reshape: \(nx.rows)x\(nx.cols) cannot become \(rows)x\(cols)")
        let out = record(.reshape(x.id), rows: rows, cols: cols, needsGrad: nx.needsGrad)
        nodes[out.id].value.update(from: nx.value, count: rows * cols)
        return out
    }

    private func attentionForward(
        q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>,
        mask: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, p: UnsafeMutablePointer<Float>,
        rows: Int, set: Int, width: Int, heads: Int
    ) {
        let size = width / heads, scale = 1 / Float(size).squareRoot(), stride = set * width
        out.update(repeating: 0, count: rows * stride)
        for r in 0..<rows {
            let m = mask + r * set
            for h in 0..<heads {
                for s in 0..<set {
                    let w = p + ((r * heads + h) * set + s) * set
                    let qs = q + r * stride + s * width + h * size
                    // Scores of present keys, with their maximum for a stable softmax.
                    var top = -Float.infinity
                    for t in 0..<set {
                        guard m[t] != 0 else { w[t] = 0; continue }
                        let kt = k + r * stride + t * width + h * size
                        var dot: Float = 0
                        for j in 0..<size { dot += qs[j] * kt[j] }
                        w[t] = dot * scale
                        top = Swift.max(top, w[t])
                    }
                    guard top > -Float.infinity else { continue }  // no present key: output and weights stay 0
                    var total: Float = 0
                    for t in 0..<set where m[t] != 0 { w[t] = Foundation.exp(w[t] - top); total += w[t] }
                    let os = out + r * stride + s * width + h * size
                    for t in 0..<set where m[t] != 0 {
                        w[t] /= total
                        let vt = v + r * stride + t * width + h * size
                        for j in 0..<size { os[j] += w[t] * vt[j] }
                    }
                }
            }
        }
    }

    func backwardAttention(_ i: Int) {
        let node = nodes[i]
        switch node.op {
        case let .reshape(x):
            let gx = nodes[x].grad, g = node.grad
            for q in 0..<(node.rows * node.cols) { gx[q] += g[q] }
        case let .maskedAttention(q, k, v, mask, heads):
            let nq = nodes[q], nk = nodes[k], nv = nodes[v], set = nodes[mask].cols
            let width = node.cols / set, size = width / heads, scale = 1 / Float(size).squareRoot(), stride = set * width
            let p = slots[i].aux!
            let dp = p + node.rows * heads * set * set  // K floats of scratch after the saved weights
            let g = node.grad
            for r in 0..<node.rows {
                for h in 0..<heads {
                    for s in 0..<set {
                        let w = p + ((r * heads + h) * set + s) * set
                        let off = r * stride + h * size
                        let gs = g + off + s * width
                        // dL/dp_t = ⟨g_s, v_t⟩; through the softmax, dL/da_t = p_t (dp_t − Σ_u p_u dp_u).
                        var mean: Float = 0
                        for t in 0..<set {
                            guard w[t] != 0 else { dp[t] = 0; continue }
                            let vt = nv.value + off + t * width
                            var dot: Float = 0
                            for j in 0..<size { dot += gs[j] * vt[j] }
                            dp[t] = dot
                            mean += w[t] * dot
                            if nv.needsGrad { let gv = nv.grad + off + t * width; for j in 0..<size { gv[j] += w[t] * gs[j] } }
                        }
                        let qs = nq.value + off + s * width
                        for t in 0..<set where w[t] != 0 {
                            let da = w[t] * (dp[t] - mean) * scale
                            let kt = nk.value + off + t * width
                            if nq.needsGrad { let gq = nq.grad + off + s * width; for j in 0..<size { gq[j] += da * kt[j] } }
                            if nk.needsGrad { let gk = nk.grad + off + t * width; for j in 0..<size { gk[j] += da * qs[j] } }
                        }
                    }
                }
            }
        default:
            preconditionFailure("not an attention op")
        }
    }
}
