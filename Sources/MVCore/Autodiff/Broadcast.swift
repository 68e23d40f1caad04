/// Broadcasting rule for elementwise ops: each operand dimension is either 1 or the output's (a 1
/// broadcasts to any size, 0 included: a rank with no rows of a batch still records the step).
@inline(__always)
func broadcastShape(_ a: (rows: Int, cols: Int), _ b: (rows: Int, cols: Int), _ what: String) -> (rows: Int, cols: Int) {
    @inline(__always) func dimension(_ x: Int, _ y: Int) -> Int? { x == y ? x : x == 1 ? y : y == 1 ? x : nil }
    guard let r = dimension(a.rows, b.rows), let c = dimension(a.cols, b.cols) else {
        preconditionFailure("\(what): shapes \(a.rows)x\(a.cols) and \(b.rows)x\(b.cols) do not broadcast")
    }
    return (r, c)
}

/// Index into an operand of shape (rows, cols) broadcast to an output position (i, j).
@inline(__always)
func bindex(_ i: Int, _ j: Int, _ rows: Int, _ cols: Int) -> Int {
    (rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)
}
