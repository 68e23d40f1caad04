import Foundation
import MVCore
import MVModels

/// A shared-latent (aggregated) model's generation for `GenerationStatistics`, for two modalities: joint
/// from q(z | x₁, x₂), conditional given x_k from q(z | x_k); both decoders read the same z. The joint
/// −log p(x₁, x₂) is the aggregated evaluation's importance-sampled estimate (`ImportanceSampler`).
extension AggregatedVAE: PairGenerationModel {
    func requirePair() throws {
        guard viewDimensions.count == 2, privateLatents == nil else {
            throw GenerationStatistics.Failure(
                description:
                    "generation statistics compare two modalities decoded from one shared latent; this aggregated model has "
                    + "\(viewDimensions.count) modalities\(privateLatents == nil ? "" : " and private latents")"
            )
        }
    }

    /// One ancestral draw from q(z | x_S) for the rows, S given by `subset` (1 × 2 for every row).
    func draw(_ x: (Matrix, Matrix), subset: [Float], noise: EvaluationNoise, draw: Int, tape: Tape) throws -> Var {
        try requirePair()
        let h = features([tape.constant(x.0), tape.constant(x.1)], tape: tape)
        let mask = tape.constant(Matrix(rows: noise.rows, cols: 2, (0..<noise.rows).flatMap { _ in subset }))
        let q = aggregator.distribution(features: h, mask: mask, tape: tape, arena: arena)
        return MixtureSampler.sample(q, tape: tape, indices: noise.indices, draw: draw, seed: noise.seed).z
    }

    public func jointDecoderInputs(_ x: (Matrix, Matrix), noise: EvaluationNoise, draw d: Int, tape: Tape) throws -> (Var, Var) {
        let z = try draw(x, subset: [1, 1], noise: noise, draw: 3 * d, tape: tape)
        return (z, z)
    }

    public func conditionalDecoderInputs(given k: Int, _ observed: Matrix, noise: EvaluationNoise, draw d: Int, tape: Tape) throws -> (
        given: Var, other: Var
    ) {
        // The unobserved modality's input is never read (its mask is 0): zeros of its width.
        let blank = Matrix(rows: observed.rows, cols: viewDimensions[1 - k])
        let z = try draw(
            k == 0 ? (observed, blank) : (blank, observed), subset: k == 0 ? [1, 0] : [0, 1], noise: noise, draw: 3 * d + 1 + k, tape: tape)
        return (z, z)
    }

    public func decode(_ k: Int, _ z: Var, tape: Tape) -> Var { decoders[k](z, tape: tape, arena: arena) }

    public func jointNegativeLogLikelihood(_ x: (Matrix, Matrix), draws: Int, noise: EvaluationNoise) throws -> [Double] {
        try requirePair()
        let all = Matrix(rows: noise.rows, cols: 2, repeating: 1)
        let estimate = ImportanceSampler(model: self, draws: draws, seed: noise.seed)
            .estimate(x: [x.0, x.1], subset: all, targets: [x.0, x.1], indices: noise.indices, tape: Tape())
        return estimate.logMarginal.map { -$0 }
    }

    public func priorCorrelations() throws -> [Double]? { nil }
}
