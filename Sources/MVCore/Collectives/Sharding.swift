/// Rank r's contiguous share of `count` items split over `size` ranks; the first `count % size`
/// ranks take one extra item. Shares tile 0..<count in rank order, so a global batch is the
/// concatenation of the ranks' slices whatever the world size.
public func rankSlice(count: Int, rank: Int, size: Int) -> Range<Int> {
    precondition(size >= 1 && rank >= 0 && rank < size)
    let base = count / size, extra = count % size
    let start = rank * base + Swift.min(rank, extra)
    return start..<(start + base + (rank < extra ? 1 : 0))
}

/// The sample order of one epoch: a permutation of 0..<count drawn from (seed, epoch) alone.
public func epochPermutation(count: Int, seed: UInt64, epoch: Int) -> [Int] {
    var rng = RandomStream(seed: seed, stream: RandomPurpose.shuffle.stream(epoch: epoch))
    return rng.permutation(count)
}
