/// The buffers a tape owns, lent to the nodes of one step and given back when the tape is reset.
///
/// A node takes a free buffer of exactly its size, else the smallest larger free one, else a new one;
/// so a step's buffers do not depend on where its nodes stand: a step that records fewer nodes (a
/// mixture's loop skipping components the batch lacks), or nodes in another order, is served by the
/// buffers of the largest step seen. Given back in reverse order, one graph replayed takes the same
/// buffers every time. Free buffers wait in one stack per capacity; no allocation once the pool holds
/// a step's needs (a stack keeps its storage, a new capacity is a new key only the first time).
struct BufferPool<Element> {
    /// Free buffers by capacity: `stacks[slot[capacity]]`.
    private var slot: [Int: Int] = [:]
    private var stacks: ContiguousArray<ContiguousArray<UnsafeMutablePointer<Element>>> = []
    /// The capacities that have a stack, ascending (for the smallest larger one).
    private var capacities: ContiguousArray<Int> = []
    private var all: ContiguousArray<UnsafeMutablePointer<Element>> = []
    /// Bytes allocated in total.
    private(set) var allocatedBytes = 0

    /// A buffer of at least `count` elements (at least 1) and its capacity, lent until `giveBack`.
    mutating func take(_ count: Int) -> (buffer: UnsafeMutablePointer<Element>, capacity: Int) {
        let n = Swift.max(count, 1)
        if let s = slot[n], let b = stacks[s].popLast() { return (b, n) }
        var i = firstIndex(notBelow: n + 1)
        while i < capacities.count {
            let c = capacities[i]
            if let b = stacks[slot[c]!].popLast() { return (b, c) }
            i += 1
        }
        let buffer = UnsafeMutablePointer<Element>.allocate(capacity: n)
        allocatedBytes += n * MemoryLayout<Element>.stride
        all.append(buffer)
        if slot[n] == nil {
            slot[n] = stacks.count
            stacks.append([])
            capacities.insert(n, at: firstIndex(notBelow: n))
        }
        return (buffer, n)
    }

    /// Returns a buffer `take` lent, with the capacity it said.
    mutating func giveBack(_ buffer: UnsafeMutablePointer<Element>, capacity: Int) {
        stacks[slot[capacity]!].append(buffer)
    }

    /// The first position in `capacities` holding at least `n` (binary search).
    private func firstIndex(notBelow n: Int) -> Int {
        var low = 0, high = capacities.count
        while low < high {
            let mid = (low + high) / 2
            if capacities[mid] < n { low = mid + 1 } else { high = mid }
        }
        return low
    }

    func deallocateAll() {
        for b in all { b.deallocate() }
    }
}
