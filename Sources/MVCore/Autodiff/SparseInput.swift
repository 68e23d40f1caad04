import CKernels

// The first layer of a view of sparse counts (genes × cells at a few percent non-zeros): `linear` on a data
// input that is mostly zeros compresses the batch by columns once, then multiplies over the non-zeros only —
// forward, x·W (each stored x[r,c] adds x[r,c]·W[c,:]), and the weight gradient, Xᵀ·dZ. The input needs
// no gradient, so nothing else is asked of it. A batch denser than `sparseInputLimit` takes the GEMMs.
//
// The compressed batch lives in the node's integer scratch: [count] [cap] [colptr: k + 1] [rowidx: cap] [values: cap
// as float bits] [the compression's scratch: 2 · cap + m], cap = ⌊limit · m · k⌋, sized once for the batch shape
// (allocation-free after the first step).

extension Tape {
    /// Inputs narrower than this go to the GEMMs whatever their zeros (the compression would not pay).
    static let sparseInputMinimumColumns = 256

    /// y = f(x W + b) over x's non-zeros into node `out`, when x is data, wide and sparse enough; false
    /// (nothing written) otherwise.
    func sparseAffine(_ out: Var, x: Node, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>, activation: Activation) -> Bool {
        let m = x.rows, k = x.cols, n = nodes[out.id].cols
        guard sparseInputLimit > 0, !x.needsGrad, k >= Self.sparseInputMinimumColumns, m > 0, n > 0 else { return false }
        let capacity = Int(Float(m * k) * Swift.min(sparseInputLimit, 1))
        // After the compressed batch: the compression's scratch (per-row lists and row ends).
        let ints = pivots(out, count: 2 + (k + 1) + 2 * capacity + 2 * capacity + m)
        ints[1] = Int32(capacity)
        let colptr = ints + 2, rowidx = colptr + k + 1
        let stored = UnsafeMutableRawPointer(rowidx + capacity).bindMemory(to: Float.self, capacity: capacity)
        let scratchColumns = rowidx + 2 * capacity
        let scratchValues = UnsafeMutableRawPointer(scratchColumns + capacity).bindMemory(to: Float.self, capacity: capacity)
        let count = mvvae_compress_columns(
            x.value, m, k, capacity, colptr, rowidx, stored, scratchColumns, scratchValues, scratchColumns + 2 * capacity)
        ints[0] = Int32(count)
        guard count >= 0 else { return false }
        let y = nodes[out.id].value
        y.update(repeating: 0, count: m * n)
        mvvae_sparse_columns_product(colptr, rowidx, stored, k, n, weight, y)
        if activation == .identity || activation == .relu {
            mvvae_bias_activation(y, bias, m, n, activation == .relu ? 1 : 0)
        } else {
            for r in 0..<m { for j in 0..<n { y[r * n + j] = activation.value(y[r * n + j] + bias[j]) } }
        }
        return true
    }

    /// gw += xᵀ dz for the `sparseLinear` node `i`, over the batch compressed in its forward pass.
    func sparseWeightGradient(_ i: Int, dz: UnsafePointer<Float>, into gw: UnsafeMutablePointer<Float>) {
        guard case let .sparseLinear(x, _, _, _) = nodes[i].op, let ints = slots[i].pivots else {
            preconditionFailure("not a sparse linear node")
        }
        let k = nodes[x].cols, n = nodes[i].cols, count = Int(ints[0])
        let capacity = Int(ints[1])
        precondition(count >= 0 && count <= capacity, "sparseLinear: the compressed batch is gone")
        let colptr = ints + 2, rowidx = colptr + k + 1
        let stored = UnsafeMutableRawPointer(rowidx + capacity).assumingMemoryBound(to: Float.self)
        mvvae_sparse_columns_weight_gradient(colptr, rowidx, stored, k, n, dz, gw)
    }
}
