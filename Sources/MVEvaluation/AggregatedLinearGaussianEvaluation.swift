import Foundation
import MVCore
import MVData
import MVModels

/// The linear-Gaussian reference experiment of the aggregation paper (§5.1, App. J): for a model with
/// linear Gaussian decoders the marginal log-likelihood is exact, log N(x; b, W Wᵀ + Ψ), and the
/// maximum-likelihood value is the probabilistic-PCA solution on the same rows.
public struct AggregatedLinearGaussianEvaluation {
    public struct Report: Codable, Equatable {
        /// Mean per-row log-likelihood of the training rows under the trained model (its W, b with the
        /// MLE's noise variance σ²_ML) and under the MLE (probabilistic PCA).
        public var modelLogLikelihood: Double
        public var mleLogLikelihood: Double
        /// (LLH_MLE − LLH_model) / |LLH_MLE|.
        public var relativeGap: Double
        /// Mean correlation of true and inferred latents (posterior means given all modalities):
        /// weak = after CCA (as the paper reports), strong = direct, both with optimal matching.
        public var weakMCC: Double
        public var strongMCC: Double
        /// Mean KL(q(z|x) ‖ p(z)) over the rows (the full rate).
        public var fullRate: Double
        /// Full and cross reconstructions and rates (`RateDistortion`, under the decoders' own noise).
        public var rateDistortion: RateDistortion?
        public var rows: Int
    }

    public enum Failure: Error, CustomStringConvertible {
        case notLinearGaussian(String)
        public var description: String {
            switch self {
            case let .notLinearGaussian(why):
                return
                    "the exact log-likelihood needs linear Gaussian decoders (model.decoderHidden: [], model.likelihood: gaussian): \(why)"
            }
        }
    }

    public let model: AggregatedVAE

    public init(model: AggregatedVAE) { self.model = model }

    /// Modality s's loading on the joint latent (z, z̃_0, …, z̃_{K−1}): its weightᵀ split into the shared
    /// columns and its own private block, zeros for the other modalities' private latents (App. J's
    /// sparse loading matrix). Without private latents it is weightᵀ itself.
    func loading(_ w: Matrix, modality s: Int) -> Matrix {
        guard let p = model.privateLatents?.size else { return w }
        let l = model.latent, k = model.viewDimensions.count
        var out = Matrix(rows: w.rows, cols: l + k * p)
        for i in 0..<w.rows {
            for j in 0..<l { out[i, j] = w[i, j] }
            for j in 0..<p { out[i, l + s * p + j] = w[i, l + j] }
        }
        return out
    }

    /// The trained decoders as a linear-Gaussian model: W_s = weightᵀ, b_s = bias, and Ψ = `noise`·I when
    /// given, else the decoders' own variances e^{2·log-scale}.
    public func decoderModel(noise shared: Double? = nil) throws -> LinearGaussianModel {
        var loadings: [Matrix] = [], biases: [[Float]] = [], noise: [[Double]] = []
        for (s, decoder) in model.decoders.enumerated() {
            guard decoder.mlp.layers.count == 1, decoder.convolutions.isEmpty else {
                throw Failure.notLinearGaussian("view \(s + 1)'s decoder has hidden layers")
            }
            let likelihood = model.likelihoods[s]
            guard likelihood.kind == .gaussian else { throw Failure.notLinearGaussian("view \(s + 1) is \(likelihood.kind.rawValue)") }
            let layer = decoder.mlp.layers[0]
            loadings.append(loading(model.arena.value(layer.weight).transposed, modality: s))
            biases.append(model.arena.value(layer.bias).storage)
            let d = layer.outputs
            if let shared {
                noise.append([Double](repeating: shared, count: d))
            } else if let ls = likelihood.logScale {
                noise.append(model.arena.value(ls).storage.map { Foundation.exp(2 * Double($0)) })
            } else {
                noise.append([Double](repeating: Foundation.exp(2 * Double(likelihood.fixedLogScale)), count: d))
            }
        }
        return LinearGaussianModel(loadings: loadings, biases: biases, noiseVariances: noise)
    }

    /// q(z | x) given all modalities, for every row: its mean and its rate KL(q ‖ N(0, I)) — closed form for
    /// a Gaussian, a Monte-Carlo average over `rateDraws` stratified draws (one per component) for a mixture.
    public func encode(_ views: [Matrix], rateDraws: Int = 16, seed: UInt64 = 0) -> (mean: Matrix, rate: [Double]) {
        let n = views[0].rows, k = views.count, chunk = 1000, w = model.latent
        var mean = Matrix(rows: n, cols: w), rate = [Double](repeating: 0, count: n)
        let tape = Tape()
        var start = 0
        while start < n {
            let r = start..<Swift.min(n, start + chunk)
            tape.reset()
            let h = model.features(views.map { tape.constant($0.rows(r)) }, tape: tape)
            let q = model.aggregator.distribution(
                features: h, mask: tape.constant(Matrix(rows: r.count, cols: k, repeating: 1)),
                tape: tape, arena: model.arena)
            mean.storage.replaceSubrange((r.lowerBound * w)..<(r.upperBound * w), with: tape.value(tape.mean(q)).storage)
            let kl =
                q.isGaussian
                ? tape.value(tape.standardNormalKL(q.gaussian)) : monteCarloRate(q, rows: r, draws: rateDraws, seed: seed, tape: tape)
            for i in r { rate[i] = Double(kl[i - r.lowerBound, 0]) }
            start = r.upperBound
        }
        return (mean, rate)
    }

    /// Σ_c w_c (log q(z_c) − log N(z_c; 0, I)) with z_c ~ component c, averaged over `draws` (rows × 1).
    func monteCarloRate(_ q: PosteriorMixture, rows r: Range<Int>, draws: Int, seed: UInt64, tape: Tape) -> Matrix {
        var total = Matrix(rows: r.count, cols: 1)
        for d in 0..<draws {
            for (c, component) in q.components.enumerated() {
                let eps = tape.input(rows: r.count, cols: model.latent) { p in
                    for i in r {
                        var rng = RandomStream(
                            seed: seed, stream: RandomPurpose.evaluation.stream(epoch: d, index: i), block: UInt64(c) << 32)
                        rng.fillNormal(p + (i - r.lowerBound) * model.latent, count: model.latent)
                    }
                }
                let z = tape.reparameterize(mean: component.mean, logVar: component.logVar, noise: eps)
                let term = tape.value(tape.mul(tape.sub(tape.logDensity(z, q), tape.standardNormalLogDensity(z)), tape.weight(q, c)!))
                for i in 0..<r.count { total[i, 0] += term[i, 0] / Float(draws) }
            }
        }
        return total
    }

    public func run(rows subset: DataSubset, trueLatents: Matrix) throws -> Report {
        let views = (0..<model.viewDimensions.count).map { subset.matrix(view: $0) }
        // As in the paper's App. J, the model's log-likelihood uses the decoders' W and b with the PPCA
        // noise variance σ²_ML: the MLE is then an upper bound and the gap measures W and b alone.
        let ppca = try ProbabilisticPCA(fitting: views, latentDimension: model.latent)
        let llh = try decoderModel(noise: ppca.noiseVariance).logLikelihood(views)
        let mle = ppca.maximumLogLikelihood
        let q = encode(views)
        var z = Matrix(rows: subset.count, cols: trueLatents.cols)
        for (i, row) in subset.indices.enumerated() { for c in 0..<z.cols { z[i, c] = trueLatents[row, c] } }
        let rate = q.rate.reduce(0, +)
        return Report(
            modelLogLikelihood: llh, mleLogLikelihood: mle,
            relativeGap: ProbabilisticPCA.relativeGap(modelLLH: llh, mleLLH: mle),
            weakMCC: try MeanCorrelationCoefficient.weak(z, q.mean), strongMCC: MeanCorrelationCoefficient.strong(z, q.mean),
            fullRate: rate / Double(Swift.max(q.mean.rows, 1)),
            rateDistortion: RateDistortion.measure(model, views: views), rows: subset.count)
    }
}
