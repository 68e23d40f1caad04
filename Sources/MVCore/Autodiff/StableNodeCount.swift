import Foundation

extension Tape {
    /// A copy of `x` that takes no gradient (stop-gradient).
    public func detached(_ x: Var) -> Var {
        let n = nodes[x.id]
        return input(rows: n.rows, cols: n.cols) { $0.update(from: nodes[x.id].value, count: n.rows * n.cols) }
    }

    // A loop over a mixture's components skips those absent from every row of the batch, so how many
    // it records varies from step to step. The tape keeps one buffer per node position: a step whose
    // later nodes moved would meet buffers of other sizes there and reallocate them (mallocs in steady
    // state). These keep every such loop at one node count: each recorded component adds the same
    // number of nodes, and empty nodes stand in for the skipped ones.

    /// total = combine(total, next), or total = next for the first term with an empty node in place of
    /// the combining one, so that the first component records as many nodes as the others.
    package func accumulate(_ total: inout Var?, _ next: Var, by combine: (Var, Var) -> Var) {
        if let sum = total {
            total = combine(sum, next)
        } else {
            total = next
            recordEmpty()
        }
    }

    /// Empty nodes for the components a loop skipped: it started at node `start` and recorded
    /// `recorded` of `components` components, as many nodes each.
    package func padSkippedComponents(since start: Int, recorded: Int, of components: Int) {
        guard recorded > 0, recorded < components else { return }
        let perComponent = (count - start) / recorded
        for _ in 0..<(components - recorded) * perComponent { recordEmpty() }
    }

    /// A 0 × 0 leaf that views the last node's buffer instead of owning one: where a full step records a
    /// parameter (a view, with no tape buffer), a leaf of the tape's own would get a buffer allocated.
    private func recordEmpty() {
        _ = externalConstant(nodes[count - 1].value, rows: 0, cols: 0)
    }
}
