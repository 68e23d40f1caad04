import Foundation

extension Tape {
    /// A copy of `x` that takes no gradient (stop-gradient).
    public func detached(_ x: Var) -> Var {
        let n = nodes[x.id]
        return input(rows: n.rows, cols: n.cols) { $0.update(from: nodes[x.id].value, count: n.rows * n.cols) }
    }
}
