import Foundation

/// `mvvae evaluate` for CoVAE, on the test rows with both views (the CoVAE paper, §3: Figs. 5–7):
/// - the prior's correlations (the singular values of C);
/// - the correlation between the modalities at the decoder inputs, as the mean canonical correlation
///   of (z₁, z₂) over the test rows: for joint generation z ~ q(z | x₁, x₂), for conditional generation
///   given x_k: z_k ~ q_k(z_k | x_k) and z_{−k} ~ p(z_{−k} | z_k);
/// - the average per-feature standard deviation of the decoded conditioning modality and of the decoded
///   missing one across `samples` draws of conditional generation (Fig. 6);
/// - the predictive −log p of the missing modality under the mixture of the `samples` decoded draws
///   (log-mean-exp), next to the training-mean baseline;
/// - the joint −log p(x₁, x₂) by importance sampling with the joint posterior as proposal (IWAE,
///   `importanceSamples` draws).
public struct CoVAEEvaluation {
    public struct Report: Codable, Equatable {
        public var testRows: Int
        public var samples: Int
        public var priorCorrelations: [Double]
        public var jointCorrelation: Double
        /// Given modality 1, given modality 2.
        public var conditionalCorrelation: [Double]
        public var conditioningStandardDeviation: [Double]
        public var missingStandardDeviation: [Double]
        /// −log p(x_missing | x_given) per row: the mixture of decoded draws; the training-mean baseline.
        public var predictiveNLL: [Double]
        public var predictiveNLLTrainingMean: [Double]
        /// −log p(x₁, x₂) per row, and the number of importance samples.
        public var jointNLL: Double
        public var importanceSamples: Int
    }

    public let model: CoVAE
    public let seed: UInt64
    public let samples: Int

    public let importanceSamples: Int
    /// Rows per forward pass.
    public let chunk: Int

    public init(model: CoVAE, seed: UInt64, samples: Int, importanceSamples: Int = 100, chunk: Int = 1000) {
        precondition(samples >= 1 && importanceSamples >= 1 && chunk >= 1, "CoVAE evaluation needs samples, importance samples and chunks ≥ 1")
        self.model = model
        self.seed = seed
        self.samples = samples
        self.importanceSamples = importanceSamples
        self.chunk = chunk
    }

    /// Failures a user can cause (too few rows with both views to measure anything).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// On the rows of `test` (and, for the baseline, of `train`) with both views observed.
    public func run(train allTrain: DataSubset, test allTest: DataSubset) throws -> Report {
        func pairs(_ s: DataSubset) -> DataSubset {
            guard let mask = s.dataset.mask else { return s }
            return DataSubset(dataset: s.dataset, indices: s.indices.filter { mask.isObserved(row: $0, view: 0) && mask.isObserved(row: $0, view: 1) })
        }
        let test = pairs(allTest), train = pairs(allTrain)
        let d = model.latent, n = test.count
        guard n >= 2, train.count >= 1 else {
            throw Failure(description: "CoVAE evaluation needs at least 2 test rows and 1 training row with both views observed; there are \(n) and \(train.count)")
        }
        let x = (test.matrix(view: 0), test.matrix(view: 1))
        var joint = (Matrix(rows: n, cols: d), Matrix(rows: n, cols: d))
        var conditional = [(Matrix(rows: n, cols: d), Matrix(rows: n, cols: d)), (Matrix(rows: n, cols: d), Matrix(rows: n, cols: d))]
        var spread = (conditioning: [0.0, 0.0], missing: [0.0, 0.0]), predictive = [0.0, 0.0], jointNLL = 0.0
        let priorFactor = try GaussianKL.cholesky(try priorCovariance())
        var start = 0
        while start < n {
            let rows = start..<Swift.min(start + chunk, n)
            let xs = (x.0.rows(rows), x.1.rows(rows))
            let tape = Tape()
            let q = model.encodeJoint(tape.constant(xs.0), tape.constant(xs.1), tape: tape)
            let z = tape.value(q.sample(noise: tape.constant(noise(rows.count, 2 * d, 0, start)),
                                        jitterNoise: tape.constant(noise(rows.count, 2 * d, 1, start)), tape: tape))
            copy(z.columns(0..<d), into: &joint.0, at: start)
            copy(z.columns(d..<(2 * d)), into: &joint.1, at: start)
            jointNLL += try importanceSampledNLL(xs, mean: tape.value(q.mean), factor: tape.value(q.factor), priorFactor: priorFactor, offset: start)
            for k in 0..<2 {
                let draws = try conditionalDraws(given: k, k == 0 ? xs.0 : xs.1, other: k == 0 ? xs.1 : xs.0, offset: start)
                copy(draws.first.given, into: &conditional[k].0, at: start)
                copy(draws.first.other, into: &conditional[k].1, at: start)
                spread.conditioning[k] += draws.spreadGiven
                spread.missing[k] += draws.spreadOther
                predictive[k] += draws.predictiveNLL
            }
            start = rows.upperBound
        }
        func meanCanonical(_ a: Matrix, _ b: Matrix) throws -> Double {
            let r = try CanonicalCorrelationAnalysis(fitting: a, b).correlations
            return r.reduce(0, +) / Double(r.count)
        }
        let c = try model.prior.value(arena: model.arena)
        let singular = try DoubleMatrix(c).singularValueDecomposition().s
        let features = model.viewDimensions.map(Double.init)
        let baseline = (0..<2).map { k -> Double in
            let target = 1 - k
            let scores = trainingMeanBaseline(kind: model.likelihoods[target].kind, train: train.matrix(view: target), truth: target == 0 ? x.0 : x.1)
            return scores.reduce(0, +) / Double(n)
        }
        return Report(testRows: n, samples: samples, priorCorrelations: singular,
                      jointCorrelation: try meanCanonical(joint.0, joint.1),
                      conditionalCorrelation: try conditional.map { try meanCanonical($0.0, $0.1) },
                      conditioningStandardDeviation: (0..<2).map { spread.conditioning[$0] / (Double(n) * features[$0]) },
                      missingStandardDeviation: (0..<2).map { spread.missing[$0] / (Double(n) * features[1 - $0]) },
                      predictiveNLL: predictive.map { $0 / Double(n) }, predictiveNLLTrainingMean: baseline,
                      jointNLL: jointNLL / Double(n), importanceSamples: importanceSamples)
    }

    /// Σ_prior = [[I, Cᵀ], [C, I]] in double precision.
    func priorCovariance() throws -> [[Double]] {
        let d = model.latent
        let c = try model.prior.value(arena: model.arena)
        var s = [[Double]](repeating: [Double](repeating: 0, count: 2 * d), count: 2 * d)
        for i in 0..<(2 * d) { s[i][i] = 1 }
        for i in 0..<d { for j in 0..<d { s[d + i][j] = Double(c[i, j]); s[j][d + i] = Double(c[i, j]) } }
        return s
    }

    /// Σ over a chunk's rows of −log (1/N Σ_n p(x₁|z₁ⁿ) p(x₂|z₂ⁿ) p(zⁿ) / q(zⁿ | x)), zⁿ ~ q(z | x).
    /// q's factor is per row and the same for every draw: its Cholesky is taken once per row.
    func importanceSampledNLL(_ xs: (Matrix, Matrix), mean: Matrix, factor: Matrix, priorFactor: [[Double]], offset: Int) throws -> Double {
        let rows = xs.0.rows, dd = 2 * model.latent, jitter = Double(model.settings.jitter)
        let logTwoPi = Foundation.log(2 * Double.pi)
        func logDensity(_ centred: [Double], _ chol: [[Double]]) -> Double {
            let y = GaussianKL.forwardSolve(chol, centred)
            let half = (0..<dd).reduce(0.0) { $0 + Foundation.log(chol[$1][$1]) }
            return -0.5 * y.reduce(0) { $0 + $1 * $1 } - half - 0.5 * Double(dd) * logTwoPi
        }
        let choleskies = try (0..<rows).map { r -> [[Double]] in
            var s = [[Double]](repeating: [Double](repeating: 0, count: dd), count: dd)
            for i in 0..<dd { for j in 0...i {
                var t = i == j ? jitter : 0
                for k in 0...j { t += Double(factor[r, i * dd + k]) * Double(factor[r, j * dd + k]) }
                s[i][j] = t; s[j][i] = t
            } }
            return try GaussianKL.cholesky(s)
        }
        var weights = [[Double]](repeating: [], count: rows)
        for s in 0..<importanceSamples {
            let e1 = noise(rows, dd, 1000 + 2 * s, offset), e2 = noise(rows, dd, 1001 + 2 * s, offset)
            var z = Matrix(rows: rows, cols: dd)
            var logRatio = [Double](repeating: 0, count: rows)
            for r in 0..<rows {
                var centred = [Double](repeating: 0, count: dd)
                for i in 0..<dd {
                    var t = jitter.squareRoot() * Double(e2[r, i])
                    for k in 0...i { t += Double(factor[r, i * dd + k]) * Double(e1[r, k]) }
                    centred[i] = t
                    z[r, i] = Float(Double(mean[r, i]) + t)
                }
                logRatio[r] = logDensity((0..<dd).map { Double(z[r, $0]) }, priorFactor) - logDensity(centred, choleskies[r])
            }
            let tape = Tape()
            var logLikelihood = [Double](repeating: 0, count: rows)
            for k in 0..<2 {
                let zk = tape.constant(z.columns((k * model.latent)..<((k + 1) * model.latent)))
                let nll = tape.value(model.likelihoods[k].negativeLogLikelihood(output: model.decode(k, zk, tape: tape),
                                                                               target: tape.constant(k == 0 ? xs.0 : xs.1), tape: tape, arena: model.arena))
                for r in 0..<rows { logLikelihood[r] -= Double(nll[r, 0]) }
            }
            for r in 0..<rows { weights[r].append(logLikelihood[r] + logRatio[r]) }
        }
        return weights.reduce(0.0) { total, w in
            let top = w.max()!
            return total - (top + Foundation.log(w.reduce(0) { $0 + Foundation.exp($1 - top) } / Double(w.count)))
        }
    }

    /// `samples` draws of conditional generation given modality k for a chunk of rows: the first draw's
    /// latents, the summed per-feature standard deviations of the decoded given and missing modalities,
    /// and the summed −log of the mixture density of the missing modality's truth.
    func conditionalDraws(given k: Int, _ observed: Matrix, other truth: Matrix, offset: Int) throws
        -> (first: (given: Matrix, other: Matrix), spreadGiven: Double, spreadOther: Double, predictiveNLL: Double) {
        let rows = observed.rows, d = model.latent, target = 1 - k
        var first: (given: Matrix, other: Matrix)?
        var decodedGiven: [Matrix] = [], decodedOther: [Matrix] = [], logDensities: [[Double]] = []
        for s in 0..<samples {
            let tape = Tape()
            let z = model.generate(given: k, tape.constant(observed), noise: tape.constant(noise(rows, d, 2 + 4 * s + 2 * k, offset)),
                                   conditionalNoise: tape.constant(noise(rows, d, 3 + 4 * s + 2 * k, offset)),
                                   blocks: try model.priorBlocks(tape: tape), tape: tape)
            if first == nil { first = (tape.value(z.given), tape.value(z.other)) }
            let outGiven = model.decode(k, z.given, tape: tape), outOther = model.decode(target, z.other, tape: tape)
            decodedGiven.append(tape.value(model.likelihoods[k].mean(output: outGiven, tape: tape)))
            decodedOther.append(tape.value(model.likelihoods[target].mean(output: outOther, tape: tape)))
            let nll = tape.value(model.likelihoods[target].negativeLogLikelihood(output: outOther, target: tape.constant(truth), tape: tape, arena: model.arena))
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
        var predictive = 0.0
        for r in 0..<rows {
            let values = logDensities.map { $0[r] }
            let top = values.max()!
            predictive -= top + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - top) } / Double(values.count))
        }
        return (first!, summedDeviation(decodedGiven), summedDeviation(decodedOther), predictive)
    }

    /// Standard normals for `rows` rows from `offset` on, stream `stream`: the same at any chunking.
    func noise(_ rows: Int, _ cols: Int, _ stream: Int, _ offset: Int) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        m.storage.withUnsafeMutableBufferPointer { p in
            for r in 0..<rows {
                // Epoch 0xC0 keeps these streams apart from the importance sampler's.
                var rng = RandomStream(seed: seed, stream: RandomPurpose.evaluation.stream(epoch: 0xC0, index: offset + r), block: UInt64(stream) << 32)
                rng.fillNormal(p.baseAddress! + r * cols, count: cols)
            }
        }
        return m
    }

    func copy(_ block: Matrix, into target: inout Matrix, at row: Int) {
        for r in 0..<block.rows { for c in 0..<block.cols { target[row + r, c] = block[r, c] } }
    }

    /// The report as a Markdown table.
    public static func markdown(_ r: Report, title: String) -> String {
        var out = "\n### \(title) (\(r.testRows) test rows, \(r.samples) draws)\n\n"
        out += "prior correlations (singular values of C): " + r.priorCorrelations.map { String(format: "%.3f", $0) }.joined(separator: ", ") + "\n\n"
        out += "| | joint | given view 1 | given view 2 |\n|---|---|---|---|\n"
        out += String(format: "| decoder-input correlation (mean canonical) | %.3f | %.3f | %.3f |\n", r.jointCorrelation, r.conditionalCorrelation[0], r.conditionalCorrelation[1])
        out += String(format: "| std of the decoded conditioning view | | %.4f | %.4f |\n", r.conditioningStandardDeviation[0], r.conditioningStandardDeviation[1])
        out += String(format: "| std of the decoded missing view | | %.4f | %.4f |\n", r.missingStandardDeviation[0], r.missingStandardDeviation[1])
        out += String(format: "| −log p(missing view), mixture of draws | | %.2f | %.2f |\n", r.predictiveNLL[0], r.predictiveNLL[1])
        out += String(format: "| −log p(missing view), training mean | | %.2f | %.2f |\n", r.predictiveNLLTrainingMean[0], r.predictiveNLLTrainingMean[1])
        out += String(format: "| −log p(both views), importance sampled (N = %d) | %.2f | | |\n", r.importanceSamples, r.jointNLL)
        return out
    }
}
