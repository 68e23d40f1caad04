import Foundation

// Batched per-row D×D algebra for full-covariance posteriors: each row of a rows × D² node holds one
// row-major D×D matrix. Building a lower-triangular factor, multiplying by it, forming L Lᵀ, and the
// log-determinant of a symmetric positive-definite matrix, with their VJPs. Every op is one loop over
// the rows into buffers the tape keeps (no LAPACK call per row, nothing allocated on replay).

extension Tape {
    /// The side D of the square matrices held by the rows of `x` (rows × D²).
    func rowMatrixSide(_ x: Var, _ what: String) -> Int {
        let c = nodes[x.id].cols
        let d = Int(Double(c).squareRoot().rounded())
        precondition(d * d == c, "\(what): \(c) columns are not D² for any D")
        return d
    }

    /// Per row, the D×D lower-triangular L with `diagonal` (rows × D) on its diagonal and
    /// `strictlyLower` (rows × D(D−1)/2, row by row) below it; rows × D².
    public func rowLowerTriangular(diagonal: Var, strictlyLower: Var) -> Var {
        let nd = nodes[diagonal.id], nl = nodes[strictlyLower.id]
        let d = nd.cols
        precondition(
            nl.rows == nd.rows && nl.cols == d * (d - 1) / 2,
            "rowLowerTriangular: diagonal \(nd.rows)x\(d) needs strictly-lower \(nd.rows)x\(d * (d - 1) / 2), got \(nl.rows)x\(nl.cols)")
        let out = record(
            .rowLowerTriangular(diagonal: diagonal.id, strictlyLower: strictlyLower.id), rows: nd.rows, cols: d * d,
            needsGrad: nd.needsGrad || nl.needsGrad)
        let y = nodes[out.id].value, dv = nd.value, lv = nl.value
        let below = d * (d - 1) / 2
        y.update(repeating: 0, count: nd.rows * d * d)
        for r in 0..<nd.rows {
            let m = y + r * d * d
            var k = r * below
            for i in 0..<d {
                for j in 0..<i { m[i * d + j] = lv[k]; k += 1 }
                m[i * d + i] = dv[r * d + i]
            }
        }
        return out
    }

    /// Per row, y_r = M_r x_r for M rows × D² and x rows × D; rows × D.
    public func rowMatVec(_ m: Var, _ x: Var) -> Var {
        let nm = nodes[m.id], nx = nodes[x.id]
        let d = rowMatrixSide(m, "rowMatVec")
        precondition(nx.rows == nm.rows && nx.cols == d, "rowMatVec: M \(nm.rows)x\(nm.cols), x \(nx.rows)x\(nx.cols)")
        let out = record(.rowMatVec(m.id, x.id), rows: nm.rows, cols: d, needsGrad: nm.needsGrad || nx.needsGrad)
        let y = nodes[out.id].value
        for r in 0..<nm.rows {
            let a = nm.value + r * d * d, v = nx.value + r * d
            for i in 0..<d {
                var s: Float = 0
                for j in 0..<d { s += a[i * d + j] * v[j] }
                y[r * d + i] = s
            }
        }
        return out
    }

    /// Per row, M_r M_rᵀ for M rows × D²; rows × D².
    public func rowGram(_ m: Var) -> Var {
        let nm = nodes[m.id]
        let d = rowMatrixSide(m, "rowGram")
        let out = record(.rowGram(m.id), rows: nm.rows, cols: d * d, needsGrad: nm.needsGrad)
        let y = nodes[out.id].value
        for r in 0..<nm.rows {
            let a = nm.value + r * d * d, s = y + r * d * d
            for i in 0..<d {
                for j in 0...i {
                    var t: Float = 0
                    for k in 0..<d { t += a[i * d + k] * a[j * d + k] }
                    s[i * d + j] = t
                    s[j * d + i] = t
                }
            }
        }
        return out
    }

    /// Per row, ln det S_r of a symmetric positive-definite S rows × D² (Cholesky in double precision);
    /// rows × 1. A row that is not positive definite throws, naming it.
    public func rowLogDeterminant(_ s: Var) throws -> Var {
        let ns = nodes[s.id]
        let d = rowMatrixSide(s, "rowLogDeterminant")
        let out = record(.rowLogDet(s.id), rows: ns.rows, cols: 1, needsGrad: ns.needsGrad)
        let y = nodes[out.id].value
        // aux: each row's S⁻¹ for the VJP (∂ ln det S / ∂S = S⁻¹), and one D×D Cholesky factor in Double.
        let inverses = aux(out, count: ns.rows * d * d)
        let l = doubleWorkspace(count: 2 * d * d), w = l + d * d
        for r in 0..<ns.rows {
            let a = ns.value + r * d * d
            var logDet = 0.0
            for i in 0..<d {
                for j in 0...i {
                    var t = Double(a[i * d + j])
                    for k in 0..<j { t -= l[i * d + k] * l[j * d + k] }
                    if i == j {
                        guard t > 0, t.isFinite else { throw LinearAlgebraError.notPositiveDefinite(order: i + 1) }
                        l[i * d + i] = t.squareRoot()
                        logDet += Foundation.log(t)
                    } else {
                        l[i * d + j] = t / l[j * d + j]
                    }
                }
            }
            y[r] = Float(logDet)
            guard ns.needsGrad else { continue }
            // W = L⁻¹ (lower), then S⁻¹ = Wᵀ W.
            for j in 0..<d {
                for i in 0..<d {
                    guard i >= j else { w[i * d + j] = 0; continue }
                    var t = i == j ? 1.0 : 0.0
                    for k in j..<i { t -= l[i * d + k] * w[k * d + j] }
                    w[i * d + j] = t / l[i * d + i]
                }
            }
            let inv = inverses + r * d * d
            for i in 0..<d {
                for j in 0...i {
                    var t = 0.0
                    for k in i..<d { t += w[k * d + i] * w[k * d + j] }
                    inv[i * d + j] = Float(t)
                    inv[j * d + i] = Float(t)
                }
            }
        }
        return out
    }

    func backwardRowMatrix(_ i: Int) {
        let node = nodes[i]
        let g = node.grad
        switch node.op {
        case let .rowLowerTriangular(diagonal, strictlyLower):
            let nd = nodes[diagonal], nl = nodes[strictlyLower]
            let d = nd.cols, below = d * (d - 1) / 2
            for r in 0..<node.rows {
                let gm = g + r * d * d
                if nd.needsGrad { for k in 0..<d { nd.grad[r * d + k] += gm[k * d + k] } }
                if nl.needsGrad {
                    var k = r * below
                    for a in 0..<d { for b in 0..<a { nl.grad[k] += gm[a * d + b]; k += 1 } }
                }
            }
        case let .rowMatVec(m, x):
            // M̄_r += ḡ_r x_rᵀ;  x̄_r += M_rᵀ ḡ_r.
            let nm = nodes[m], nx = nodes[x]
            let d = node.cols
            for r in 0..<node.rows {
                let gr = g + r * d, a = nm.value + r * d * d, v = nx.value + r * d
                if nm.needsGrad {
                    let ga = nm.grad + r * d * d
                    for p in 0..<d { for q in 0..<d { ga[p * d + q] += gr[p] * v[q] } }
                }
                if nx.needsGrad {
                    let gv = nx.grad + r * d
                    for q in 0..<d {
                        var s: Float = 0
                        for p in 0..<d { s += a[p * d + q] * gr[p] }
                        gv[q] += s
                    }
                }
            }
        case let .rowGram(m):
            // M̄_r += (Ḡ_r + Ḡ_rᵀ) M_r.
            let nm = nodes[m]
            let d = rowMatrixSide(Var(i), "rowGram")
            for r in 0..<node.rows {
                let gr = g + r * d * d, a = nm.value + r * d * d, ga = nm.grad + r * d * d
                for p in 0..<d {
                    for q in 0..<d {
                        var s: Float = 0
                        for k in 0..<d { s += (gr[p * d + k] + gr[k * d + p]) * a[k * d + q] }
                        ga[p * d + q] += s
                    }
                }
            }
        case let .rowLogDet(s):
            let ns = nodes[s]
            let d = rowMatrixSide(Var(s), "rowLogDeterminant")
            let inverses = slots[i].aux!
            for r in 0..<node.rows {
                let gs = ns.grad + r * d * d, inv = inverses + r * d * d, scale = g[r]
                for q in 0..<(d * d) { gs[q] += scale * inv[q] }
            }
        default:
            preconditionFailure("not a row-matrix op")
        }
    }
}
