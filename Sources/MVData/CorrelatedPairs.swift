import Foundation
import MVCore
import MVIO

/// The CoVAE paper's synthetic pairs with a controlled correlation (§3.1, Eq. 5):
///
///     z = (z₁, z₂) ~ N(0, Σ),  Σ = [[I_d, ρ I_d], [ρ I_d, I_d]],   x_k = g(z_k)
///
/// with g a decoder trained on images (`TrainedImageDecoder`), the same for both modalities, applied to
/// each half of z. The paper does not link classes across the pair, and neither does this. A draw of Eq. 5
/// is z₁ = ε₁, z₂ = ρ ε₁ + √(1 − ρ²) ε₂ with ε₁, ε₂ ~ N(0, I) from their own streams of `seed`, so the data
/// is a pure function of (ρ, d, n, seed, generator) and row i does not depend on n.
///
/// The ground truth a model's learnt correlation is compared with is the mean canonical correlation of
/// the generating latents (App. B.1), measured on all n rows: ≈ ρ up to sampling error.
public struct CorrelatedPairs {
    public struct Configuration: Equatable {
        public var correlation: Double
        public var latentDimension: Int
        public var sampleCount: Int
        public var seed: UInt64

        public init(correlation: Double, latentDimension: Int = 10, sampleCount: Int = 25_000, seed: UInt64 = 0) {
            self.correlation = correlation
            self.latentDimension = latentDimension
            self.sampleCount = sampleCount
            self.seed = seed
        }
    }

    public let configuration: Configuration
    /// The two modalities ("first", "second"), in memory.
    public let dataset: MultiViewDataset
    /// z₁ and z₂ (n × d each): row i generated sample i.
    public let latents: (first: Matrix, second: Matrix)
    /// Mean canonical correlation of (z₁, z₂) over all rows.
    public let groundTruthCorrelation: Double

    /// `generator` maps latents (rows × d) to one modality's features (rows × p).
    public init(_ c: Configuration, generator: (Matrix) throws -> Matrix) throws {
        guard c.correlation >= 0, c.correlation < 1 else {
            throw DataError.badSplit(reason: "data.correlation must be in [0, 1), got \(c.correlation)")
        }
        guard c.latentDimension >= 1, c.sampleCount >= 2 else {
            throw DataError.badSplit(reason: "correlated data needs a latent dimension ≥ 1 and at least 2 samples")
        }
        let n = c.sampleCount, d = c.latentDimension
        func normals(_ stream: UInt64) -> Matrix {
            var m = Matrix(rows: n, cols: d)
            m.storage.withUnsafeMutableBufferPointer { p in
                for r in 0..<n {
                    // One stream per row: row i is the same whatever n is.
                    var rng = RandomStream(seed: c.seed, stream: (0x434F << 48) | (stream << 40) | UInt64(r))
                    rng.fillNormal(p.baseAddress! + r * d, count: d)
                }
            }
            return m
        }
        let e1 = normals(1), e2 = normals(2)
        var z2 = Matrix(rows: n, cols: d)
        let rho = Float(c.correlation), rest = Float((1 - c.correlation * c.correlation).squareRoot())
        for i in 0..<z2.storage.count { z2.storage[i] = rho * e1.storage[i] + rest * e2.storage[i] }
        configuration = c
        latents = (e1, z2)
        let r = try CanonicalCorrelationAnalysis(fitting: e1, z2).correlations
        groundTruthCorrelation = r.reduce(0, +) / Double(r.count)
        dataset = try MultiViewDataset(views: [.matrix(try generator(e1)), .matrix(try generator(z2))], names: ["first", "second"])
    }
}
