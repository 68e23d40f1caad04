import Foundation

extension Tape {
    /// A copy of `x` that takes no gradient (stop-gradient).
    public func detached(_ x: Var) -> Var {
        let n = nodes[x.id]
        return input(rows: n.rows, cols: n.cols) { $0.update(from: nodes[x.id].value, count: n.rows * n.cols) }
    }

    /// Runs `body`, a part of the step that records a varying number of nodes (a loop over a mixture's
    /// components skipping those absent from every row), and pads it with empty nodes to the most it has
    /// recorded before, so the nodes after it keep their positions from step to step.
    ///
    /// The tape keeps one buffer per node position: a step whose later nodes moved would meet buffers of
    /// other sizes there and reallocate them. A region is known by its place in the step: the k-th region
    /// entered directly inside a given region (or the step), so a loop's regions keep their identities
    /// whichever number of them an earlier sibling entered.
    public func withStableNodeCount(_ body: () -> Void) {
        let parent = openRegion, start = count
        let ordinal = regions[parent].entered
        regions[parent].entered += 1
        if ordinal == regions[parent].children.count {
            regions.append(StableRegion())
            regions[parent].children.append(regions.count - 1)
        }
        let region = regions[parent].children[ordinal]
        regions[region].entered = 0
        if enteredRegions == regionEntries.count {
            regionEntries.append(RegionEntry(parent: parent, start: start))
        } else {
            regionEntries[enteredRegions] = RegionEntry(parent: parent, start: start)
        }
        enteredRegions += 1
        openRegion = region
        body()
        openRegion = parent
        let recorded = count - start
        regions[region].nodes = Swift.max(regions[region].nodes, recorded)
        for _ in recorded..<regions[region].nodes { recordEmpty() }
    }

    /// Forgets the regions entered at or after node `mark` (`rewind(to:)`), so they are entered again as themselves.
    func forgetRegions(from mark: Int) {
        while enteredRegions > 0 && regionEntries[enteredRegions - 1].start >= mark {
            enteredRegions -= 1
            regions[regionEntries[enteredRegions].parent].entered -= 1
        }
    }

    /// A 0 × 0 leaf that views the last node's buffer instead of owning one: where a full step records a
    /// parameter (a view, with no tape buffer), a leaf of the tape's own would get a buffer allocated.
    private func recordEmpty() {
        _ = externalConstant(count > 0 ? nodes[count - 1].value : scratch, rows: 0, cols: 0)
    }
}

/// A `withStableNodeCount` region: the most nodes it has held, the regions entered directly inside it (by
/// order of entry), and how many of those this entry has entered so far.
struct StableRegion {
    var nodes = 0
    var children: ContiguousArray<Int> = []
    var entered = 0
}

/// A region entered in this step: inside which region, and at which node.
struct RegionEntry {
    var parent: Int
    var start: Int
}
