import Foundation
import MVCore

/// Simulated multi-modal linear-Gaussian data with known parameters: the simulation of the
/// permutation-invariant aggregation paper (§5.1 "Simulation study", App. J "Data generation"),
/// following the authors' `gaussian_simulations.py`.
///
/// For modalities s = 0, …, K−1 with dimensions d_s:
///
///     A_s ∈ R^{d_s × c}, entries iid U(−1, 1);   A_s = Q_s R_s (thin QR, R_s with positive diagonal)
///     W_s = Q_s  (orthonormal columns: W_sᵀ W_s = I, unscaled)
///     b_s ∈ R^{d_s}, entries iid N(0, 1)
///     z_i ~ N(0, I_{d_z}),   x_{s,i} = W_s z_i + b_s + σ ε_{s,i},   ε_{s,i} ~ N(0, I),   i = 1…n
///
/// with c = d_z in the shared-latent setting. `privateLatents` gives the paper's "equivariant"
/// setting instead: z = (z_0^priv, …, z_{K−1}^priv, z^shared), each block of size d_z, so the total
/// latent dimension is d_z (K+1); Q_s comes from a d_s × 2d_z matrix A_s, its first d_z columns load
/// the private block s and its last d_z columns the shared block, and all other blocks of W_s are zero.
///
/// The paper's App. J takes "the orthonormal matrix from a QR algorithm applied to a matrix with
/// elements sampled iid from U(−1, 1)", which the authors' code computes per modality as
/// `np.linalg.qr(A_s)[0]` (LAPACK Householder QR). Here Q_s is the same LAPACK factor with the sign of
/// each column fixed so that diag(R_s) > 0 — the unique Gram–Schmidt orthonormalisation of A_s's
/// columns; numpy leaves those signs to the Householder convention, which changes nothing in law.
/// Defaults are the authors' code and App. J: K = 5, d_s drawn uniformly from [30, 60), d_z = 5
/// (their `latent_dim` default), σ² = 1, n = 5000.
///
/// Everything is a pure function of the seed; each quantity has its own `RandomStream` (dimensions,
/// A_s, b_s, z, ε_s), so the parameters do not depend on n, and the first rows of z and x do not
/// depend on n either.
public struct LinearGaussianData: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// K.
        public var modalityCount: Int = 5
        /// d_z: the shared latent dimension (also the size of each private block).
        public var latentDimension: Int = 5
        /// d_s of each modality; nil draws each uniformly from `dimensionRange`.
        public var dimensions: [Int]? = nil
        /// Where drawn dimensions come from (half-open).
        public var dimensionRange: Range<Int> = 30..<60
        /// n.
        public var sampleCount: Int = 5000
        /// σ².
        public var noiseVariance: Double = 1
        /// Private latent blocks per modality in addition to the shared block (see the type's comment).
        public var privateLatents: Bool = false
        public var seed: UInt64 = 0

        public init(
            modalityCount: Int = 5, latentDimension: Int = 5, dimensions: [Int]? = nil,
            dimensionRange: Range<Int> = 30..<60, sampleCount: Int = 5000, noiseVariance: Double = 1,
            privateLatents: Bool = false, seed: UInt64 = 0
        ) {
            self.modalityCount = modalityCount
            self.latentDimension = latentDimension
            self.dimensions = dimensions
            self.dimensionRange = dimensionRange
            self.sampleCount = sampleCount
            self.noiseVariance = noiseVariance
            self.privateLatents = privateLatents
            self.seed = seed
        }

        /// Columns of A_s: d_z, or 2 d_z with private latents.
        var qrColumns: Int { privateLatents ? 2 * latentDimension : latentDimension }

        /// Total latent dimension: d_z, or d_z (K+1) with private latents.
        public var totalLatentDimension: Int { privateLatents ? latentDimension * (modalityCount + 1) : latentDimension }
    }

    /// A configuration the generator cannot realise.
    public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
        case invalid(String)

        public var description: String {
            switch self {
            case .invalid(let reason): return "linear-Gaussian data: \(reason)"
            }
        }
    }

    public let configuration: Configuration
    /// One in-memory view per modality, named "view1", "view2", …; no labels, no mask.
    public let dataset: MultiViewDataset
    /// The true parameters: W_s, b_s and Ψ_s = σ² I.
    public let model: LinearGaussianModel
    /// The true latents z (n × total latent dimension), row i generating sample i.
    public let latents: Matrix

    /// d_s of each modality.
    public var dimensions: [Int] { model.dimensions }

    /// The views as matrices (n × d_s each), shared with `dataset` (no copy).
    public var views: [Matrix] {
        dataset.views.map { view -> Matrix in
            guard case .matrix(let m) = view else { preconditionFailure("linear-Gaussian views are in memory") }
            return m
        }
    }

    public init(_ configuration: Configuration = Configuration()) throws {
        let c = configuration
        func require(_ ok: Bool, _ reason: @autoclosure () -> String) throws {
            if !ok { throw ConfigurationError.invalid(reason()) }
        }
        try require(c.modalityCount >= 1, "needs at least one modality, got \(c.modalityCount)")
        try require(c.latentDimension >= 1, "latent dimension must be positive, got \(c.latentDimension)")
        try require(c.sampleCount >= 1, "needs at least one sample, got \(c.sampleCount)")
        try require(c.noiseVariance > 0 && c.noiseVariance.isFinite, "noise variance must be positive, got \(c.noiseVariance)")
        let dims: [Int]
        if let given = c.dimensions {
            try require(given.count == c.modalityCount, "\(given.count) dimensions for \(c.modalityCount) modalities")
            dims = given
        } else {
            try require(
                !c.dimensionRange.isEmpty && c.dimensionRange.lowerBound >= 1,
                "dimension range \(c.dimensionRange) is empty or not positive")
            var rng = RandomStream(seed: c.seed, stream: Self.stream(.dimensions))
            dims = (0..<c.modalityCount).map { _ in c.dimensionRange.lowerBound + rng.nextInt(below: c.dimensionRange.count) }
        }
        for (s, d) in dims.enumerated() {
            try require(d >= c.qrColumns, "modality \(s) has d_s = \(d) < \(c.qrColumns), too few rows for orthonormal loadings")
        }

        let total = c.totalLatentDimension
        var loadings: [Matrix] = []
        var biases: [[Float]] = []
        for (s, d) in dims.enumerated() {
            let q = Self.uniformMatrix(seed: c.seed, modality: s, rows: d, cols: c.qrColumns).thinQR().q
            var w = Matrix(rows: d, cols: total)
            for i in 0..<d {
                if c.privateLatents {
                    let dz = c.latentDimension
                    for k in 0..<dz {
                        w[i, s * dz + k] = Float(q[i, k])
                        w[i, c.modalityCount * dz + k] = Float(q[i, dz + k])
                    }
                } else {
                    for k in 0..<total { w[i, k] = Float(q[i, k]) }
                }
            }
            loadings.append(w)
            var rng = RandomStream(seed: c.seed, stream: Self.stream(.bias, s))
            biases.append((0..<d).map { _ in rng.nextNormal() })
        }

        let n = c.sampleCount
        var z = Matrix(rows: n, cols: total)
        var zRNG = RandomStream(seed: c.seed, stream: Self.stream(.latents))
        for i in 0..<z.storage.count { z.storage[i] = zRNG.nextNormal() }

        let sigma = Float(c.noiseVariance.squareRoot())
        var views: [ViewSource] = []
        for s in dims.indices {
            var x = z.matmul(loadings[s], transposeOther: true)  // n × d_s: row i is (W_s z_i)ᵀ
            var rng = RandomStream(seed: c.seed, stream: Self.stream(.noise, s))
            let d = dims[s]
            for i in 0..<n {
                for j in 0..<d { x.storage[i * d + j] += biases[s][j] + sigma * rng.nextNormal() }
            }
            views.append(.matrix(x))
        }

        self.configuration = c
        self.model = LinearGaussianModel(loadings: loadings, biases: biases, noiseVariance: c.noiseVariance)
        self.latents = z
        self.dataset = try MultiViewDataset(views: views, names: dims.indices.map { "view\($0 + 1)" })
    }

    // MARK: Randomness

    enum Draw: UInt64 {
        case dimensions = 1, loadings = 2, bias = 3, latents = 4, noise = 5
    }

    /// The stream of one kind of draw (for one modality): tag "LG" in the top 16 bits, the kind in the
    /// next 16, the modality in the low 32 — disjoint from `RandomPurpose`'s streams.
    static func stream(_ draw: Draw, _ modality: Int = 0) -> UInt64 {
        (0x4C47 << 48) | (draw.rawValue << 32) | UInt64(UInt32(truncatingIfNeeded: modality))
    }

    /// A_s: a rows × cols matrix of iid U(−1, 1) entries, row-major from the modality's stream.
    static func uniformMatrix(seed: UInt64, modality: Int, rows: Int, cols: Int) -> DoubleMatrix {
        var rng = RandomStream(seed: seed, stream: stream(.loadings, modality))
        var a = DoubleMatrix(rows: rows, cols: cols)
        for i in 0..<a.storage.count { a.storage[i] = 2 * Double(rng.nextUniform()) - 1 }
        return a
    }
}
