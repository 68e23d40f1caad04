import Foundation
import MVCore
import MVData
import MVModels

/// `mvvae evaluate` for CoVAE with K > 2 modalities (the pair statistics of `GenerationStatistics` need
/// two), on the test rows with every modality observed:
/// - the prior's correlations between each pair of modalities (mean singular value of Σ_prior's block);
/// - for each modality m, imputed from all the others (z_{−m} from their unimodal encoders, z_m from the
///   prior conditional): the per-feature standard deviation of `samples` decoded draws and the
///   predictive −log p(x_m | x_{−m}) under their mixture, next to the training-mean and ridge baselines.
public struct CoVAESubsetEvaluation {
    public struct Held: Codable, Equatable {
        public var modality: Int
        public var standardDeviation: Double
        public var predictiveNLL: Double
        public var predictiveNLLTrainingMean: Double
        /// The linear yardstick: ridge regression of the view on all the others (nil under 2 training rows).
        public var predictiveNLLRidge: Double?
    }

    public struct Report: Codable, Equatable {
        public var testRows: Int
        public var samples: Int
        /// Row i, column j: the mean canonical correlation of the prior between modalities i and j (1 on the diagonal).
        public var priorCorrelations: [[Double]]
        public var leaveOneOut: [Held]
    }

    public let model: CoVAE
    public let seed: UInt64
    public let samples: Int
    public let chunk: Int

    public init(model: CoVAE, seed: UInt64, samples: Int, chunk: Int = 500) {
        precondition(samples >= 1 && chunk >= 1)
        self.model = model
        self.seed = seed
        self.samples = samples
        self.chunk = chunk
    }

    public func run(train allTrain: DataSubset, test allTest: DataSubset) throws -> Report {
        let k = model.modalities, sizes = model.latents, offsets = model.offsets
        func complete(_ s: DataSubset) -> DataSubset {
            guard let mask = s.dataset.mask else { return s }
            return DataSubset(
                dataset: s.dataset, indices: s.indices.filter { r in (0..<k).allSatisfy { mask.isObserved(row: r, view: $0) } })
        }
        let test = complete(allTest), train = complete(allTrain)
        let n = test.count
        guard n >= 1, train.count >= 1 else {
            throw GenerationStatistics.Failure(
                description: "CoVAE evaluation needs test and training rows with every modality observed; there are \(n) and \(train.count)"
            )
        }
        let sigma = try model.priorCovarianceValue()
        let correlations = try (0..<k).map { i in
            try (0..<k).map { j -> Double in
                if i == j { return 1 }
                let (di, dj) = (sizes[i], sizes[j])
                let s = try DoubleMatrix(rows: di, cols: dj, (0..<(di * dj)).map { sigma[offsets[i] + $0 / dj, offsets[j] + $0 % dj] })
                    .singularValueDecomposition().s
                return s.reduce(0, +) / Double(s.count)
            }
        }
        let x = (0..<k).map { test.matrix(view: $0) }
        var spread = [Double](repeating: 0, count: k), nll = spread
        var start = 0
        while start < n {
            let rows = start..<Swift.min(start + chunk, n)
            for m in 0..<k {
                var observed: [Int: Matrix] = [:]
                for j in 0..<k where j != m { observed[j] = x[j].rows(rows) }
                let r = try CoVAEInference(model: model, seed: seed).impute(
                    observed: observed, samples: samples, truth: [m: x[m].rows(rows)], firstRow: start)[0]
                spread[m] += r.deviation.storage.reduce(0.0) { $0 + Double($1) }
                nll[m] += r.predictiveNLL!.reduce(0, +)
            }
            start = rows.upperBound
        }
        let trainViews = (0..<k).map { train.matrix(view: $0) }
        let held = (0..<k).map { m in
            let others = (0..<k).filter { $0 != m }
            let ridge = try? RidgeBaseline(x: .sideBySide(others.map { trainViews[$0] }), y: trainViews[m])
            return Held(
                modality: m + 1, standardDeviation: spread[m] / Double(n * model.viewDimensions[m]), predictiveNLL: nll[m] / Double(n),
                predictiveNLLTrainingMean: trainingMeanBaseline(
                    kind: model.likelihoods[m].kind, classes: model.likelihoods[m].classes, train: trainViews[m], truth: x[m]
                ).reduce(
                    0, +) / Double(n),
                predictiveNLLRidge: ridge.map {
                    $0.negativeLogLikelihood(
                        .sideBySide(others.map { x[$0] }), truth: x[m], kind: model.likelihoods[m].kind,
                        classes: model.likelihoods[m].classes
                    ).reduce(0, +)
                        / Double(n)
                })
        }
        return Report(testRows: n, samples: samples, priorCorrelations: correlations, leaveOneOut: held)
    }

    public static func markdown(_ r: Report, title: String) -> String {
        let k = r.priorCorrelations.count
        var out = "\n### \(title) (\(r.testRows) test rows with every view, \(r.samples) draws)\n\n"
        out +=
            "prior correlations between views (mean singular value of each cross block):\n\n| | "
            + (1...k).map { "view \($0)" }.joined(separator: " | ") + " |\n"
        out += "|---|" + String(repeating: "---|", count: k) + "\n"
        for (i, row) in r.priorCorrelations.enumerated() {
            out += "| view \(i + 1) | " + row.map { String(format: "%.3f", $0) }.joined(separator: " | ") + " |\n"
        }
        out +=
            "\n| view imputed from all the others | std of the decoded draws | −log p, mixture of draws | −log p, training mean | "
            + "−log p, ridge on the others |\n|---|---|---|---|---|\n"
        for h in r.leaveOneOut {
            out += String(
                format: "| view %d | %.4f | %.2f | %.2f | %@ |\n", h.modality, h.standardDeviation, h.predictiveNLL,
                h.predictiveNLLTrainingMean,
                h.predictiveNLLRidge.map { String(format: "%.2f", $0) } ?? "–")
        }
        return out
    }
}
