/// Disjoint ranges of coordinates already updated in a step, and the gaps between them: what an
/// incremental optimizer step still has to update once the backward pass is over. Keeps its storage
/// across steps (no allocation once it has seen a step's number of blocks).
struct UpdatedBlocks {
    private var blocks: ContiguousArray<Range<Int>> = []

    mutating func removeAll() { blocks.removeAll(keepingCapacity: true) }

    mutating func append(_ block: Range<Int>) { blocks.append(block) }

    /// Calls `body` with each maximal range of `whole` that no block covers, in increasing order.
    /// Sorts the blocks in place first (insertion sort: a few dozen blocks, and no buffer to allocate).
    mutating func forEachGap(in whole: Range<Int>, _ body: (Range<Int>) -> Void) {
        for i in blocks.indices.dropFirst() {
            let block = blocks[i]
            var j = i
            while j > 0 && blocks[j - 1].lowerBound > block.lowerBound {
                blocks[j] = blocks[j - 1]
                j -= 1
            }
            blocks[j] = block
        }
        var next = whole.lowerBound
        for block in blocks {
            if block.lowerBound > next { body(next..<Swift.min(block.lowerBound, whole.upperBound)) }
            next = Swift.max(next, block.upperBound)
            if next >= whole.upperBound { return }
        }
        if next < whole.upperBound { body(next..<whole.upperBound) }
    }
}
