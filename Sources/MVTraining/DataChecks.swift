import CKernels
import MVData
import MVConfig
import MVIO

/// Checks of the values a model will read, done once before training or evaluating: every observed
/// value finite, and in [0, 1] for views scored with the Bernoulli likelihood. One pass over each data
/// set (rows of missing views are never read, as in training).
extension ExperimentData {
    public func checkValues(likelihoods: (Int) -> ModelConfig.Likelihood) throws {
        var seen: [ObjectIdentifier] = []
        for subset in [train, validation, test] {
            let dataset = subset.dataset
            guard !seen.contains(ObjectIdentifier(dataset)) else { continue }
            seen.append(ObjectIdentifier(dataset))
            try Self.check(dataset, likelihoods: likelihoods)
        }
    }

    static func check(_ dataset: MultiViewDataset, likelihoods: (Int) -> ModelConfig.Likelihood) throws {
        let chunk = 4096
        for k in 0..<dataset.viewCount {
            let cols = dataset.views[k].cols, bernoulli = likelihoods(k) == .bernoulli
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
                }
                start += n
            }
        }
    }
}
