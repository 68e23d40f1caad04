/// Broadcasting rule for elementwise ops: each operand dimension is either 1 or the output's.
@inline(__always)
func broadcastShape(_ a: (rows: Int, cols: Int), _ b: (rows: Int, cols: Int), _ what: String) -> (rows: Int, cols: Int) {
    let r = Swift.max(a.rows, b.rows)
    let c = Swift.max(a.cols, b.cols)
    precondition((a.rows == r || a.rows == 1) && (b.rows == r || b.rows == 1)
                 && (a.cols == c || a.cols == 1) && (b.cols == c || b.cols == 1),
                 "\(what): shapes \(a.rows)x\(a.cols) and \(b.rows)x\(b.cols) do not broadcast")
    return (r, c)
}

/// Index into an operand of shape (rows, cols) broadcast to an output position (i, j).
@inline(__always)
func bindex(_ i: Int, _ j: Int, _ rows: Int, _ cols: Int) -> Int {
    (rows == 1 ? 0 : i) * cols + (cols == 1 ? 0 : j)
}
