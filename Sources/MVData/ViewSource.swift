import MVCore
import MVIO

/// Where one view's `rows × cols` Float data lives: in memory, or in a memory-mapped .npy file.
public enum ViewSource: Sendable {
    case matrix(Matrix)
    case npy(NPYFile)

    public var rows: Int {
        switch self {
        case .matrix(let m): return m.rows
        case .npy(let f): return f.rows
        }
    }

    public var cols: Int {
        switch self {
        case .matrix(let m): return m.cols
        case .npy(let f): return f.cols
        }
    }

    /// A short description for error messages: the file path, or "in memory".
    public var origin: String {
        switch self {
        case .matrix(let m): return "in-memory \(m.rows)x\(m.cols) matrix"
        case .npy(let f): return f.path
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
        case .matrix(let m):
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
        }
    }
}
