/// CoVAE's conditional generation (the CoVAE paper, "Generating from CoVAE"): the observed modality k
/// is encoded by its unimodal encoder, z_k ~ q_k(z_k | x_k), the missing latent is drawn from the prior
/// conditional z_{−k} | z_k (Eq. 2), and each draw is decoded. The spread of the decoded draws is the
/// imputation's latent uncertainty: it shrinks as the prior's correlations grow and, with ρ → 0, is
/// that of decoding the prior itself.
public struct CoVAEInference {
    public let model: CoVAE
    public let seed: UInt64

    public init(model: CoVAE, seed: UInt64) {
        self.model = model
        self.seed = seed
    }

    /// The decoded means of `samples` draws of modality 1 − k given `observed` rows of modality k,
    /// their mean and their per-feature standard deviation (rows × features each; draws by draw).
    public func impute(given k: Int, observed: Matrix, samples: Int) throws -> (mean: Matrix, deviation: Matrix, draws: [Matrix]) {
        precondition(k == 0 || k == 1, "CoVAE imputes one modality from the other")
        precondition(observed.cols == model.viewDimensions[k], "observed rows have \(observed.cols) features, modality \(k + 1) has \(model.viewDimensions[k])")
        let target = 1 - k, n = observed.rows, d = model.latent
        var draws: [Matrix] = []
        for s in 0..<samples {
            let tape = Tape()
            let z = model.generate(given: k, tape.constant(observed),
                                   noise: tape.constant(Matrix.randomNormal(rows: n, cols: d, seed: seed, stream: 2 * UInt64(s))),
                                   conditionalNoise: tape.constant(Matrix.randomNormal(rows: n, cols: d, seed: seed, stream: 2 * UInt64(s) + 1)),
                                   blocks: try model.priorBlocks(tape: tape), tape: tape)
            let out = model.decode(target, z.other, tape: tape)
            draws.append(tape.value(model.likelihoods[target].mean(output: out, tape: tape)))
        }
        let features = model.viewDimensions[target]
        var mean = Matrix(rows: n, cols: features), deviation = Matrix(rows: n, cols: features)
        for i in 0..<(n * features) {
            var sum = 0.0, squares = 0.0
            for draw in draws { sum += Double(draw.storage[i]); squares += Double(draw.storage[i]) * Double(draw.storage[i]) }
            let m = sum / Double(samples)
            mean.storage[i] = Float(m)
            deviation.storage[i] = Float(Swift.max(squares / Double(samples) - m * m, 0).squareRoot())
        }
        return (mean, deviation, draws)
    }
}
