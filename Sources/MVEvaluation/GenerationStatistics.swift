import Foundation
import MVCore
import MVData

/// The CoVAE paper's measurements of generated pairs (§3.1, Figs. 5, 6 and 8), the same estimators for
/// every `PairGenerationModel` (CoVAE and the shared-latent aggregated models), on the rows of the
/// evaluated split with both views:
/// - the prior's correlations (singular values of its cross block; none for a shared latent);
/// - the correlation of the modalities at the decoder inputs, as the mean canonical correlation over the
///   rows: for joint generation (one draw from the joint posterior) and for conditional generation given
///   each modality (one draw);
/// - the average per-dimension standard deviation of the decoder inputs of the conditioning modality and
///   of the missing one across `samples` draws of conditional generation (Fig. 6: 1 for a missing
///   modality drawn from a N(0, I) prior), and the same of the decoded features (what an imputation shows);
/// - the conditional −log p(x_missing | x_given) under the mixture of those `samples` decoded
///   distributions (log-mean-exp), next to the training-mean baseline;
/// - the joint −log p(x₁, x₂) by importance sampling (`importanceSamples` draws).
public struct GenerationStatistics {
    public struct Report: Codable, Equatable {
        public var testRows: Int
        public var samples: Int
        /// Empty for a shared latent.
        public var priorCorrelations: [Double]
        public var jointCorrelation: Double
        /// Given modality 1, given modality 2.
        public var conditionalCorrelation: [Double]
        /// Per decoder-input dimension (Fig. 6), given modality 1, given modality 2.
        public var conditioningLatentStandardDeviation: [Double]
        public var missingLatentStandardDeviation: [Double]
        /// Per decoded feature.
        public var conditioningStandardDeviation: [Double]
        public var missingStandardDeviation: [Double]
        /// −log p(x_missing | x_given) per row: the mixture of decoded draws; the training-mean baseline.
        public var predictiveNLL: [Double]
        public var predictiveNLLTrainingMean: [Double]
        /// The linear yardstick on the same rows: ridge regression from the given view (`RidgeBaseline`).
        public var predictiveNLLRidge: [Double]?
        /// −log p(x₁, x₂) per row, and the number of importance samples.
        public var jointNLL: Double
        public var importanceSamples: Int
        /// `correlated` data: the mean canonical correlation of the generating latents (the ground truth).
        public var dataCorrelation: Double?
    }

    public let model: PairGenerationModel
    public let seed: UInt64
    public let samples: Int
    public let importanceSamples: Int
    /// Rows per forward pass.
    public let chunk: Int

    public init(model: PairGenerationModel, seed: UInt64, samples: Int, importanceSamples: Int = 100, chunk: Int = 500) {
        precondition(
            samples >= 1 && importanceSamples >= 1 && chunk >= 1, "generation statistics need samples, importance samples and chunks ≥ 1")
        self.model = model
        self.seed = seed
        self.samples = samples
        self.importanceSamples = importanceSamples
        self.chunk = chunk
    }

    /// Failures a user can cause (too few rows with both views to measure anything, a model that is not a pair).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// On the rows of `test` (and, for the baseline, of `train`) with both views observed.
    public func run(train allTrain: DataSubset, test allTest: DataSubset) throws -> Report {
        func pairs(_ s: DataSubset) -> DataSubset {
            guard let mask = s.dataset.mask else { return s }
            return DataSubset(
                dataset: s.dataset, indices: s.indices.filter { mask.isObserved(row: $0, view: 0) && mask.isObserved(row: $0, view: 1) })
        }
        guard model.viewDimensions.count == 2 else {
            throw Failure(description: "generation statistics need two modalities; the model has \(model.viewDimensions.count)")
        }
        let test = pairs(allTest), train = pairs(allTrain)
        let n = test.count
        guard n >= 2, train.count >= 1 else {
            throw Failure(
                description:
                    "generation statistics need at least 2 test rows and 1 training row with both views observed; there are \(n) "
                    + "and \(train.count)"
            )
        }
        let x = (test.matrix(view: 0), test.matrix(view: 1))
        var joint: (Matrix, Matrix)?
        var conditional: [(Matrix, Matrix)?] = [nil, nil]
        var spread = (conditioning: [0.0, 0.0], missing: [0.0, 0.0]), latentSpread = spread, predictive = [0.0, 0.0], jointNLL = 0.0
        var latentWidths = [0, 0]
        var start = 0
        while start < n {
            let rows = start..<Swift.min(start + chunk, n)
            let xs = (x.0.rows(rows), x.1.rows(rows))
            let noise = EvaluationNoise(seed: seed, indices: Array(rows))
            let tape = Tape()
            let z = try model.jointDecoderInputs(xs, noise: noise, draw: 0, tape: tape)
            append(tape.value(z.0), tape.value(z.1), to: &joint)
            jointNLL += try model.jointNegativeLogLikelihood(xs, draws: importanceSamples, noise: noise).reduce(0, +)
            for k in 0..<2 {
                let draws = try conditionalDraws(given: k, k == 0 ? xs.0 : xs.1, other: k == 0 ? xs.1 : xs.0, noise: noise)
                append(draws.first.given, draws.first.other, to: &conditional[k])
                spread.conditioning[k] += draws.spreadGiven
                spread.missing[k] += draws.spreadOther
                latentSpread.conditioning[k] += draws.latentSpreadGiven
                latentSpread.missing[k] += draws.latentSpreadOther
                latentWidths[k] = draws.first.other.cols
                predictive[k] += draws.predictiveNLL
            }
            start = rows.upperBound
        }
        func meanCanonical(_ a: (Matrix, Matrix)?) throws -> Double {
            let r = try CanonicalCorrelationAnalysis(fitting: a!.0, a!.1).correlations
            return r.reduce(0, +) / Double(r.count)
        }
        let features = model.viewDimensions.map(Double.init)
        let baseline = (0..<2).map { k -> Double in
            let target = 1 - k
            let scores = trainingMeanBaseline(
                kind: model.likelihoods[target].kind, classes: model.likelihoods[target].classes, train: train.matrix(view: target),
                truth: target == 0 ? x.0 : x.1)
            return scores.reduce(0, +) / Double(n)
        }
        let trainX = (train.matrix(view: 0), train.matrix(view: 1))
        let ridge: [Double]? = try? (0..<2).map { k -> Double in  // nil with under 2 training rows
            let target = 1 - k
            let fit = try RidgeBaseline(x: k == 0 ? trainX.0 : trainX.1, y: target == 0 ? trainX.0 : trainX.1)
            return fit.negativeLogLikelihood(
                k == 0 ? x.0 : x.1, truth: target == 0 ? x.0 : x.1, kind: model.likelihoods[target].kind,
                classes: model.likelihoods[target].classes
            )
            .reduce(0, +) / Double(n)
        }
        return Report(
            testRows: n, samples: samples, priorCorrelations: try model.priorCorrelations() ?? [],
            jointCorrelation: try meanCanonical(joint),
            conditionalCorrelation: try conditional.map(meanCanonical),
            conditioningLatentStandardDeviation: (0..<2).map { latentSpread.conditioning[$0] / Double(n * latentWidths[$0]) },
            missingLatentStandardDeviation: (0..<2).map { latentSpread.missing[$0] / Double(n * latentWidths[$0]) },
            conditioningStandardDeviation: (0..<2).map { spread.conditioning[$0] / (Double(n) * features[$0]) },
            missingStandardDeviation: (0..<2).map { spread.missing[$0] / (Double(n) * features[1 - $0]) },
            predictiveNLL: predictive.map { $0 / Double(n) }, predictiveNLLTrainingMean: baseline, predictiveNLLRidge: ridge,
            jointNLL: jointNLL / Double(n), importanceSamples: importanceSamples)
    }

    /// `samples` draws of conditional generation given modality k for a chunk of rows: the first draw's
    /// decoder inputs, the summed per-dimension standard deviations of the given and missing modalities'
    /// decoder inputs and decoded features, and the summed −log of the mixture density of the missing
    /// modality's truth.
    func conditionalDraws(given k: Int, _ observed: Matrix, other truth: Matrix, noise: EvaluationNoise) throws
        -> (
            first: (given: Matrix, other: Matrix), spreadGiven: Double, spreadOther: Double,
            latentSpreadGiven: Double, latentSpreadOther: Double, predictiveNLL: Double
        )
    {
        let rows = observed.rows, target = 1 - k
        var first: (given: Matrix, other: Matrix)?
        var decodedGiven: [Matrix] = [], decodedOther: [Matrix] = [], logDensities: [[Double]] = []
        var latentGiven: [Matrix] = [], latentOther: [Matrix] = []
        for s in 0..<samples {
            let tape = Tape()
            let z = try model.conditionalDecoderInputs(given: k, observed, noise: noise, draw: s, tape: tape)
            latentGiven.append(tape.value(z.given))
            latentOther.append(tape.value(z.other))
            if first == nil { first = (latentGiven[0], latentOther[0]) }
            let outGiven = model.decode(k, z.given, tape: tape), outOther = model.decode(target, z.other, tape: tape)
            decodedGiven.append(tape.value(model.likelihoods[k].mean(output: outGiven, tape: tape)))
            decodedOther.append(tape.value(model.likelihoods[target].mean(output: outOther, tape: tape)))
            let nll = tape.value(
                model.likelihoods[target].negativeLogLikelihood(
                    output: outOther, target: tape.constant(truth), tape: tape, arena: model.arena))
            logDensities.append(nll.storage.map { -Double($0) })
        }
        func summedDeviation(_ draws: [Matrix]) -> Double {
            var total = 0.0
            for i in 0..<draws[0].count {
                var m = 0.0, s2 = 0.0
                for draw in draws { m += Double(draw.storage[i]); s2 += Double(draw.storage[i]) * Double(draw.storage[i]) }
                m /= Double(draws.count)
                total += Swift.max(s2 / Double(draws.count) - m * m, 0).squareRoot()
            }
            return total
        }
        let predictive = (0..<rows).reduce(0.0) { total, r in total + negativeLogMeanExp(logDensities.map { $0[r] }) }
        return (
            first!, summedDeviation(decodedGiven), summedDeviation(decodedOther),
            summedDeviation(latentGiven), summedDeviation(latentOther), predictive
        )
    }

    func append(_ a: Matrix, _ b: Matrix, to pair: inout (Matrix, Matrix)?) {
        guard let p = pair else { pair = (a, b); return }
        pair = (
            Matrix(rows: p.0.rows + a.rows, cols: a.cols, p.0.storage + a.storage),
            Matrix(rows: p.1.rows + b.rows, cols: b.cols, p.1.storage + b.storage)
        )
    }

    /// The report as a Markdown table.
    public static func markdown(_ r: Report, title: String) -> String {
        var out = "\n### \(title) (\(r.testRows) test rows, \(r.samples) draws)\n\n"
        out +=
            r.priorCorrelations.isEmpty
            ? "prior correlations: none (one latent shared by both modalities)\n\n"
            : "prior correlations (singular values of C): " + r.priorCorrelations.map { String(format: "%.3f", $0) }.joined(separator: ", ")
                + "\n\n"
        if let c = r.dataCorrelation {
            out += String(format: "data correlation (mean canonical correlation of the generating latents): %.3f\n\n", c)
        }
        out += "| | joint | given view 1 | given view 2 |\n|---|---|---|---|\n"
        out += String(
            format: "| decoder-input correlation (mean canonical) | %.3f | %.3f | %.3f |\n", r.jointCorrelation,
            r.conditionalCorrelation[0], r.conditionalCorrelation[1])
        out += String(
            format: "| std of the conditioning view's decoder input (per dimension) | | %.4f | %.4f |\n",
            r.conditioningLatentStandardDeviation[0], r.conditioningLatentStandardDeviation[1])
        out += String(
            format: "| std of the missing view's decoder input (per dimension) | | %.4f | %.4f |\n", r.missingLatentStandardDeviation[0],
            r.missingLatentStandardDeviation[1])
        out += String(
            format: "| std of the decoded conditioning view | | %.4f | %.4f |\n", r.conditioningStandardDeviation[0],
            r.conditioningStandardDeviation[1])
        out += String(
            format: "| std of the decoded missing view | | %.4f | %.4f |\n", r.missingStandardDeviation[0], r.missingStandardDeviation[1])
        out += String(format: "| −log p(missing view), mixture of draws | | %.2f | %.2f |\n", r.predictiveNLL[0], r.predictiveNLL[1])
        out += String(
            format: "| −log p(missing view), training mean | | %.2f | %.2f |\n", r.predictiveNLLTrainingMean[0],
            r.predictiveNLLTrainingMean[1])
        if let ridge = r.predictiveNLLRidge {
            out += String(format: "| −log p(missing view), ridge regression on the given view | | %.2f | %.2f |\n", ridge[0], ridge[1])
        }
        out += String(format: "| −log p(both views), importance sampled (N = %d) | %.2f | | |\n", r.importanceSamples, r.jointNLL)
        return out
    }
}
