import Foundation
import MVCore
import MVConfig
import MVData
import MVModels

/// The evaluation of JPVAE's paper (Tables 1–3, Fig. 4) for a trained model:
/// reconstruction and imputation cross-entropy per view, active units, latent cross-correlation,
/// and downstream classification accuracy on reconstructed and imputed views.
public struct JPVAEEvaluation {
    public struct Report: Codable, Equatable {
        /// Table 1: mean −log p(x_k | z_k) over the test split, z_k one posterior draw.
        public var reconstruction: [Double]
        /// Table 1: mean −log p of the true view under its imputation, x̃_{1|2} and x̃_{2|1} (index = imputed
        /// view): the cross-entropy for Bernoulli views, the view's own likelihood otherwise.
        public var imputation: [Double]
        /// The same for the baseline that imputes every row with the training mean of the missing view.
        public var imputationTrainingMean: [Double]
        /// The linear yardstick on the same rows: ridge regression from the other view (`RidgeBaseline`).
        public var imputationRidge: [Double]?
        /// −log p(x_target) under the mixture of `evaluation.samples` decoded draws of the conditional.
        public var imputationPredictive: [Double]?
        public var imputationMethod: String
        /// priorSamples: mean per-pixel standard deviation of the imputed view across draws.
        public var imputationSpread: [Double]?
        /// Table 2: share (%) of the latent units with Var_x(E_q[u]) ≥ threshold, over the training split.
        public var activeUnits: Double
        public var activeUnitsPerView: [Int]
        public var activeUnitThreshold: Float
        /// Fig. 4: correlation of encoder means, view 1 unit (rows) × view 2 unit (columns), on the test split.
        public var crossCorrelation: [[Double]]
        public var crossCorrelationFrobenius: Double
        /// Table 3: accuracy (%) keyed "(train data, test data)", e.g. "(X̃1, X̃1|2)"; nil without labels.
        public var classification: [String: Double]?
        /// Per classifier: epochs run, the best one kept, its train and held-out accuracy (fractions).
        public var classifierFits: [String: Classifier.Fit]?
        public var testRows: Int
        public var trainRows: Int
    }

    public let inference: JPVAEInference
    public let config: EvaluationConfig

    public init(model: JPVAE, seed: UInt64, config: EvaluationConfig) {
        inference = JPVAEInference(model: model, seed: seed)
        self.config = config
    }

    /// Imputes view `target` from view `given` for the rows of `x` (the observed view's data).
    /// `mean`: the expected missing view (probabilities for Bernoulli views); `spread`: its per-feature
    /// standard deviation across draws (priorSamples only); `latent`: the conditional mean of z_target.
    public func impute(target: Int, given: Int, observed x: Matrix, conditional: LatentConditional)
        throws -> (mean: Matrix, spread: Matrix?, latent: Matrix)
    {
        let q = inference.encode(view: given, x)
        let a = inference.sample(mean: q.mean, logVar: q.logVar, view: given)  // one draw z_j = a per row, as in the paper
        switch config.imputation {
        case .empirical, .priorMean:
            let z = try conditional.conditionalMean(target: target, given: given, values: a)
            return (inference.decodeMean(view: target, z), nil, z)
        case .priorSamples:
            let (w, cov) = try conditional.regression(target: target, given: given)
            let l = try cov.cholesky()
            let zMean = a * w
            var sum = Matrix(rows: x.rows, cols: inference.model.views[target].inputs), sumSq = sum
            for s in 0..<config.samples {
                var z = zMean
                for r in 0..<z.rows {
                    var rng = RandomStream(seed: inference.seed, stream: RandomPurpose.evaluation.stream(epoch: 1 + s, index: r))
                    let e = (0..<z.cols).map { _ in rng.nextNormal() }
                    for c in 0..<z.cols { for k in 0...c { z[r, c] += l[c, k] * e[k] } }
                }
                let p = inference.decodeMean(view: target, z)
                for i in 0..<p.storage.count { sum.storage[i] += p.storage[i]; sumSq.storage[i] += p.storage[i] * p.storage[i] }
            }
            let n = Float(config.samples)
            var sd = sum
            for i in 0..<sum.storage.count {
                sum.storage[i] /= n
                sd.storage[i] = Swift.max(0, sumSq.storage[i] / n - sum.storage[i] * sum.storage[i]).squareRoot()
            }
            return (sum, sd, zMean)
        }
    }

    /// −log p(truth) under the imputation, per row: the Bernoulli cross-entropy of the imputed
    /// probabilities, or the view's own likelihood at the conditional latent mean for real-valued views.
    public func imputationScore(target: Int, imputed: (mean: Matrix, spread: Matrix?, latent: Matrix), truth: Matrix) -> [Double] {
        if inference.model.views[target].likelihood.kind == .bernoulli {
            return JPVAEInference.crossEntropy(probabilities: imputed.mean, data: truth)
        }
        return inference.negativeLogLikelihood(view: target, z: imputed.latent, x: truth)
    }

    /// The same score for the baseline that imputes the training split's mean (`trainingMeanBaseline`).
    func trainingMeanScore(target: Int, train: Matrix, truth: Matrix) -> [Double] {
        let likelihood = inference.model.views[target].likelihood
        return trainingMeanBaseline(kind: likelihood.kind, classes: likelihood.classes, train: train, truth: truth)
    }

    /// The conditional used for imputation: Eq. 12 fitted on the training split, or the learnt prior's.
    ///
    /// The empirical joint is fitted on one posterior draw z = μ + σε per training row (the aggregate
    /// posterior), because the observed view enters the conditional as such a draw. Fitted on encoder
    /// means instead, a collapsed unit (μ ≈ 0 for every row, σ ≈ 1) has near-zero variance in Σ_jj while
    /// its draws are O(1), and Σ_ij Σ_jj⁻¹ (a − μ_j) explodes.
    public func conditional(trainPosteriors q: [(mean: Matrix, logVar: Matrix)]) throws -> LatentConditional {
        switch config.imputation {
        case .empirical:
            let z = (0..<2).map { inference.sample(mean: q[$0].mean, logVar: q[$0].logVar, view: $0) }
            return LatentConditional(fitting: z[0], z[1])
        case .priorMean, .priorSamples:
            return LatentConditional(prior: try inference.model.prior.value(arena: inference.model.arena))
        }
    }

    /// Evaluates on `test`, fitting statistics (and classifiers when `classify` and labels exist) on `train`.
    public func run(
        train allTrain: DataSubset, test allTest: DataSubset, classify: Bool = true,
        progress: (String) -> Void = { _ in }
    ) throws -> Report {
        // Every metric compares views with each other: only rows where both views are observed count.
        func complete(_ s: DataSubset) -> DataSubset {
            DataSubset(
                dataset: s.dataset,
                indices: s.indices.filter { s.dataset.isObserved(row: $0, view: 0) && s.dataset.isObserved(row: $0, view: 1) })
        }
        let train = complete(allTrain), test = complete(allTest)
        guard train.count > 1, test.count > 0 else {
            throw TrainingError.checkpointMismatch(
                "evaluation needs rows with both views observed (train \(train.count), test \(test.count))")
        }
        let trainX = [train.matrix(view: 0), train.matrix(view: 1)]
        let testX = [test.matrix(view: 0), test.matrix(view: 1)]
        progress("encoding \(train.count) training and \(test.count) test rows")
        let trainQ = (0..<2).map { inference.encode(view: $0, trainX[$0]) }
        let testQ = (0..<2).map { inference.encode(view: $0, testX[$0]) }

        // Table 1: reconstruction from one posterior draw; imputation through the conditional.
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(Swift.max(v.count, 1)) }
        var reconstruction: [Double] = [], reconstructed: [[Matrix]] = [[], []]
        for k in 0..<2 {
            let z = inference.sample(mean: testQ[k].mean, logVar: testQ[k].logVar, view: k)
            reconstruction.append(mean(inference.negativeLogLikelihood(view: k, z: z, x: testX[k])))
        }
        let cond = try conditional(trainPosteriors: trainQ)
        var imputation: [Double] = [], baseline: [Double] = [], spread: [Double] = []
        var ridge: [Double?] = [], predictive: [Double] = []
        var imputedTest: [Matrix] = []
        for target in 0..<2 {
            let given = 1 - target
            progress("imputing view \(target + 1) from view \(given + 1)")
            let imputed = try impute(target: target, given: given, observed: testX[given], conditional: cond)
            imputation.append(mean(imputationScore(target: target, imputed: imputed, truth: testX[target])))
            if let sd = imputed.spread { spread.append(Double(sd.storage.reduce(0, +)) / Double(Swift.max(sd.count, 1))) }
            imputedTest.append(imputed.mean)
            baseline.append(mean(trainingMeanScore(target: target, train: trainX[target], truth: testX[target])))
            let likelihood = inference.model.views[target].likelihood
            ridge.append(
                try? mean(
                    RidgeBaseline(x: trainX[given], y: trainX[target]).negativeLogLikelihood(
                        testX[given], truth: testX[target], kind: likelihood.kind, classes: likelihood.classes)
                ))
            // The predictive score: the truth under the mixture of `samples` decoded draws of the conditional.
            let draws = try JPVAEImputer(model: inference.model, conditional: cond)
                .impute(observed: [given: testX[given]], samples: config.samples, seed: inference.seed, truth: [target: testX[target]])
            predictive.append(mean(draws[0].predictiveNLL!))
        }

        // Table 2: active units over the training split.
        var active: [Int] = []
        for k in 0..<2 {
            let v = columnVariances(trainQ[k].mean)
            active.append(v.filter { $0 >= config.activeUnitThreshold }.count)
        }
        let totalUnits = trainQ[0].mean.cols + trainQ[1].mean.cols

        // Fig. 4: empirical cross-correlation of the test encoder means.
        let corr = crossCorrelation(testQ[0].mean, testQ[1].mean)
        let frob = corr.flatMap { $0 }.reduce(0) { $0 + $1 * $1 }.squareRoot()

        // Table 3: classifiers trained and tested on reconstructed and imputed views.
        var classification: [String: Double]?
        var classifierFits: [String: Classifier.Fit]?
        if classify, let rawTrain = train.labels, let rawTest = test.labels {
            // Dense class indices 0..<K, whatever integers the label file used.
            let classes = Array(Set(rawTrain + rawTest)).sorted()
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Int32($0)) })
            let trainLabels = rawTrain.map { index[$0]! }, testLabels = rawTest.map { index[$0]! }
            progress("classification: reconstructing and imputing the training split")
            for k in 0..<2 {
                reconstructed[k] = [trainX, testX].enumerated().map { part, xs in
                    let q = part == 0 ? trainQ[k] : testQ[k]
                    return inference.decodeMean(view: k, inference.sample(mean: q.mean, logVar: q.logVar, view: k))
                }
            }
            let imputedTrain = try (0..<2).map { try impute(target: $0, given: 1 - $0, observed: trainX[1 - $0], conditional: cond).mean }
            var acc: [String: Double] = [:]
            var fits: [String: Classifier.Fit] = [:]
            func score(_ name: String, _ a: Matrix, _ b: Matrix) {
                progress("classifier \(name)")
                let clf = Classifier(
                    inputs: a.cols, hidden: config.classifierHidden, classes: classes.count,
                    seed: inference.seed &+ 99)
                let fit = clf.fit(
                    a, labels: trainLabels, maxEpochs: config.classifierEpochs, patience: config.classifierPatience,
                    learningRate: config.classifierLearningRate, seed: inference.seed &+ 98)
                acc[name] = 100 * clf.accuracy(b, labels: testLabels)
                fits[name] = fit
            }
            for k in 0..<2 {
                let v = "\(k + 1)", other = "\(2 - k)"
                score("(X\(v), X\(v))", trainX[k], testX[k])
                score("(X̃\(v), X̃\(v))", reconstructed[k][0], reconstructed[k][1])
                score("(X̃\(v), X̃\(v)|\(other))", reconstructed[k][0], imputedTest[k])
                score("(X̃\(v)|\(other), X̃\(v)|\(other))", imputedTrain[k], imputedTest[k])
            }
            classification = acc
            classifierFits = fits
        }
        return Report(
            reconstruction: reconstruction, imputation: imputation, imputationTrainingMean: baseline,
            imputationRidge: ridge.contains(where: { $0 == nil }) ? nil : ridge.map { $0! }, imputationPredictive: predictive,
            imputationMethod: config.imputation.rawValue, imputationSpread: spread.isEmpty ? nil : spread,
            activeUnits: 100 * Double(active.reduce(0, +)) / Double(totalUnits), activeUnitsPerView: active,
            activeUnitThreshold: config.activeUnitThreshold, crossCorrelation: corr, crossCorrelationFrobenius: frob,
            classification: classification, classifierFits: classifierFits, testRows: test.count, trainRows: train.count)
    }
}

func columnMeans(_ m: Matrix) -> [Float] {
    var s = [Double](repeating: 0, count: m.cols)
    for r in 0..<m.rows { for c in 0..<m.cols { s[c] += Double(m[r, c]) } }
    return s.map { Float($0 / Double(Swift.max(m.rows, 1))) }
}

/// Population variance of each column.
func columnVariances(_ m: Matrix) -> [Float] {
    let mu = columnMeans(m)
    var s = [Double](repeating: 0, count: m.cols)
    for r in 0..<m.rows { for c in 0..<m.cols { let d = Double(m[r, c] - mu[c]); s[c] += d * d } }
    return s.map { Float($0 / Double(Swift.max(m.rows, 1))) }
}

/// Pearson correlation of every column of a with every column of b (a.cols × b.cols).
func crossCorrelation(_ a: Matrix, _ b: Matrix) -> [[Double]] {
    let ma = columnMeans(a), mb = columnMeans(b)
    let va = columnVariances(a), vb = columnVariances(b)
    var out = [[Double]](repeating: [Double](repeating: 0, count: b.cols), count: a.cols)
    for i in 0..<a.cols {
        for j in 0..<b.cols {
            var s = 0.0
            for r in 0..<a.rows { s += Double(a[r, i] - ma[i]) * Double(b[r, j] - mb[j]) }
            let denom = (Double(va[i]) * Double(vb[j])).squareRoot() * Double(a.rows)
            out[i][j] = denom > 0 ? s / denom : 0
        }
    }
    return out
}

/// −log p(truth) per row under the baseline that imputes the training split's mean: Bernoulli
/// cross-entropy of the per-feature training means, or, for real-valued views, a Gaussian with the
/// per-feature training mean and variance; count views, a Poisson with the training split's proportions.
func trainingMeanBaseline(kind: ModelConfig.Likelihood, classes: Int = 0, train: Matrix, truth: Matrix) -> [Double] {
    let m = columnMeans(train)
    if kind.isCount { return poissonNegativeLogLikelihood(shares: Matrix(rows: 1, cols: m.count, m), truth: truth) }
    if kind == .bernoulli || kind == .categorical {
        // The training split's per-feature means (a categorical view's class frequencies) for every row.
        var p = Matrix(rows: truth.rows, cols: truth.cols)
        for r in 0..<p.rows { for c in 0..<p.cols { p[r, c] = m[c] } }
        return kind == .bernoulli
            ? JPVAEInference.crossEntropy(probabilities: p, data: truth)
            : JPVAEInference.categoricalCrossEntropy(probabilities: p, data: truth, classes: classes)
    }
    let v = columnVariances(train).map { Double(Swift.max($0, 1e-12)) }
    return (0..<truth.rows).map { r in
        (0..<truth.cols).reduce(0.0) { acc, c in
            let d = Double(truth[r, c] - m[c])
            return acc + 0.5 * Foundation.log(2 * Double.pi * v[c]) + d * d / (2 * v[c])
        }
    }
}

extension JPVAEEvaluation {
    /// The report as Markdown tables under `title`.
    public static func markdown(_ r: Report, title: String) -> String {
        var out = "\n### \(title)\n\n"
        out += "| X̃1 recon | X̃2 recon | X̃1\\|2 imputed | X̃2\\|1 imputed | X̃1\\|2 train-mean | X̃2\\|1 train-mean | AU % | ‖corr‖_F |\n"
        out += "|---|---|---|---|---|---|---|---|\n"
        out += String(
            format: "| %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.1f | %.3f |\n", r.reconstruction[0], r.reconstruction[1],
            r.imputation[0], r.imputation[1], r.imputationTrainingMean[0], r.imputationTrainingMean[1],
            r.activeUnits, r.crossCorrelationFrobenius)
        if let ridge = r.imputationRidge, let predictive = r.imputationPredictive {
            out += "\n| −log p of the missing view, per row | X1\\|2 | X2\\|1 |\n|---|---|---|\n"
            out += String(format: "| the model, point estimate (as above) | %.2f | %.2f |\n", r.imputation[0], r.imputation[1])
            out += String(
                format: "| the model, mixture of decoded draws (evaluation.samples) | %.2f | %.2f |\n", predictive[0], predictive[1])
            out += String(format: "| ridge regression on the other view | %.2f | %.2f |\n", ridge[0], ridge[1])
            out += String(format: "| training mean | %.2f | %.2f |\n", r.imputationTrainingMean[0], r.imputationTrainingMean[1])
        }
        if let c = r.classification {
            out += "\n| classifier (train, test) | test accuracy % | train % | held-out % | epochs (best) |\n|---|---|---|---|---|\n"
            for k in c.keys.sorted() {
                let name = k.replacingOccurrences(of: "|", with: "\\|")
                if let fit = r.classifierFits?[k] {
                    out += String(
                        format: "| %@ | %.2f | %.2f | %.2f | %d (%d) |\n", name, c[k]!, 100 * fit.trainAccuracy,
                        100 * fit.validationAccuracy, fit.epochs, fit.bestEpoch)
                } else {
                    out += String(format: "| %@ | %.2f | – | – | – |\n", name, c[k]!)
                }
            }
        }
        return out
    }
}
