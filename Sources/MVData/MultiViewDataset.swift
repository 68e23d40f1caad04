import MVCore
import MVIO

/// K aligned views of the same n samples (row i of every view is sample i), with optional class
/// labels and an optional per-sample mask of observed views.
///
/// The trainer reads it only through the `gather` family, which copies chosen rows into buffers the
/// caller owns and allocates nothing, so it can run every step.
public final class MultiViewDataset: Sendable {
    public let names: [String]
    public let views: [ViewSource]
    /// One class index per sample, if known.
    public let labels: [Int32]?
    /// Observed (1) / missing (0) per sample and view; nil means every view is observed.
    public let mask: ViewMask?
    /// Number of samples (rows of every view).
    public let count: Int

    public var viewCount: Int { views.count }
    /// Feature count d_k of each view.
    public var dimensions: [Int] { views.map(\.cols) }
    public func dimension(ofView k: Int) -> Int { views[k].cols }

    /// Validates that all views, the labels and the mask describe the same samples.
    /// `names` default to "view0", "view1", …; `labelsOrigin` names the labels' source in errors.
    public init(
        views: [ViewSource], names: [String]? = nil,
        labels: [Int32]? = nil, labelsOrigin: String = "in-memory labels",
        mask: ViewMask? = nil
    ) throws {
        guard let first = views.first else { throw DataError.noViews }
        let names = names ?? views.indices.map { "view\($0)" }
        guard names.count == views.count else {
            throw DataError.badViewNames(reason: "\(names.count) names were given for \(views.count) views")
        }
        for (k, v) in views.enumerated() where v.cols < 1 {
            throw DataError.emptyView(view: names[k], source: v.origin)
        }
        for (k, v) in views.enumerated() where v.rows != first.rows {
            throw DataError.viewRowsMismatch(
                view: names[k], source: v.origin, rows: v.rows,
                expectedRows: first.rows, firstView: names[0], firstSource: first.origin)
        }
        if let labels {
            guard labels.count == first.rows else {
                throw DataError.labelsCountMismatch(source: labelsOrigin, count: labels.count, expected: first.rows)
            }
            if let bad = labels.firstIndex(where: { $0 < 0 }) {
                throw DataError.badLabel(source: labelsOrigin, index: bad, value: Double(labels[bad]))
            }
        }
        if let mask, mask.rows != first.rows || mask.views != views.count {
            throw DataError.maskShapeMismatch(
                source: mask.origin, rows: mask.rows, cols: mask.views,
                expectedRows: first.rows, expectedCols: views.count)
        }
        if let mask {
            // A row that observes nothing trains nothing and is surely a mistake; a view never observed
            // cannot be learnt (and would only fail later, at evaluation).
            var seen = [Bool](repeating: false, count: views.count)
            for r in 0..<mask.rows {
                var any = false
                for k in 0..<views.count where mask.isObserved(row: r, view: k) { any = true; seen[k] = true }
                if !any { throw DataError.maskEmptyRow(source: mask.origin, row: r) }
            }
            if let k = seen.firstIndex(of: false) { throw DataError.maskViewNeverObserved(source: mask.origin, view: names[k], column: k) }
        }
        self.names = names
        self.views = views
        self.labels = labels
        self.mask = mask
        self.count = first.rows
    }

    /// Views from .npy files (memory-mapped), labels from an integer .npy of shape (n,) or (n, 1),
    /// and the view mask from a (n, K) .npy of 0/1. Names default to the file names without ".npy".
    public convenience init(
        npyViews paths: [String], names: [String]? = nil,
        labelsPath: String? = nil, maskPath: String? = nil
    ) throws {
        // A .csv or .tsv view is read whole into memory (DelimitedTable); a .npy is memory-mapped.
        let sources = try paths.map { path -> ViewSource in
            let lower = path.lowercased()
            if lower.hasSuffix(".csv") || lower.hasSuffix(".tsv") { return .table(try DelimitedTable(path: path).values, origin: path) }
            return .npy(try NPYFile(path: path))
        }
        let labels = try labelsPath.map(Self.loadLabels)
        let mask = try maskPath.map(ViewMask.load)
        try self.init(
            views: sources, names: names ?? paths.map(Self.stem),
            labels: labels, labelsOrigin: labelsPath ?? "", mask: mask)
    }

    /// Reads class labels from a .npy: one non-negative integer per sample (any supported dtype).
    public static func loadLabels(_ path: String) throws -> [Int32] {
        let file = try NPYFile(path: path)
        guard file.cols == 1 else {
            throw DataError.npyBadShape(path: path, shape: file.shape, reason: "labels need shape (n,) or (n, 1)")
        }
        var labels = [Int32](repeating: 0, count: file.rows)
        for i in 0..<file.rows {
            let v = file.doubleValue(at: i)
            guard v >= 0, v <= Double(Int32.max), v == v.rounded() else {
                throw DataError.badLabel(source: path, index: i, value: v)
            }
            labels[i] = Int32(v)
        }
        return labels
    }

    /// The same views and labels with another observed-view mask (the data is shared, not copied).
    public func replacingMask(_ mask: ViewMask?) throws -> MultiViewDataset {
        try MultiViewDataset(views: views, names: names, labels: labels, mask: mask)
    }

    // MARK: Access

    @inline(__always)
    public func isObserved(row: Int, view k: Int) -> Bool {
        mask?.isObserved(row: row, view: k) ?? true
    }

    public func label(_ row: Int) -> Int? { labels.map { Int($0[row]) } }

    /// Copies rows `rows[0], rows[1], …` of view `k` into `out` (`rows.count × d_k` floats, row-major).
    /// Rows whose view is missing in the mask are written as zeros.
    public func gather(view k: Int, rows: UnsafeBufferPointer<Int>, into out: UnsafeMutablePointer<Float>) {
        gather(view: k, count: rows.count, row: { rows[$0] }, into: out)
    }

    public func gather(view k: Int, rows: [Int], into out: UnsafeMutablePointer<Float>) {
        rows.withUnsafeBufferPointer { gather(view: k, rows: $0, into: out) }
    }

    /// Writes the observed flags (1 or 0) of the given rows into `out` (`rows.count × K` floats).
    public func gatherMask(rows: UnsafeBufferPointer<Int>, into out: UnsafeMutablePointer<Float>) {
        gatherMask(count: rows.count, row: { rows[$0] }, into: out)
    }

    /// Writes the labels of the given rows into `out`; the data set must have labels.
    public func gatherLabels(rows: UnsafeBufferPointer<Int>, into out: UnsafeMutablePointer<Int32>) {
        gatherLabels(count: rows.count, row: { rows[$0] }, into: out)
    }

    /// Rows `range` (all rows by default) of view `k` as a matrix; missing rows are zeros.
    public func matrix(view k: Int, rows range: Range<Int>? = nil) -> Matrix {
        let range = range ?? 0..<count
        var m = Matrix(rows: range.count, cols: views[k].cols)
        m.storage.withUnsafeMutableBufferPointer { buf in
            guard let out = buf.baseAddress else { return }
            gather(view: k, count: range.count, row: { range.lowerBound + $0 }, into: out)
        }
        return m
    }

    // Shared by the data set and its subsets: `row(i)` maps output position i to a sample index.

    @inline(__always)
    func gather(view k: Int, count n: Int, row: (Int) -> Int, into out: UnsafeMutablePointer<Float>) {
        if let mask {
            views[k].copyRows(count: n, out: out, row: row, observed: { mask.isObserved(row: row($0), view: k) })
        } else {
            views[k].copyRows(count: n, out: out, row: row, observed: { _ in true })
        }
    }

    @inline(__always)
    func gatherMask(count n: Int, row: (Int) -> Int, into out: UnsafeMutablePointer<Float>) {
        let kk = views.count
        guard let mask else {
            out.update(repeating: 1, count: n * kk)
            return
        }
        mask.values.withUnsafeBufferPointer { m in
            for i in 0..<n {
                let r = row(i)
                precondition(r >= 0 && r < count, "row \(r) out of range 0..<\(count)")
                for k in 0..<kk { out[i * kk + k] = Float(m[r * kk + k]) }
            }
        }
    }

    @inline(__always)
    func gatherLabels(count n: Int, row: (Int) -> Int, into out: UnsafeMutablePointer<Int32>) {
        guard let labels else { preconditionFailure("gatherLabels on a data set without labels") }
        labels.withUnsafeBufferPointer { l in
            for i in 0..<n {
                let r = row(i)
                precondition(r >= 0 && r < count, "row \(r) out of range 0..<\(count)")
                out[i] = l[r]
            }
        }
    }

    private static func stem(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        for suffix in [".npy", ".csv", ".tsv"] where file.lowercased().hasSuffix(suffix) { return String(file.dropLast(4)) }
        return file
    }
}
