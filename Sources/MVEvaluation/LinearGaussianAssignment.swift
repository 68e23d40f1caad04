/// The linear assignment problem solved by the Hungarian method (Kuhn 1955; Munkres 1957), in the
/// O(r² c) shortest-augmenting-path form with row and column potentials (Jonker & Volgenant style).
///
/// For an r × c weight matrix w it finds the one-to-one matching of min(r, c) pairs (row, column),
/// every row (if r ≤ c) or every column (if r > c) matched exactly once, with the largest (or
/// smallest) total weight. The MCC matches true to inferred latents with it.
public enum LinearAssignment {
    /// The matching with the largest Σ w[row][column]; pairs sorted by row.
    public static func maximizing(_ weights: [[Double]]) -> [(row: Int, column: Int)] {
        minimizing(weights.map { $0.map { -$0 } })
    }

    /// The matching with the smallest Σ w[row][column]; pairs sorted by row.
    public static func minimizing(_ weights: [[Double]]) -> [(row: Int, column: Int)] {
        let r = weights.count
        guard r > 0, let c = weights.first?.count, c > 0 else { return [] }
        precondition(weights.allSatisfy { $0.count == c }, "ragged weight matrix")
        precondition(weights.allSatisfy { $0.allSatisfy(\.isFinite) }, "weights must be finite")
        if r <= c {
            return solve(weights, rows: r, cols: c).enumerated().map { (row: $0.offset, column: $0.element) }
        }
        // More rows than columns: match every column to a row on the transpose.
        var t = [[Double]](repeating: [Double](repeating: 0, count: r), count: c)
        for i in 0..<r { for j in 0..<c { t[j][i] = weights[i][j] } }
        let rowOfColumn = solve(t, rows: c, cols: r)
        return rowOfColumn.enumerated().map { (row: $0.element, column: $0.offset) }.sorted { $0.row < $1.row }
    }

    /// Minimum-cost assignment of every row to a distinct column (rows ≤ cols); returns each row's column.
    ///
    /// Rows are added one at a time. Adding row i grows a tree of alternating paths from it by a
    /// Dijkstra-like search over columns on the reduced costs a[i'][j] − u[i'] − v[j] ≥ 0, updating the
    /// potentials u, v by the smallest reduced cost `delta` at each step (which keeps every reduced cost
    /// non-negative and those on the matching zero), until a free column is reached; the matching is then
    /// flipped along the path. Index 0 of `owner`/`via` is a virtual column whose owner is the new row.
    private static func solve(_ a: [[Double]], rows r: Int, cols c: Int) -> [Int] {
        var u = [Double](repeating: 0, count: r + 1)  // row potentials (1-based)
        var v = [Double](repeating: 0, count: c + 1)  // column potentials (1-based, 0 virtual)
        var owner = [Int](repeating: 0, count: c + 1)  // owner[j]: 1-based row matched to column j, 0 = free
        var via = [Int](repeating: 0, count: c + 1)  // via[j]: previous column on the path to j
        for i in 1...r {
            owner[0] = i
            var current = 0
            var slack = [Double](repeating: .infinity, count: c + 1)
            var visited = [Bool](repeating: false, count: c + 1)
            repeat {
                visited[current] = true
                let row = owner[current]
                var delta = Double.infinity
                var next = 0
                for j in 1...c where !visited[j] {
                    let reduced = a[row - 1][j - 1] - u[row] - v[j]
                    if reduced < slack[j] {
                        slack[j] = reduced
                        via[j] = current
                    }
                    if slack[j] < delta {
                        delta = slack[j]
                        next = j
                    }
                }
                for j in 0...c {
                    if visited[j] {
                        u[owner[j]] += delta
                        v[j] -= delta
                    } else {
                        slack[j] -= delta
                    }
                }
                current = next
            } while owner[current] != 0
            // Flip the matching along the path back to the virtual column.
            repeat {
                let previous = via[current]
                owner[current] = owner[previous]
                current = previous
            } while current != 0
        }
        var columnOfRow = [Int](repeating: -1, count: r)
        for j in 1...c where owner[j] != 0 { columnOfRow[owner[j] - 1] = j - 1 }
        return columnOfRow
    }
}
