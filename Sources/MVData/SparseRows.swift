import MVCore
import MVIO

/// A view held as compressed sparse rows (an AnnData CSR or CSC array, read once): row r's non-zeros
/// are `values[indptr[r]..<indptr[r+1]]` at columns `indices[…]`. Memory follows the non-zeros, not
/// rows × cols; a batch's rows are expanded to dense rows as they are copied.
public struct SparseRows: Sendable {
    public let rows: Int
    public let cols: Int
    public let indptr: [Int]
    public let indices: [Int32]
    public let values: [Float]
    public let origin: String

    /// Checked: indptr rises from 0 to the number of values, column indices lie in 0..<cols.
    public init(rows: Int, cols: Int, indptr: [Int], indices: [Int32], values: [Float], origin: String) throws {
        guard indptr.count == rows + 1, indptr.first == 0, indptr.last == values.count, indices.count == values.count,
            zip(indptr, indptr.dropFirst()).allSatisfy({ $0 <= $1 })
        else { throw DataError.badSparse(source: origin, reason: "indptr does not rise from 0 to the \(values.count) values") }
        if let bad = indices.firstIndex(where: { $0 < 0 || Int($0) >= cols }) {
            let row = indptr.lastIndex { $0 <= bad } ?? 0
            throw DataError.badSparse(source: origin, reason: "row \(row) has column index \(indices[bad]) outside 0..<\(cols)")
        }
        (self.rows, self.cols, self.indptr, self.indices, self.values, self.origin) = (rows, cols, indptr, indices, values, origin)
    }

    /// Row r as `cols` dense values at `out`.
    @inline(__always)
    func fill(_ r: Int, _ out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: cols)
        for q in indptr[r]..<indptr[r + 1] { out[Int(indices[q])] += values[q] }
    }

    /// Share of stored entries among rows × cols.
    public var density: Double { rows * cols == 0 ? 0 : Double(values.count) / Double(rows * cols) }
}
