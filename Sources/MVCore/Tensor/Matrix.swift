/// A dense row-major matrix of `Float`, the value type used at API boundaries
/// (datasets, evaluation, tests). Hot paths work on raw pointers instead; see `Tape`.
public struct Matrix: Equatable, Sendable, CustomStringConvertible {
    public var rows: Int
    public var cols: Int
    /// Row-major elements: element (i, j) is `storage[i * cols + j]`.
    public var storage: [Float]

    public init(rows: Int, cols: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && cols >= 0, "negative matrix shape")
        self.rows = rows
        self.cols = cols
        self.storage = [Float](repeating: value, count: rows * cols)
    }

    public init(rows: Int, cols: Int, _ values: [Float]) {
        precondition(values.count == rows * cols, "Matrix(\(rows)x\(cols)) needs \(rows * cols) values, got \(values.count)")
        self.rows = rows
        self.cols = cols
        self.storage = values
    }

    /// A matrix from nested rows: `Matrix([[1, 2], [3, 4]])`.
    public init(_ nested: [[Float]]) {
        let r = nested.count
        let c = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == c }, "ragged rows")
        self.init(rows: r, cols: c, nested.flatMap { $0 })
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        for i in 0..<n { m.storage[i * n + i] = 1 }
        return m
    }

    /// A matrix of independent standard-normal draws from the counter-based generator.
    public static func randomNormal(rows: Int, cols: Int, seed: UInt64, stream: UInt64 = 0, scale: Float = 1) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        var rng = RandomStream(seed: seed, stream: stream)
        for i in 0..<m.storage.count { m.storage[i] = scale * rng.nextNormal() }
        return m
    }

    /// A matrix of independent U(low, high) draws from the counter-based generator.
    public static func randomUniform(
        rows: Int, cols: Int, seed: UInt64, stream: UInt64 = 0,
        low: Float = 0, high: Float = 1
    ) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        var rng = RandomStream(seed: seed, stream: stream)
        for i in 0..<m.storage.count { m.storage[i] = low + (high - low) * rng.nextUniform() }
        return m
    }

    public var count: Int { rows * cols }
    public var shape: (rows: Int, cols: Int) { (rows, cols) }

    public subscript(i: Int, j: Int) -> Float {
        get { storage[i * cols + j] }
        set { storage[i * cols + j] = newValue }
    }

    public var transposed: Matrix {
        var t = Matrix(rows: cols, cols: rows)
        for i in 0..<rows { for j in 0..<cols { t.storage[j * rows + i] = storage[i * cols + j] } }
        return t
    }

    public func row(_ i: Int) -> [Float] { Array(storage[(i * cols)..<((i + 1) * cols)]) }

    /// Rows `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        Matrix(rows: range.count, cols: cols, Array(storage[(range.lowerBound * cols)..<(range.upperBound * cols)]))
    }

    /// Columns `range` as a new matrix.
    public func columns(_ range: Range<Int>) -> Matrix {
        var out = Matrix(rows: rows, cols: range.count)
        for i in 0..<rows {
            for (k, j) in range.enumerated() { out.storage[i * range.count + k] = storage[i * cols + j] }
        }
        return out
    }

    /// Largest absolute elementwise difference; shapes must match.
    public func maxAbsDifference(_ other: Matrix) -> Float {
        precondition(rows == other.rows && cols == other.cols, "shape mismatch")
        var d: Float = 0
        for i in 0..<storage.count { d = max(d, abs(storage[i] - other.storage[i])) }
        return d
    }

    public var frobeniusNorm: Float {
        var s: Double = 0
        for v in storage { s += Double(v) * Double(v) }
        return Float(s.squareRoot())
    }

    public var description: String {
        var lines: [String] = []
        for i in 0..<min(rows, 8) {
            lines.append(row(i).prefix(8).map { String(format: "%9.4f", $0) }.joined(separator: " ") + (cols > 8 ? " …" : ""))
        }
        if rows > 8 { lines.append("…") }
        return "Matrix(\(rows)x\(cols))\n" + lines.joined(separator: "\n")
    }
}

import Foundation
