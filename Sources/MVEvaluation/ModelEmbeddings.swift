import Foundation
import MVCore
import MVModels

// Each family's q(z | x_O) for `mvvae encode` (see Embedding.swift).

/// JPVAE: every view has its own latent and encoder, so x_O gives the latents of the views in O, side
/// by side (the joint prior links the latents but does not enter an encoder).
extension JPVAE: EmbeddingModel {
    public func embedChunk(_ observed: [Int: Matrix], noise: EvaluationNoise, tape: Tape) throws -> Embedding {
        let order = observed.keys.sorted()
        let q = order.map { views[$0].encode(tape.constant(observed[$0]!), tape: tape, arena: arena) }
        return Embedding(
            columns: order.flatMap { k in (0..<views[k].latent).map { "view\(k + 1).z\($0 + 1)" } },
            mean: .sideBySide(q.map { tape.value($0.mean) }),
            logVariance: .sideBySide(q.map { tape.value($0.logVar) }))
    }
}

/// The aggregated VAE: the aggregator's q(z | x_O) with the views outside O masked out (their inputs are
/// never read); a Gaussian aggregator gives mean and log-variance, a mixture its mean and one draw. With
/// private latents, each view in O adds its own q(z̃_s | x_s) after the shared coordinates.
extension AggregatedVAE: EmbeddingModel {
    /// q(z | x_O) for `rows` rows, the views outside `observed` masked out (zeros stand in for their
    /// inputs, which the aggregator never reads), and every view's features (for the private latents).
    func posterior(given observed: [Int: Matrix], rows n: Int, tape: Tape) -> (q: PosteriorMixture, features: [Var]) {
        let k = viewDimensions.count
        let x = (0..<k).map { tape.constant(observed[$0] ?? Matrix(rows: n, cols: viewDimensions[$0])) }
        let mask = Matrix(rows: n, cols: k, (0..<n).flatMap { _ in (0..<k).map { observed[$0] == nil ? Float(0) : 1 } })
        let h = features(x, tape: tape)
        return (aggregator.distribution(features: h, mask: tape.constant(mask), tape: tape, arena: arena), h)
    }

    public func embedChunk(_ observed: [Int: Matrix], noise: EvaluationNoise, tape: Tape) throws -> Embedding {
        let order = observed.keys.sorted()
        let (q, h) = posterior(given: observed, rows: noise.rows, tape: tape)
        var columns = (0..<latent).map { "z\($0 + 1)" }
        var mean = [tape.mean(q)], logVar: [Var] = [], draw: [Var] = []
        if q.isGaussian {
            logVar.append(q.gaussian.logVar)
        } else {
            draw.append(MixtureSampler.sample(q, tape: tape, indices: noise.indices, draw: 0, seed: noise.seed).z)
        }
        if let privateLatents {
            let own = privateLatents.posteriors(h, tape: tape, arena: arena)
            for s in order {
                columns += (0..<privateLatents.size).map { "view\(s + 1).private\($0 + 1)" }
                mean.append(own[s].mean)
                if q.isGaussian { logVar.append(own[s].logVar); continue }
                let eps = tape.constant(noise.normals(cols: privateLatents.size, stream: PrivateLatents.posteriorStream(s)))
                draw.append(tape.add(own[s].mean, tape.mul(tape.exp(tape.scale(own[s].logVar, 0.5)), eps)))
            }
        }
        func values(_ parts: [Var]) -> Matrix? { parts.isEmpty ? nil : .sideBySide(parts.map { tape.value($0) }) }
        return Embedding(columns: columns, mean: values(mean)!, logVariance: values(logVar), draw: values(draw))
    }
}

/// CoVAE: with every view observed, the joint encoder's N(μ, Σ) (the log-variances are Σ's diagonal);
/// with a subset O, z_O from the unimodal encoders and z_M | z_O from the prior conditional (Eq. 2), so
/// z_M has mean R μ_O and variance diag(R diag(σ_O²) Rᵀ + F Fᵀ). The columns cover all of z either way.
extension CoVAE: EmbeddingModel {
    public func embedChunk(_ observed: [Int: Matrix], noise: EvaluationNoise, tape: Tape) throws -> Embedding {
        let n = noise.rows, d = jointLatent
        let columns = (0..<modalities).flatMap { k in (0..<latents[k]).map { "view\(k + 1).z\($0 + 1)" } }
        if observed.count == modalities {
            let q = encodeJoint(concatenated: tape.constant(.sideBySide((0..<modalities).map { observed[$0]! })), tape: tape)
            let sigma = tape.value(q.covariance(tape: tape))
            var logVar = Matrix(rows: n, cols: d)
            for r in 0..<n { for i in 0..<d { logVar[r, i] = Foundation.log(sigma[r, i * d + i]) } }
            return Embedding(columns: columns, mean: tape.value(q.mean), logVariance: logVar)
        }
        let order = observed.keys.sorted()
        let (regression, factor, missing) = try CoVAEInference(model: self, seed: noise.seed).conditional(observed: order)
        let q = order.map { encode($0, tape.constant(observed[$0]!), tape: tape) }
        let meanO = Matrix.sideBySide(q.map { tape.value($0.mean) }), logVarO = Matrix.sideBySide(q.map { tape.value($0.logVar) })
        var mean = Matrix(rows: n, cols: d), logVar = Matrix(rows: n, cols: d)
        let oi = coordinates(of: order), mi = coordinates(of: missing)
        var conditionalVariance = [Float](repeating: 0, count: mi.count)
        for i in mi.indices { for j in 0...i { conditionalVariance[i] += factor[i, j] * factor[i, j] } }
        for r in 0..<n {
            for (c, col) in oi.enumerated() { mean[r, col] = meanO[r, c]; logVar[r, col] = logVarO[r, c] }
            for (i, col) in mi.enumerated() {
                var m: Float = 0, v = conditionalVariance[i]
                for c in oi.indices {
                    m += regression[i, c] * meanO[r, c]
                    v += regression[i, c] * regression[i, c] * Foundation.exp(logVarO[r, c])
                }
                mean[r, col] = m
                logVar[r, col] = Foundation.log(v)
            }
        }
        return Embedding(columns: columns, mean: mean, logVariance: logVar)
    }
}
