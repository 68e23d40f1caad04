import MVIO

/// Which views are observed for each sample: `rows × views`, 1 = observed, 0 = missing.
///
/// Missingness is a property of the data (a sample lacking a modality), distinct from the random
/// masks some training objectives draw per step.
public struct ViewMask: Equatable, Sendable {
    public let rows: Int
    public let views: Int
    /// Row-major 0/1 flags: entry (i, k) is `values[i * views + k]`.
    public let values: [UInt8]
    /// The file the mask came from, or "in-memory mask", for error messages.
    public let origin: String

    public init(rows: Int, views: Int, values: [UInt8], origin: String = "in-memory mask") throws {
        guard values.count == rows * views else {
            throw DataError.maskShapeMismatch(
                source: origin, rows: views > 0 ? values.count / views : values.count,
                cols: views, expectedRows: rows, expectedCols: views)
        }
        if let bad = values.firstIndex(where: { $0 > 1 }) {
            throw DataError.maskBadValue(source: origin, row: bad / views, view: bad % views, value: Double(values[bad]))
        }
        self.rows = rows
        self.views = views
        self.values = values
        self.origin = origin
    }

    /// Loads a mask saved as a 2-D .npy of bool, uint8 or float32 (any supported dtype works) holding only 0 and 1.
    public static func load(_ path: String) throws -> ViewMask {
        let file = try NPYFile(path: path)
        let n = file.rows * file.cols
        var values = [UInt8](repeating: 0, count: n)
        for i in 0..<n {
            let v = file.doubleValue(at: i)
            guard v == 0 || v == 1 else {
                throw DataError.maskBadValue(source: path, row: i / file.cols, view: i % file.cols, value: v)
            }
            values[i] = v == 1 ? 1 : 0
        }
        return try ViewMask(rows: file.rows, views: file.cols, values: values, origin: path)
    }

    @inline(__always)
    public func isObserved(row: Int, view: Int) -> Bool { values[row * views + view] != 0 }

    /// How many samples observe view `k`.
    public func observedCount(view k: Int) -> Int {
        var c = 0
        for i in 0..<rows where values[i * views + k] != 0 { c += 1 }
        return c
    }
}
