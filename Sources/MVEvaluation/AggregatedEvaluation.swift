import Foundation
import MVCore
import MVConfig
import MVData
import MVModels

/// The evaluation of any trained aggregated model on its test rows (the aggregation paper's App. I),
/// using only the modalities each row observes (M):
/// - log p(x_M), importance-sampled with the proposal q(z | x_M);
/// - per modality s, log p(x_s | x_{M∖s}) = log p(x_M) − log p(x_{M∖s}), each term with its own
///   proposal, on rows observing s and at least one other modality;
/// - cross-reconstruction of s from z ~ q(z | x_{M∖s}) and full reconstruction from q(z | x_M):
///   mean squared error per feature of the decoder mean, and the expected −log p(x_s | z);
/// - with simulated missingness (`data.missingRate`), the same scores for the dropped views against
///   their hidden values;
/// - with labels, the accuracy of a linear (logistic-regression) classifier fitted on the posterior
///   means of q(z | x_M) of the training rows.
/// Rows go through in chunks, and every draw is keyed by the row's index, so the numbers do not
/// depend on chunking.
public struct AggregatedEvaluation {
    /// Reconstruction scores of one modality: means over `rows` rows (nil when there are none).
    public struct Reconstruction: Codable, Equatable {
        public var modality: String
        public var rows: Int
        /// Mean over features of (E[x_s | z] − x_s)², averaged over the draws of z.
        public var mse: Double?
        /// E_z[−log p(x_s | z)] summed over the modality's features.
        public var nll: Double?
    }

    /// log p(x_s | x_{M∖s}) and the cross-reconstruction of s from the other observed modalities.
    public struct Conditional: Codable, Equatable {
        public var modality: String
        public var rows: Int
        public var logLikelihood: Double?
        /// The same divided by the modality's feature count.
        public var logLikelihoodPerFeature: Double?
        public var crossReconstruction: Reconstruction
    }

    public struct Report: Codable, Equatable {
        public var modalities: [String]
        public var testRows: Int
        public var importanceSamples: Int
        /// Mean over test rows of log p(x_M) (M = the row's observed modalities).
        public var logLikelihood: Double
        /// Σ_rows log p(x_M) / Σ_rows (features observed).
        public var logLikelihoodPerFeature: Double
        /// Mean over test rows of KL(q(z | x_M) ‖ p(z)), by Monte Carlo on the same draws.
        public var fullRate: Double
        public var conditional: [Conditional]
        public var fullReconstruction: [Reconstruction]
        /// Dropped views (data.missingRate) imputed from q(z | x_M), scored against their hidden values.
        public var missingImputation: [Reconstruction]?
        /// Accuracy (%) of the linear classifier on test posterior means; nil without labels.
        public var classificationAccuracy: Double?
        /// Accuracy (%) of always answering the most frequent training class, for comparison.
        public var classificationBaseline: Double?
        public var classifierTrainRows: Int?
        /// Epochs the classifier ran, the best one kept, its train and held-out accuracy (fractions).
        public var classifierFit: Classifier.Fit?
        /// Per modality: ridge regression from the other modalities on complete rows (the linear yardstick).
        public var ridgeCrossReconstruction: [Reconstruction]?
        /// The cross-generation image grid, when one was written (set by the caller).
        public var crossGenerationGrid: String?
    }

    public let model: AggregatedVAE
    public let config: EvaluationConfig
    public let seed: UInt64
    /// Rows per chunk: bounds the memory of the encoders and of the draws × rows decoder passes.
    public var chunkRows = 128

    public init(model: AggregatedVAE, config: EvaluationConfig, seed: UInt64) {
        self.model = model
        self.config = config
        self.seed = seed
    }

    /// Evaluates the test rows; `unmaskedTest` (the same rows without simulated drops) enables the
    /// scores of dropped views; `train` is used only for the classifier.
    public func run(
        train: DataSubset, test: DataSubset, unmaskedTest: DataSubset? = nil, classify: Bool = true,
        progress: (String) -> Void = { _ in }
    ) throws -> Report {
        let k = model.viewDimensions.count
        guard test.count > 0 else { throw Failure.noTestRows }
        guard test.dataset.dimensions == model.viewDimensions else {
            throw Failure.dimensionMismatch(data: test.dataset.dimensions, model: model.viewDimensions)
        }
        let sampler = ImportanceSampler(model: model, draws: config.importanceSamples, seed: seed)
        let tape = Tape()
        var logM = 0.0, observedFeatures = 0, rate = 0.0
        var conditional = [RowScores](repeating: RowScores(), count: k), cross = conditional, full = conditional, missing = conditional
        var start = 0
        while start < test.count {
            let positions = Array(start..<Swift.min(test.count, start + chunkRows))
            if start % (16 * chunkRows) == 0 { progress("importance sampling test rows \(start + 1)… of \(test.count)") }
            let chunk = EvaluationRows(test, positions: positions, truth: unmaskedTest)
            let all = sampler.estimate(x: chunk.x, subset: chunk.observed, targets: chunk.truth, indices: chunk.indices, tape: tape)
            for r in 0..<chunk.rows {
                logM += all.logMarginal[r]
                rate += all.rate[r]
                for s in 0..<k {
                    if chunk.observed[r, s] != 0 {
                        observedFeatures += model.viewDimensions[s]
                        full[s].add(mse: all.mse[s][r], nll: all.nll[s][r])
                    } else if chunk.truthKnown(r, s) {
                        missing[s].add(mse: all.mse[s][r], nll: all.nll[s][r])
                    }
                }
            }
            // Leave-one-out: rows observing s and something else, with s removed from the subset.
            for s in 0..<k {
                let eligible = (0..<chunk.rows).filter { r in
                    chunk.observed[r, s] != 0 && (0..<k).contains { $0 != s && chunk.observed[r, $0] != 0 }
                }
                guard !eligible.isEmpty else { continue }
                let part = chunk.selecting(eligible)
                var rest = part.observed
                for r in 0..<rest.rows { rest[r, s] = 0 }
                let e = sampler.estimate(x: part.x, subset: rest, targets: part.truth, indices: part.indices, tape: tape)
                for (i, r) in eligible.enumerated() {
                    conditional[s].add(value: all.logMarginal[r] - e.logMarginal[i])
                    cross[s].add(mse: e.mse[s][i], nll: e.nll[s][i])
                }
            }
            start += chunkRows
        }
        let names = test.dataset.names
        var report = Report(
            modalities: names, testRows: test.count, importanceSamples: config.importanceSamples,
            logLikelihood: logM / Double(test.count), logLikelihoodPerFeature: logM / Double(Swift.max(observedFeatures, 1)),
            fullRate: rate / Double(test.count),
            conditional: (0..<k).map { s in
                Conditional(
                    modality: names[s], rows: conditional[s].rows, logLikelihood: conditional[s].meanValue,
                    logLikelihoodPerFeature: conditional[s].meanValue.map { $0 / Double(model.viewDimensions[s]) },
                    crossReconstruction: cross[s].reconstruction(names[s]))
            },
            fullReconstruction: (0..<k).map { full[$0].reconstruction(names[$0]) },
            missingImputation: unmaskedTest == nil ? nil : (0..<k).map { missing[$0].reconstruction(names[$0]) })
        if config.ridge {
            let widest = model.viewDimensions.reduce(0, +) - (model.viewDimensions.min() ?? 0)
            progress("ridge yardstick: \(k) regressions on up to \(widest) predictors (evaluation.ridge: false skips it)")
            report.ridgeCrossReconstruction = ridgeCrossReconstruction(train: train, test: test)
        }
        if classify, let trainLabels = train.labels, let testLabels = test.labels, train.count > 0 {
            progress("linear classifier on posterior means of \(train.count) training rows")
            let result = classification(train: train, trainLabels: trainLabels, test: test, testLabels: testLabels, tape: tape)
            report.classificationAccuracy = result.accuracy
            report.classificationBaseline = result.baseline
            report.classifierTrainRows = train.count
            report.classifierFit = result.fit
        }
        return report
    }

    /// The linear yardstick of the cross-reconstructions: per modality s, ridge regression from the other
    /// modalities side by side (`RidgeBaseline`), fitted on the training rows observing every modality and
    /// scored on such test rows; nil when there are too few of them.
    func ridgeCrossReconstruction(train: DataSubset, test: DataSubset) -> [Reconstruction]? {
        let k = model.viewDimensions.count
        func complete(_ d: DataSubset) -> DataSubset {
            DataSubset(dataset: d.dataset, indices: d.indices.filter { r in (0..<k).allSatisfy { d.dataset.isObserved(row: r, view: $0) } })
        }
        let tr = complete(train), te = complete(test)
        guard tr.count >= 2, te.count >= 1 else { return nil }
        let trainViews = (0..<k).map { tr.matrix(view: $0) }, testViews = (0..<k).map { te.matrix(view: $0) }
        return try? (0..<k).map { s in
            let others = (0..<k).filter { $0 != s }
            let ridge = try RidgeBaseline(x: .sideBySide(others.map { trainViews[$0] }), y: trainViews[s])
            let x = Matrix.sideBySide(others.map { testViews[$0] })
            let nll = ridge.negativeLogLikelihood(
                x, truth: testViews[s], kind: model.likelihoods[s].kind, classes: model.likelihoods[s].classes)
            return Reconstruction(
                modality: te.dataset.names[s], rows: te.count,
                mse: ridge.meanSquaredError(x, truth: testViews[s]), nll: nll.reduce(0, +) / Double(te.count))
        }
    }

    /// Logistic regression (a classifier without hidden layers) from E_q[z | x_M] to the label.
    func classification(train: DataSubset, trainLabels: [Int32], test: DataSubset, testLabels: [Int32], tape: Tape)
        -> (accuracy: Double, baseline: Double, fit: Classifier.Fit)
    {
        let classes = Array(Set(trainLabels + testLabels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
        let yTrain = trainLabels.map { index[$0]! }, yTest = testLabels.map { index[$0]! }
        let clf = Classifier(inputs: model.latent, hidden: [], classes: classes.count, seed: seed &+ 97)
        let fit = clf.fit(
            posteriorMeans(train, tape: tape), labels: yTrain, maxEpochs: config.classifierEpochs, patience: config.classifierPatience,
            learningRate: config.classifierLearningRate, seed: seed &+ 96)
        let accuracy = clf.accuracy(posteriorMeans(test, tape: tape), labels: yTest)
        var counts = [Int](repeating: 0, count: classes.count)
        for y in yTrain { counts[Int(y)] += 1 }
        let majority = Int32(counts.indices.max { counts[$0] < counts[$1] }!)
        let baseline = Double(yTest.filter { $0 == majority }.count) / Double(Swift.max(yTest.count, 1))
        return (100 * accuracy, 100 * baseline, fit)
    }

    /// E_q[z | x_M] for every row of `subset` (rows × latent), in chunks.
    public func posteriorMeans(_ subset: DataSubset, tape: Tape) -> Matrix {
        var out = Matrix(rows: subset.count, cols: model.latent)
        var start = 0
        while start < subset.count {
            let chunk = EvaluationRows(subset, positions: Array(start..<Swift.min(subset.count, start + 1000)), truth: nil)
            tape.reset()
            let h = model.features(chunk.x.map { tape.constant($0) }, tape: tape)
            let q = model.aggregator.distribution(features: h, mask: tape.constant(chunk.observed), tape: tape, arena: model.arena)
            let mean = tape.value(tape.mean(q))
            out.storage.replaceSubrange((start * model.latent)..<((start + chunk.rows) * model.latent), with: mean.storage)
            start += chunk.rows
        }
        return out
    }

    public enum Failure: Error, CustomStringConvertible {
        case noTestRows
        case dimensionMismatch(data: [Int], model: [Int])
        public var description: String {
            switch self {
            case .noTestRows:
                return "the test split is empty; give data.testLimit 0 or a larger test split"
            case let .dimensionMismatch(data, model):
                return "the data's modality sizes \(data) differ from the model's \(model); evaluate with the data the run was trained on"
            }
        }
    }
}

/// A running mean of scores over rows.
struct RowScores {
    var rows = 0
    var value = 0.0, mse = 0.0, nll = 0.0

    mutating func add(value v: Double) { rows += 1; value += v }
    mutating func add(mse m: Double, nll n: Double) { rows += 1; mse += m; nll += n }

    var meanValue: Double? { rows > 0 ? value / Double(rows) : nil }

    func reconstruction(_ name: String) -> AggregatedEvaluation.Reconstruction {
        .init(modality: name, rows: rows, mse: rows > 0 ? mse / Double(rows) : nil, nll: rows > 0 ? nll / Double(rows) : nil)
    }
}

/// Some rows of a subset as matrices: inputs (zeros where missing), the observed mask, and the
/// values decoded modalities are compared with (the hidden truth where known, else the inputs).
struct EvaluationRows {
    var x: [Matrix]
    var truth: [Matrix]
    var observed: Matrix
    /// Whether truth[s] of a row holds real values (observed, or dropped with its value kept).
    var known: Matrix
    var indices: [Int]
    var rows: Int { observed.rows }

    init(_ subset: DataSubset, positions: [Int], truth unmasked: DataSubset?) {
        let k = subset.dataset.viewCount
        let rows = positions.map { subset.indices[$0] }
        indices = rows
        x = (0..<k).map { s in Self.gather(subset.dataset, view: s, rows: rows) }
        observed = Matrix(rows: rows.count, cols: k)
        for (i, r) in rows.enumerated() { for s in 0..<k { observed[i, s] = subset.dataset.isObserved(row: r, view: s) ? 1 : 0 } }
        known = observed
        if let unmasked, unmasked.dataset.viewCount == k {
            let full = positions.map { unmasked.indices[$0] }
            truth = (0..<k).map { s in Self.gather(unmasked.dataset, view: s, rows: full) }
            for (i, r) in full.enumerated() { for s in 0..<k where unmasked.dataset.isObserved(row: r, view: s) { known[i, s] = 1 } }
        } else {
            truth = x
        }
    }

    private init(x: [Matrix], truth: [Matrix], observed: Matrix, known: Matrix, indices: [Int]) {
        self.x = x
        self.truth = truth
        self.observed = observed
        self.known = known
        self.indices = indices
    }

    func truthKnown(_ r: Int, _ s: Int) -> Bool { known[r, s] != 0 }

    /// Rows `picked` (positions in this chunk) only.
    func selecting(_ picked: [Int]) -> EvaluationRows {
        func rows(_ m: Matrix) -> Matrix {
            var out = Matrix(rows: picked.count, cols: m.cols)
            for (i, r) in picked.enumerated() { for c in 0..<m.cols { out[i, c] = m[r, c] } }
            return out
        }
        return EvaluationRows(
            x: x.map(rows), truth: truth.map(rows), observed: rows(observed), known: rows(known), indices: picked.map { indices[$0] })
    }

    static func gather(_ dataset: MultiViewDataset, view s: Int, rows: [Int]) -> Matrix {
        var m = Matrix(rows: rows.count, cols: dataset.dimension(ofView: s))
        m.storage.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            dataset.gather(view: s, rows: rows, into: base)
        }
        return m
    }
}
