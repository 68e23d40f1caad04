import MVCore
import MVIO

/// Where one view's `rows × cols` Float data lives: in memory, in a memory-mapped .npy file, or computed.
public enum ViewSource: Sendable {
    case matrix(Matrix)
    case npy(NPYFile)
    case generated(GeneratedView)
    case sparse(SparseRows)
    /// A .csv/.tsv table read into memory, with its path for messages.
    case table(Matrix, origin: String)

    public var rows: Int {
        switch self {
        case .matrix(let m), .table(let m, _): return m.rows
        case .npy(let f): return f.rows
        case .generated(let g): return g.rows
        case .sparse(let s): return s.rows
        }
    }

    public var cols: Int {
        switch self {
        case .matrix(let m), .table(let m, _): return m.cols
        case .npy(let f): return f.cols
        case .generated(let g): return g.cols
        case .sparse(let s): return s.cols
        }
    }

    /// A short description for error messages: the file path, or "in memory".
    public var origin: String {
        switch self {
        case .matrix(let m): return "in-memory \(m.rows)x\(m.cols) matrix"
        case .table(_, let origin): return origin
        case .npy(let f): return f.path
        case .generated(let g): return g.origin
        case .sparse(let s): return s.origin
        }
    }

    /// Copies rows `row(0), row(1), …, row(count - 1)` to consecutive rows of `out` (`count × cols` floats).
    /// `observed(i)` false writes a row of zeros instead, so placeholder values for missing data (often NaN)
    /// never reach a model. The source is resolved once per call, not per row.
    @inline(__always)
    func copyRows(
        count: Int, out: UnsafeMutablePointer<Float>,
        row: (Int) -> Int, observed: (Int) -> Bool
    ) {
        let d = cols
        let n = rows
        guard d > 0 else { return }  // nothing to copy (and an empty matrix has no base address)
        switch self {
        case .matrix(let m), .table(let m, _):
            m.storage.withUnsafeBufferPointer { src in
                for i in 0..<count {
                    let r = row(i)
                    precondition(r >= 0 && r < n, "row \(r) out of range 0..<\(n)")
                    if observed(i) {
                        (out + i * d).update(from: src.baseAddress! + r * d, count: d)
                    } else {
                        (out + i * d).update(repeating: 0, count: d)
                    }
                }
            }
        case .npy(let f):
            for i in 0..<count {
                let r = row(i)
                if observed(i) {
                    f.copyRow(r, into: out + i * d)
                } else {
                    precondition(r >= 0 && r < n, "row \(r) out of range 0..<\(n)")
                    (out + i * d).update(repeating: 0, count: d)
                }
            }
        case .generated(let g):
            for i in 0..<count {
                let r = row(i)
                precondition(r >= 0 && r < n, "row \(r) out of range 0..<\(n)")
                if observed(i) { g.fill(r, out + i * d) } else { (out + i * d).update(repeating: 0, count: d) }
            }
        case .sparse(let s):
            for i in 0..<count {
                let r = row(i)
                precondition(r >= 0 && r < n, "row \(r) out of range 0..<\(n)")
                if observed(i) { s.fill(r, out + i * d) } else { (out + i * d).update(repeating: 0, count: d) }
            }
        }
    }
}

/// A view computed row by row when a batch asks for it (a data set too large to hold, built from a
/// smaller one: `PolyFashion`). `fill(r, out)` writes row r's `cols` values.
public struct GeneratedView: Sendable {
    public let rows: Int
    public let cols: Int
    public let origin: String
    public let fill: @Sendable (Int, UnsafeMutablePointer<Float>) -> Void

    public init(rows: Int, cols: Int, origin: String, fill: @escaping @Sendable (Int, UnsafeMutablePointer<Float>) -> Void) {
        (self.rows, self.cols, self.origin, self.fill) = (rows, cols, origin, fill)
    }
}
