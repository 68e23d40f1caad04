import CKernels
import MVData
import MVConfig
import MVIO

/// Checks of the values a model will read, done once before training or evaluating: every observed
/// value finite, in [0, 1] for views scored with the Bernoulli likelihood, and one-hot (each block of
/// `categories` values in [0, 1], summing to 1) for categorical views. One pass over each data set (rows of
/// missing views are never read, as in training).
extension ExperimentData {
    public func checkValues(likelihoods: (Int) -> ModelConfig.Likelihood, categories: Int = 0) throws {
        var seen: [ObjectIdentifier] = []
        for subset in [train, validation, test] {
            let dataset = subset.dataset
            guard !seen.contains(ObjectIdentifier(dataset)) else { continue }
            seen.append(ObjectIdentifier(dataset))
            try Self.check(dataset, likelihoods: likelihoods, categories: categories)
        }
    }

    static func check(_ dataset: MultiViewDataset, likelihoods: (Int) -> ModelConfig.Likelihood, categories: Int = 0) throws {
        for k in 0..<dataset.viewCount {
            // Computed views (PolyFashion) are finite and in [0, 1] by construction: reading all of them
            // would cost as much as computing the whole data set.
            if case .generated = dataset.views[k] { continue }
            let cols = dataset.views[k].cols, categorical = likelihoods(k) == .categorical
            let bernoulli = likelihoods(k) == .bernoulli || categorical
            // Sparse views: the stored values are all there is to check (the rest are zeros).
            let counts = likelihoods(k).isCount ? likelihoods(k) : nil
            if case .sparse(let sparse) = dataset.views[k], !categorical {
                try check(sparse, bernoulli: bernoulli, name: dataset.names[k])
                if let counts {
                    try checkCounts(sparse.values, kind: counts, name: dataset.names[k], origin: sparse.origin) { q in
                        (sparse.indptr.lastIndex { $0 <= q } ?? 0, Int(sparse.indices[q]))
                    }
                }
                continue
            }
            // Chunks of at most 16 M values: wide views (30 000 genes) would otherwise need GBs.
            let chunk = Swift.max(1, Swift.min(4096, (1 << 24) / Swift.max(cols, 1)))
            let classes = categories > 0 ? categories : cols
            if categorical && cols % classes != 0 {
                throw DataError.badValue(
                    view: dataset.names[k], source: dataset.views[k].origin, row: 0, column: cols - 1, value: Float(cols),
                    reason: "the view's \(cols) columns are not whole tokens of model.categories \(classes) classes")
            }
            var buffer = [Float](repeating: 0, count: chunk * cols)
            var start = 0
            while start < dataset.count {
                let n = Swift.min(chunk, dataset.count - start)
                try buffer.withUnsafeMutableBufferPointer { out in
                    dataset.gather(view: k, rows: Array(start..<(start + n)), into: out.baseAddress!)
                    // The scan in C (fast in debug builds too); the message is built for the first bad value only.
                    let bad = mvvae_first_bad_value(out.baseAddress!, n * cols, bernoulli ? 1 : 0)
                    for i in (bad < 0 ? 0..<0 : bad..<(bad + 1)) {
                        let v = out[i]
                        let row = start + i / cols, col = i % cols
                        if !v.isFinite {
                            throw DataError.badValue(
                                view: dataset.names[k], source: dataset.views[k].origin, row: row, column: col, value: v,
                                reason: "not finite; mark the row's view missing in data.mask instead")
                        }
                        if bernoulli && !(0...1).contains(v) {
                            throw DataError.badValue(
                                view: dataset.names[k], source: dataset.views[k].origin, row: row, column: col, value: v,
                                reason:
                                    "outside [0, 1], which the Bernoulli likelihood needs: scale the view to [0, 1], set "
                                    + "data.binarize, or choose model.likelihood gaussian"
                            )
                        }
                    }
                    if let counts {
                        try Self.checkCounts(
                            UnsafeBufferPointer(start: out.baseAddress, count: n * cols), kind: counts, name: dataset.names[k],
                            origin: dataset.views[k].origin
                        ) { q in (start + q / cols, q % cols) }
                    }
                    if categorical {
                        try Self.checkOneHot(out.baseAddress!, rows: n, cols: cols, classes: classes, firstRow: start, k, dataset)
                    }
                }
                start += n
            }
        }
    }

    /// Count likelihoods take non-negative integers; `place(q)` gives the row and column of value q.
    static func checkCounts<C: Collection>(
        _ values: C, kind: ModelConfig.Likelihood, name: String, origin: String, place: (Int) -> (Int, Int)
    ) throws where C.Element == Float, C.Index == Int {
        guard let q = values.firstIndex(where: { !($0 >= 0 && $0 == $0.rounded()) }) else { return }
        let (row, column) = place(q - values.startIndex)
        throw DataError.badValue(
            view: name, source: origin, row: row, column: column, value: values[q],
            reason:
                "not a count (a non-negative integer), which the \(kind.rawValue) likelihood needs: give the raw counts (a layer such as "
                + "layers/counts), or choose model.likelihood gaussian for normalised values")
    }

    static func check(_ s: SparseRows, bernoulli: Bool, name: String) throws {
        let bad = s.values.withUnsafeBufferPointer { mvvae_first_bad_value($0.baseAddress, $0.count, bernoulli ? 1 : 0) }
        guard bad >= 0 else { return }
        let v = s.values[bad], row = s.indptr.lastIndex { $0 <= bad } ?? 0
        throw DataError.badValue(
            view: name, source: s.origin, row: row, column: Int(s.indices[bad]), value: v,
            reason: v.isFinite
                ? "outside [0, 1], which the Bernoulli likelihood needs: choose model.likelihood gaussian (or a count likelihood)"
                : "not finite")
    }

    /// Each token's `classes` values of a categorical view sum to 1 (a one-hot row, or class probabilities).
    static func checkOneHot(
        _ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, classes: Int, firstRow: Int, _ k: Int, _ dataset: MultiViewDataset
    ) throws {
        for r in 0..<rows {
            for start in stride(from: 0, to: cols, by: classes) {
                var total: Float = 0
                for j in start..<(start + classes) { total += x[r * cols + j] }
                if abs(total - 1) > 1e-3 {
                    throw DataError.badValue(
                        view: dataset.names[k], source: dataset.views[k].origin, row: firstRow + r, column: start, value: total,
                        reason:
                            "a categorical token's \(classes) values (columns \(start)…\(start + classes - 1)) sum to \(total), not 1: "
                            + "give one-hot rows (or class probabilities), or set model.categories to the classes per token")
                }
            }
        }
    }
}
