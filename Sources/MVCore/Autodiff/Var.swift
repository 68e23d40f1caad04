/// A handle to a value recorded on a `Tape`: the index of its node.
public struct Var: Hashable, Sendable {
    public let id: Int
    @inlinable init(_ id: Int) { self.id = id }
}

/// Which axis a reduction runs over.
public enum Axis: Sendable {
    /// Reduce over rows: r×c → 1×c (a column-wise statistic).
    case rows
    /// Reduce over columns: r×c → r×1 (a row-wise statistic).
    case cols
    /// Reduce everything: r×c → 1×1.
    case all
}
