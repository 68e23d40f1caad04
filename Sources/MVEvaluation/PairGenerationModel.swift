import Foundation
import MVCore
import MVModels

/// What `GenerationStatistics` asks of a two-modality model, so that CoVAE and the shared-latent
/// (aggregated) models are measured by the same estimators (the CoVAE paper, §3.1: Figs. 5, 6 and 8).
/// "Decoder inputs" are what each modality's decoder reads: CoVAE's z₁ and z₂; one z for both in a
/// shared-latent model, whose two modalities are therefore perfectly correlated there.
public protocol PairGenerationModel {
    var viewDimensions: [Int] { get }
    var likelihoods: [Likelihood] { get }
    var arena: ParameterArena { get }
    /// Joint generation for rows of (x₁, x₂): one draw from the joint posterior, `draw` numbering draws.
    func jointDecoderInputs(_ x: (Matrix, Matrix), noise: EvaluationNoise, draw: Int, tape: Tape) throws -> (Var, Var)
    /// Conditional generation from modality k's rows alone: the inputs of decoder k and of the other decoder.
    func conditionalDecoderInputs(given k: Int, _ observed: Matrix, noise: EvaluationNoise, draw: Int, tape: Tape) throws -> (
        given: Var, other: Var
    )
    /// Decoder k's output (the likelihood's parameters) for decoder input z.
    func decode(_ k: Int, _ z: Var, tape: Tape) -> Var
    /// −log p(x₁, x₂) per row, importance sampled with `draws` draws from the joint posterior.
    func jointNegativeLogLikelihood(_ x: (Matrix, Matrix), draws: Int, noise: EvaluationNoise) throws -> [Double]
    /// The prior's correlations between the two modalities' latents (singular values of its cross
    /// block); nil for a shared latent.
    func priorCorrelations() throws -> [Double]?
}

/// Standard normals for a chunk of evaluated rows, keyed by (seed, stream, the row's position in the
/// evaluated set), so every number is the same whatever the chunking.
public struct EvaluationNoise {
    public let seed: UInt64
    /// Positions of the chunk's rows in the evaluated set.
    public let indices: [Int]

    public init(seed: UInt64, indices: [Int]) {
        self.seed = seed
        self.indices = indices
    }

    public var rows: Int { indices.count }

    public func normals(cols: Int, stream: Int) -> Matrix {
        var m = Matrix(rows: indices.count, cols: cols)
        m.storage.withUnsafeMutableBufferPointer { p in
            for (r, index) in indices.enumerated() {
                var rng = random(index, stream)
                rng.fillNormal(p.baseAddress! + r * cols, count: cols)
            }
        }
        return m
    }

    /// One uniform draw in (0, 1) per row, from the same streams as `normals` (sub-sequence `stream`).
    public func uniforms(stream: Int) -> [Float] {
        indices.map { index in
            var rng = random(index, stream)
            return rng.nextUniform()
        }
    }

    /// A whole number in 0..<n per row (sub-sequence `stream`).
    public func choices(below n: Int, stream: Int) -> [Int] {
        indices.map { index in
            var rng = random(index, stream)
            return rng.nextInt(below: n)
        }
    }

    /// Row `index`'s sub-sequence `stream`. Epoch 0xC0 keeps these streams apart from the importance
    /// sampler's and MixtureSampler's.
    func random(_ index: Int, _ stream: Int) -> RandomStream {
        RandomStream(seed: seed, stream: RandomPurpose.evaluation.stream(epoch: 0xC0, index: index), block: UInt64(stream) << 32)
    }
}

/// −log (1/N Σ_n e^{w_n}) for each row's log-weights w (log-mean-exp, stable).
func negativeLogMeanExp(_ weights: [Double]) -> Double {
    let top = weights.max()!
    return -(top + Foundation.log(weights.reduce(0) { $0 + Foundation.exp($1 - top) } / Double(weights.count)))
}
