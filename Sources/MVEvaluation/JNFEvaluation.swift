import Foundation
import MVCore
import MVConfig
import MVData
import MVModels

/// `mvvae evaluate` for JNF on its test split (the rows with every modality):
/// - importance-sampled log-likelihoods, the estimator of the aggregated models (`ImportanceSampler`):
///   log p(x_S) ≈ log (1/N) Σ_n p(x_S | z_n) p(z_n) / r(z_n | x_S), z_n ~ r, with r the model's own
///   posterior where its density is known: q(z | x) for every modality, q_j for S = {j}. For larger S the
///   model's posterior is the HMC target π_S, which has no normaliser and so cannot weigh draws; r is then
///   half a diagonal Gaussian per row moment-matched to HMC draws of p(z | x_S) (`JNFSubsetProposal`) and half the
///   mixture (1/|S|) Σ_{j∈S} q_j, which bounds the weights where the Gaussian is too narrow.
///   The conditional log p(x_M | x_S) = log p(x) − log p(x_S), per subset S;
/// - coherence (labelled data), with the HMC acceptance rate of the subsets it samples.
public struct JNFEvaluation {
    public let model: JNF
    public let config: EvaluationConfig
    public let seed: UInt64
    /// Off: subsets of 2 or more are weighed with the mixture of the q_j alone (the looser proposal, kept
    /// for the tests that compare the two).
    var hmcProposal = true

    public init(model: JNF, config: EvaluationConfig, seed: UInt64) {
        self.model = model
        self.config = config
        self.seed = seed
    }

    public struct Report: Codable, Equatable {
        public var testRows: Int
        public var importanceSamples: Int
        /// Mean over rows of log p(x).
        public var jointLogLikelihood: Double
        /// Subset S ("1,3") → mean over rows of log p(x_M | x_S).
        public var conditionalLogLikelihood: [String: Double]
        /// Mean of those over the subsets of each size 1 … K−1.
        public var conditionalLogLikelihoodBySize: [Double]
        public var coherence: Coherence.Report?
        /// The HMC runs of the coherence draws (subsets of 2 … K−1): mean acceptance rate.
        public var hmcAcceptanceRate: Double?
    }

    public func run(train: DataSubset, test full: DataSubset, coherence withCoherence: Bool, progress: (String) -> Void = { _ in }) throws
        -> Report
    {
        let k = model.modalities
        let test = full.completeRows()
        guard test.count > 0 else { throw ImputationError(description: "the test split has no row with every modality") }
        let x = (0..<k).map { test.matrix(view: $0) }
        progress("log p(x), \(config.importanceSamples) draws from q(z | x)")
        let joint = try logMarginal(x, subset: Array(0..<k))
        var conditional: [String: Double] = [:], bySize = [[Double]](repeating: [], count: k - 1)
        for size in 1..<k {
            for subset in Coherence.subsets(of: k, size: size) {
                let name = subset.map { String($0 + 1) }.joined(separator: ",")
                progress("log p(x_M | x_S), S = \(name)")
                let marginal = try logMarginal(x, subset: subset)
                let value = zip(joint, marginal).reduce(0.0) { $0 + $1.0 - $1.1 } / Double(test.count)
                conditional[name] = value
                bySize[size - 1].append(value)
            }
        }
        var report = Report(
            testRows: test.count, importanceSamples: config.importanceSamples, jointLogLikelihood: joint.reduce(0, +) / Double(test.count),
            conditionalLogLikelihood: conditional, conditionalLogLikelihoodBySize: bySize.map { $0.reduce(0, +) / Double($0.count) })
        if withCoherence, test.labels != nil {
            progress("coherence: fitting a classifier per modality")
            let imputer = JNFImputer(model: model)
            report.coherence = try Coherence(train: train.completeRows(), config: config, seed: seed)
                .run(imputer: imputer, generator: model, test: test, progress: progress)
            let rates = imputer.acceptanceRates
            report.hmcAcceptanceRate = rates.isEmpty ? nil : rates.reduce(0, +) / Double(rates.count)
        }
        return report
    }

    /// log p(x_S) per row, with N draws from the proposal r(z | x_S) described above.
    public func logMarginal(_ x: [Matrix], subset: [Int]) throws -> [Double] {
        let n = x[0].rows, d = model.latent, inference = JNFInference(model: model), all = subset.count == model.modalities
        let noise = EvaluationNoise(seed: seed, indices: Array(0..<n))
        let bases = all ? [:] : Dictionary(uniqueKeysWithValues: subset.map { ($0, inference.base($0, x[$0])) })
        let fitted =
            hmcProposal && subset.count >= 2 && !all
            ? try JNFSubsetProposal(
                inference: inference, observed: Dictionary(uniqueKeysWithValues: subset.map { ($0, x[$0]) }), bases: bases, noise: noise)
            : nil
        // Mixture components: the q_j of S, then the fitted Gaussian (as many shares as all q_j together).
        let components = subset.count + (fitted == nil ? 0 : subset.count)
        let tape = Tape()
        var joint: (mean: Matrix, logVar: Matrix)?
        if all {
            let q = model.encodeJoint(x.map { tape.constant($0) }, tape: tape)
            joint = (tape.value(q.mean), tape.value(q.logVar))
        }
        var sums = [LogSumExp](repeating: LogSumExp(), count: n)
        for draw in 0..<config.importanceSamples {
            let eps = noise.normals(cols: d, stream: 1 << 20 + draw)
            var z: Matrix
            if let joint {
                z = joint.mean
                for q in 0..<z.count { z.storage[q] += Foundation.exp(0.5 * joint.logVar.storage[q]) * eps.storage[q] }
            } else {
                // A component per row and draw, then that component's draw.
                let pick = noise.choices(below: components, stream: 1 << 21 + draw)
                z = Matrix(rows: n, cols: d)
                for (c, j) in subset.enumerated() where pick.contains(c) {
                    let zj = inference.sampleUnimodal(j, base: bases[j]!, noise: eps)
                    for r in 0..<n where pick[r] == c { for a in 0..<d { z[r, a] = zj[r, a] } }
                }
                if let fitted {
                    for r in 0..<n where pick[r] >= subset.count {
                        for a in 0..<d { z[r, a] = fitted.mean[r, a] + Foundation.exp(0.5 * fitted.logVar[r, a]) * eps[r, a] }
                    }
                }
            }
            tape.reset()
            let zv = tape.constant(z)
            var logWeight = tape.value(tape.standardNormalLogDensity(zv)).storage.map(Double.init)
            if let joint {
                let logQ = tape.value(
                    tape.logDensity(zv, GaussianPosterior(mean: tape.constant(joint.mean), logVar: tape.constant(joint.logVar))))
                for r in 0..<n { logWeight[r] -= Double(logQ[r, 0]) }
            } else {
                // log r = log (1/|S|) Σ_j q_j(z | x_j), or with the fitted Gaussian ½ that + ½ N(z; m, v).
                let parts = subset.map { j in
                    tape.value(
                        model.unimodalLogDensity(
                            j, zv, base: GaussianPosterior(mean: tape.constant(bases[j]!.mean), logVar: tape.constant(bases[j]!.logVar)),
                            tape: tape))
                }
                let gaussian = fitted.map {
                    tape.value(tape.logDensity(zv, GaussianPosterior(mean: tape.constant($0.mean), logVar: tape.constant($0.logVar))))
                }
                for r in 0..<n {
                    var mix = LogSumExp()
                    for p in parts { mix.add(Double(p[r, 0])) }
                    if let gaussian { mix.add(Double(gaussian[r, 0]) + Foundation.log(Double(subset.count))) }
                    logWeight[r] -= mix.value - Foundation.log(Double(components))
                }
            }
            for j in subset {
                let nll = tape.value(
                    model.likelihoods[j].negativeLogLikelihood(
                        output: model.decode(j, zv, tape: tape), target: tape.constant(x[j]),
                        tape: tape, arena: model.arena))
                for r in 0..<n { logWeight[r] -= Double(nll[r, 0]) }
            }
            for r in 0..<n { sums[r].add(logWeight[r]) }
        }
        return sums.map { $0.value - Foundation.log(Double(config.importanceSamples)) }
    }

    public static func markdown(_ r: Report, title: String) -> String {
        var out =
            "\n### \(title), \(r.testRows) test rows\n\n| log-likelihood (importance-sampled, \(r.importanceSamples) draws) | "
            + "nats per row |\n|---|---|\n"
        out += String(format: "| log p(x), every modality | %.2f |\n", r.jointLogLikelihood)
        for (size, v) in r.conditionalLogLikelihoodBySize.enumerated() {
            out += String(format: "| log p(x_M \\| x_S), \\|S\\| = %d (mean over subsets) | %.2f |\n", size + 1, v)
        }
        if let c = r.coherence { out += "\n" + Coherence.markdown(c) }
        if let a = r.hmcAcceptanceRate { out += String(format: "\nHMC acceptance rate (subsets of 2 or more): %.3f\n", a) }
        return out
    }
}
