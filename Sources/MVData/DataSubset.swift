import MVCore

/// A subset of a data set's samples, addressed by position 0..<count. Splits are subsets that share
/// one underlying data set, so carving out a validation set copies no data.
public struct DataSubset: Sendable {
    public let dataset: MultiViewDataset
    /// Sample indices into `dataset`, ascending (so sequential passes read files in order).
    public let indices: [Int]

    public var count: Int { indices.count }

    public init(dataset: MultiViewDataset, indices: [Int]) {
        precondition(indices.allSatisfy { $0 >= 0 && $0 < dataset.count }, "subset index out of range 0..<\(dataset.count)")
        self.dataset = dataset
        self.indices = indices
    }

    /// Every sample of `dataset`.
    public static func all(_ dataset: MultiViewDataset) -> DataSubset {
        DataSubset(dataset: dataset, indices: Array(0..<dataset.count))
    }

    /// Copies the samples at `positions` (0..<count) of view `k` into `out` (`positions.count × d_k` floats).
    /// Allocates nothing; samples whose view is missing are written as zeros.
    public func gather(view k: Int, positions: UnsafeBufferPointer<Int>, into out: UnsafeMutablePointer<Float>) {
        indices.withUnsafeBufferPointer { idx in
            dataset.gather(view: k, count: positions.count, row: { idx[checked(positions[$0])] }, into: out)
        }
    }

    /// Observed flags (`positions.count × K` floats, 1 or 0) of the samples at `positions`.
    public func gatherMask(positions: UnsafeBufferPointer<Int>, into out: UnsafeMutablePointer<Float>) {
        indices.withUnsafeBufferPointer { idx in
            dataset.gatherMask(count: positions.count, row: { idx[checked(positions[$0])] }, into: out)
        }
    }

    /// Labels of the samples at `positions`; the data set must have labels.
    public func gatherLabels(positions: UnsafeBufferPointer<Int>, into out: UnsafeMutablePointer<Int32>) {
        indices.withUnsafeBufferPointer { idx in
            dataset.gatherLabels(count: positions.count, row: { idx[checked(positions[$0])] }, into: out)
        }
    }

    /// View `k` of the whole subset as a matrix (evaluation and tests; allocates).
    public func matrix(view k: Int) -> Matrix {
        var m = Matrix(rows: count, cols: dataset.dimension(ofView: k))
        m.storage.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            indices.withUnsafeBufferPointer { dataset.gather(view: k, rows: $0, into: base) }
        }
        return m
    }

    /// Labels of the subset in position order, if the data set has labels.
    public var labels: [Int32]? {
        dataset.labels.map { all in indices.map { all[$0] } }
    }

    /// The samples with every view observed (all of them without a mask).
    public func completeRows() -> DataSubset {
        guard let mask = dataset.mask else { return self }
        let views = dataset.dimensions.count
        return DataSubset(dataset: dataset, indices: indices.filter { r in (0..<views).allSatisfy { mask.isObserved(row: r, view: $0) } })
    }

    @inline(__always)
    private func checked(_ position: Int) -> Int {
        precondition(position >= 0 && position < indices.count, "position \(position) out of range 0..<\(indices.count)")
        return position
    }
}
