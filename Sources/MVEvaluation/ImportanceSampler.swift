import Foundation
import MVCore
import MVModels

/// Importance-sampled log-likelihood of a subset of modalities under an aggregated model, with the
/// model's own encoder as the proposal (permutation-invariant aggregation paper, App. I):
///
///     log p(x_S) ≈ log (1/N) Σ_n p(x_S | z_n) p(z_n) / q(z_n | x_S),   z_n ~ q(z | x_S),
///
/// with ancestral draws for mixture posteriors (MixtureSampler). With private latents z̃_s the latent is
/// (z, z̃_S), the proposal q(z | x_S) Π_{s∈S} q(z̃_s | x_s), and each weight gains Π_{s∈S} p(z̃_s) / q(z̃_s | x_s);
/// a modality outside S is decoded with z̃_s drawn from its prior. The estimate is a stochastic lower
/// bound (Jensen) that tightens as N grows and is exact for any N when q is the true posterior.
/// Every modality is decoded at the same draws, so the expected reconstruction of the modalities
/// outside S (cross-generation) comes along at the cost of their decoders.
public struct ImportanceSampler {
    /// Per-row results for one chunk of rows.
    public struct Estimate {
        /// log p(x_S) per row.
        public var logMarginal: [Double]
        /// E_q[−log p(target_s | z)] per modality and row (every modality, in S or not).
        public var nll: [[Double]]
        /// E_q[mean over features of (E[x_s | z] − target_s)²] per modality and row.
        public var mse: [[Double]]
        /// E_q[log q(z | x_S) − log p(z)] per row: the rate KL(q ‖ p), by Monte Carlo.
        public var rate: [Double]
    }

    public let model: AggregatedVAE
    public let draws: Int
    public let seed: UInt64
    /// Rows × draws decoded in one pass: large enough for efficient GEMMs, small enough to bound memory.
    public var passRows = 2048

    public init(model: AggregatedVAE, draws: Int, seed: UInt64) {
        precondition(draws >= 1, "ImportanceSampler needs at least one draw")
        self.model = model
        self.draws = draws
        self.seed = seed
    }

    /// Estimates for one chunk. `x[s]` holds the inputs (rows × d_s; anything where s ∉ S), `subset`
    /// is rows × K with 1 for s ∈ S, `targets[s]` what the decoded modality s is compared with (x[s]
    /// itself, or held-back truth), and `indices` the rows' global indices, which key the draws.
    public func estimate(x: [Matrix], subset: Matrix, targets: [Matrix], indices: [Int], tape: Tape) -> Estimate {
        let rows = subset.rows, k = x.count
        precondition(indices.count == rows && targets.count == k && x.count == k)
        tape.reset()
        let h = model.features(x.map { tape.constant($0) }, tape: tape)
        let q = model.aggregator.distribution(features: h, mask: tape.constant(subset), tape: tape, arena: model.arena)
        // q's parameters as plain values: the tape is reset for every group of draws below.
        let components = q.components.map {
            (
                mean: Self.full(tape.value($0.mean), rows: rows, cols: model.latent),
                logVar: Self.full(tape.value($0.logVar), rows: rows, cols: model.latent)
            )
        }
        let weights = q.weights.map { tape.value($0) }
        let privateQ = model.privateLatents?.posteriors(h, tape: tape, arena: model.arena)
            .map { (mean: tape.value($0.mean), logVar: tape.value($0.logVar)) }
        func posterior(times g: Int) -> PosteriorMixture {
            let parts = components.map {
                GaussianPosterior(mean: tape.constant(Self.tile($0.mean, g)), logVar: tape.constant(Self.tile($0.logVar, g)))
            }
            guard let w = weights else { return PosteriorMixture(parts[0]) }
            return PosteriorMixture(components: parts, weights: tape.constant(Self.tile(w, g)))
        }

        var sums = [LogSumExp](repeating: LogSumExp(), count: rows)
        var out = Estimate(
            logMarginal: [], nll: Array(repeating: Array(repeating: 0, count: rows), count: k),
            mse: Array(repeating: Array(repeating: 0, count: rows), count: k), rate: Array(repeating: 0, count: rows))
        let group = Swift.max(1, passRows / Swift.max(rows, 1))
        var first = 0
        while first < draws {
            let g = Swift.min(group, draws - first)
            tape.reset()
            // Draw-major stacking: row j·rows + r is draw first + j of row r.
            let single = posterior(times: 1)
            var stacked = Matrix(rows: g * rows, cols: model.latent)
            for j in 0..<g {
                let z = tape.value(MixtureSampler.sample(single, tape: tape, indices: indices, draw: first + j, seed: seed).z)
                stacked.storage.replaceSubrange((j * rows * model.latent)..<((j + 1) * rows * model.latent), with: z.storage)
            }
            let z = tape.constant(stacked)
            let logQ = tape.value(tape.logDensity(z, posterior(times: g)))
            let logP = tape.value(tape.standardNormalLogDensity(z))
            var logWeight = (0..<(g * rows)).map { Double(logP[$0, 0]) - Double(logQ[$0, 0]) }
            for s in 0..<k {
                let target = Self.tile(targets[s], g)
                var input = z
                if let privateQ {
                    let p = privateDraws(
                        privateQ[s], modality: s, subset: subset, indices: indices, first: first, count: g, logWeight: &logWeight)
                    input = tape.concatColumns(z, tape.constant(p))
                }
                let output = model.decoders[s](input, tape: tape, arena: model.arena)
                let nll = tape.value(
                    model.likelihoods[s].negativeLogLikelihood(
                        output: output, target: tape.constant(target), tape: tape, arena: model.arena))
                let mean = model.likelihoods[s].expectedCounts(
                    tape.value(model.likelihoods[s].mean(output: output, tape: tape)), given: target)
                let d = target.cols
                for i in 0..<(g * rows) {
                    let r = i % rows
                    if subset[r, s] != 0 { logWeight[i] -= Double(nll[i, 0]) }
                    var squared = 0.0
                    for c in 0..<d { let e = Double(mean[i, c] - target[i, c]); squared += e * e }
                    out.nll[s][r] += Double(nll[i, 0]) / Double(draws)
                    out.mse[s][r] += squared / Double(Swift.max(d, 1)) / Double(draws)
                }
            }
            for i in 0..<(g * rows) {
                sums[i % rows].add(logWeight[i])
                out.rate[i % rows] += (Double(logQ[i, 0]) - Double(logP[i, 0])) / Double(draws)
            }
            first += g
        }
        out.logMarginal = sums.map { $0.value - Foundation.log(Double(draws)) }
        return out
    }

    /// Draws of z̃_s, stacked like the shared draws: from q(z̃_s | x_s) for rows with s ∈ S (adding
    /// log p(z̃_s) − log q(z̃_s | x_s) to their log-weights), from the prior N(0, I) otherwise. Row r's draw
    /// n uses sub-sequence 1 + s of the stream the shared draw n comes from.
    func privateDraws(
        _ q: (mean: Matrix, logVar: Matrix), modality s: Int, subset: Matrix, indices: [Int], first: Int, count g: Int,
        logWeight: inout [Double]
    ) -> Matrix {
        let rows = subset.rows, size = q.mean.cols
        var out = Matrix(rows: g * rows, cols: size)
        for j in 0..<g {
            for r in 0..<rows {
                var rng = RandomStream(
                    seed: seed, stream: RandomPurpose.evaluation.stream(epoch: first + j, index: indices[r]), block: UInt64(1 + s) << 32)
                let inferred = subset[r, s] != 0
                var logRatio = 0.0
                for c in 0..<size {
                    let e = rng.nextNormal()
                    guard inferred else { out[j * rows + r, c] = e; continue }
                    let lv = q.logVar[r, c], v = q.mean[r, c] + Foundation.exp(0.5 * lv) * e
                    out[j * rows + r, c] = v
                    // log N(v; 0, 1) − log N(v; μ, σ²) = −v²/2 + e²/2 + lv/2.
                    logRatio += Double(-0.5 * v * v + 0.5 * e * e + 0.5 * lv)
                }
                logWeight[j * rows + r] += logRatio
            }
        }
        return out
    }

    /// A parameter that broadcasts (one row, or the 1 × 1 scalar of an empty product of experts)
    /// expanded to rows × cols, so it can be tiled and sampled row by row.
    static func full(_ m: Matrix, rows: Int, cols: Int) -> Matrix {
        guard m.rows != rows || m.cols != cols else { return m }
        var out = Matrix(rows: rows, cols: cols)
        for r in 0..<rows { for c in 0..<cols { out[r, c] = m[m.rows == 1 ? 0 : r, m.cols == 1 ? 0 : c] } }
        return out
    }

    /// `times` copies of m stacked vertically.
    static func tile(_ m: Matrix, _ times: Int) -> Matrix {
        guard times > 1 else { return m }
        var out = Matrix(rows: m.rows * times, cols: m.cols)
        for j in 0..<times { out.storage.replaceSubrange((j * m.count)..<((j + 1) * m.count), with: m.storage) }
        return out
    }
}

/// log Σ e^{v_i} accumulated one term at a time without overflow (running maximum).
struct LogSumExp {
    private var maximum = -Double.infinity
    private var scaledSum = 0.0

    mutating func add(_ v: Double) {
        if v <= maximum {
            scaledSum += Foundation.exp(v - maximum)
        } else {
            scaledSum = scaledSum * Foundation.exp(maximum - v) + 1
            maximum = v
        }
    }

    var value: Double { maximum + Foundation.log(scaledSum) }
}
