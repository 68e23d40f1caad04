import MVCore

// `@exclusivity(unchecked)` on the properties the step touches: README, "The training step and the exchange".

/// The rows of one step on this rank, gathered into buffers that live for the whole run.
///
/// Views are row-major `rows × dimension` blocks; `mask` (when the data has missing views) is
/// `rows × views` with 1 where the view is observed; `indices` are global row indices, which key
/// all per-sample randomness so it does not depend on which rank holds the row.
public final class Batch {
    public let dimensions: [Int]
    public let capacity: Int
    @exclusivity(unchecked) public internal(set) var rows = 0
    /// Epoch the batch belongs to (keys the reparameterisation noise).
    @exclusivity(unchecked) public internal(set) var epoch = 0
    public let views: [UnsafeMutablePointer<Float>]
    public let mask: UnsafeMutablePointer<Float>?
    public let indices: UnsafeMutablePointer<Int>
    public let labels: UnsafeMutablePointer<Int32>

    public init(dimensions: [Int], capacity: Int, hasMask: Bool) {
        self.dimensions = dimensions
        self.capacity = Swift.max(capacity, 1)
        views = dimensions.map { UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(capacity, 1) * Swift.max($0, 1)) }
        mask = hasMask ? .allocate(capacity: Swift.max(capacity, 1) * dimensions.count) : nil
        indices = .allocate(capacity: Swift.max(capacity, 1))
        labels = .allocate(capacity: Swift.max(capacity, 1))
    }

    deinit {
        views.forEach { $0.deallocate() }
        mask?.deallocate()
        indices.deallocate()
        labels.deallocate()
    }

    public var viewCount: Int { dimensions.count }

    /// Sets the row count and epoch for the rows the caller has just written.
    public func setRows(_ n: Int, epoch: Int) {
        precondition(n <= capacity, "batch of \(n) rows exceeds capacity \(capacity)")
        rows = n
        self.epoch = epoch
    }

    /// Whether view k of row r is observed.
    @inline(__always)
    public func observed(_ r: Int, view k: Int) -> Bool {
        guard let mask else { return true }
        return mask[r * dimensions.count + k] != 0
    }

    /// Fills `out` (rows × n) with standard-normal noise for view `k`: row r from the Philox stream of
    /// (seed, purpose, epoch, global index), sub-sequence k, so any rank draws the same values for it.
    public func fillNoise(
        _ out: UnsafeMutablePointer<Float>, view k: Int, width n: Int, seed: UInt64,
        purpose: RandomPurpose = .reparameterization
    ) {
        for r in 0..<rows {
            var rng = RandomStream(seed: seed, stream: purpose.stream(epoch: epoch, index: indices[r]), block: UInt64(k) << 32)
            rng.fillNormal(out + r * n, count: n)
        }
    }
}
