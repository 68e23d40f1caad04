import Foundation
import MVCore
import MVModels

/// The information-theoretic summary of an aggregated model (aggregation paper §3 and App. C), per row
/// averaged over the rows, by Monte Carlo with `draws` ancestral draws per row:
/// - full reconstruction E_{q(z|x)}[log p(x | z)] and full rate KL(q(z|x) ‖ p(z));
/// - cross reconstruction E_{q(z|x_s)}[log p(x_{∖s} | z)] and cross rate KL(q(z|x) ‖ q(z|x_s)), each
///   averaged over the single modalities s (S = {s} in the paper's notation).
/// KL terms between two Gaussians are exact; with a mixture on either side they are Monte Carlo.
/// With private latents, z̃_t comes from q(z̃_t | x_t) when x_t is encoded and from the prior otherwise.
/// Rows are assumed fully observed (the simulations this is meant for have no missing modalities).
public struct RateDistortion: Codable, Equatable {
    public var fullReconstruction: Double
    public var fullRate: Double
    public var crossReconstruction: Double
    public var crossRate: Double

    public static func measure(_ model: AggregatedVAE, views: [Matrix], draws: Int = 8, seed: UInt64 = 0) -> RateDistortion {
        let n = views[0].rows, k = views.count, chunk = 500
        var total = RateDistortion(fullReconstruction: 0, fullRate: 0, crossReconstruction: 0, crossRate: 0)
        let tape = Tape()
        var start = 0
        while start < n {
            let r = start..<Swift.min(n, start + chunk)
            let indices = Array(r)
            tape.reset()
            let x = views.map { tape.constant($0.rows(r)) }
            let h = model.features(x, tape: tape)
            func posterior(_ mask: (Int) -> Bool) -> PosteriorMixture {
                let m = tape.input(rows: r.count, cols: k) { p in for i in 0..<r.count { for s in 0..<k { p[i * k + s] = mask(s) ? 1 : 0 } }
                }
                return model.aggregator.distribution(features: h, mask: m, tape: tape, arena: model.arena)
            }
            let full = posterior { _ in true }
            let privateQ = model.privateLatents?.posteriors(h, tape: tape, arena: model.arena)
            let unimodal = (0..<k).map { s in posterior { $0 == s } }
            // Exact rates where both sides are Gaussian (counted once per draw, like the Monte-Carlo ones).
            if full.isGaussian { total.fullRate += Double(draws) * sum(tape.value(tape.standardNormalKL(full.gaussian))) }
            for s in 0..<k where full.isGaussian && unimodal[s].isGaussian {
                total.crossRate += Double(draws) * sum(tape.value(tape.gaussianKL(full.gaussian, unimodal[s].gaussian))) / Double(k)
            }
            let mark = tape.count
            for d in 0..<draws {
                tape.rewind(to: mark)
                // Private draws: from q for encoded modalities, from the prior for the others.
                func privates(encoded: (Int) -> Bool, stream: Int) -> [Var]? {
                    privateQ.map { qs in
                        qs.enumerated().map { t, q in
                            let width = tape.cols(q.mean)
                            let eps = tape.input(rows: r.count, cols: width) { p in
                                for (i, row) in indices.enumerated() {
                                    var rng = RandomStream(
                                        seed: seed, stream: RandomPurpose.evaluation.stream(epoch: d, index: row),
                                        block: UInt64(stream * k + t + 1) << 40)
                                    rng.fillNormal(p + i * width, count: width)
                                }
                            }
                            return encoded(t) ? tape.reparameterize(mean: q.mean, logVar: q.logVar, noise: eps) : eps
                        }
                    }
                }
                let z = MixtureSampler.sample(full, tape: tape, indices: indices, draw: d * (k + 1), seed: seed).z
                let fullPrivates = privates(encoded: { _ in true }, stream: 0)
                var logLikelihood = 0.0
                for s in 0..<k {
                    logLikelihood -= sum(tape.value(model.nll(s, z: z, privateSample: fullPrivates?[s], x: x[s], tape: tape)))
                }
                total.fullReconstruction += logLikelihood
                if !full.isGaussian {
                    total.fullRate += sum(tape.value(tape.sub(tape.logDensity(z, full), tape.standardNormalLogDensity(z))))
                }
                for s in 0..<k {
                    let zs = MixtureSampler.sample(unimodal[s], tape: tape, indices: indices, draw: d * (k + 1) + 1 + s, seed: seed).z
                    let crossPrivates = privates(encoded: { $0 == s }, stream: 1 + s)
                    for t in 0..<k where t != s {
                        total.crossReconstruction -=
                            sum(tape.value(model.nll(t, z: zs, privateSample: crossPrivates?[t], x: x[t], tape: tape))) / Double(k)
                    }
                    if !(full.isGaussian && unimodal[s].isGaussian) {
                        total.crossRate += sum(tape.value(tape.sub(tape.logDensity(z, full), tape.logDensity(z, unimodal[s])))) / Double(k)
                    }
                }
            }
            start = r.upperBound
        }
        let scale = 1 / Double(Swift.max(n, 1) * draws)
        return RateDistortion(
            fullReconstruction: total.fullReconstruction * scale, fullRate: total.fullRate * scale,
            crossReconstruction: total.crossReconstruction * scale, crossRate: total.crossRate * scale)
    }

    private static func sum(_ m: Matrix) -> Double { m.storage.reduce(0) { $0 + Double($1) } }
}
