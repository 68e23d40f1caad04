/// Where the views come from and how the rows are split.
public struct DataConfig: Codable, Equatable {
    public enum Source: String, ConfigChoice, Equatable {
        case fashionMNIST = "fashion-mnist", npy, linearGaussian = "linear-gaussian", correlated
        /// PolyMNIST's construction on Fashion-MNIST: `modalities` colour images of one class (`PolyFashion`).
        case polyFashion = "polyfashion"
        /// An AnnData file (`.h5ad`): `views` are 2-D arrays in it (`X`, `layers/<name>`, `obsm/<name>`).
        case anndata
        /// A MuData file (`.h5mu`): `views` are modalities (`rna`) or their arrays (`rna/layers/counts`).
        case mudata
    }
    /// How a 28×28 image becomes views.
    public enum ImageViews: String, ConfigChoice, Equatable {
        case topBottom = "top-bottom", leftRight = "left-right", quadrants
        public var count: Int { self == .quadrants ? 4 : 2 }
    }

    public var source: Source
    /// Fashion-MNIST: the folder holding the four gzip IDX files.
    public var directory: String
    /// Fashion-MNIST: how images are cut into views.
    public var imageViews: ImageViews
    /// Pixels above this value (after scaling to [0, 1]) become 1, the rest 0; absent keeps grey levels.
    public var binarize: Float?
    /// npy: one file per view (.npy, or a .csv/.tsv table), rows aligned; anndata: the arrays in `file` (`X`, `layers/counts`, `obsm/…`).
    public var views: [String]
    /// npy: optional integer labels, one per row; anndata: an `obs` column (`obs/cell_type`).
    public var labels: String?
    /// anndata: the `.h5ad` file.
    public var file: String?
    /// npy: optional rows × views mask, 1 where the view is observed.
    public var mask: String?
    /// Rows held out of training for validation (Fashion-MNIST: from the 60 000 training images).
    public var validationSize: Int
    /// npy: fraction of rows held out for validation and for test.
    public var validationFraction: Double
    public var testFraction: Double
    /// Share of views to drop at random from every split (missing completely at random, seeded by
    /// `seed`; each row keeps at least one view; combined with `mask` when one is given). 0 = none.
    public var missingRate: Double
    /// Use only the first N training rows (after the split); handy for quick runs. 0 = all.
    public var trainLimit: Int
    /// Use only the first N test rows; 0 = all.
    public var testLimit: Int
    /// linear-gaussian: the simulation of the aggregation paper's App. J (x_s = W_s z + b_s + σε).
    public var modalities: Int
    public var latentDimension: Int
    public var samples: Int
    public var noiseVariance: Double
    /// linear-gaussian: per-modality dimensions; absent draws each from [30, 60).
    public var dimensions: [Int]?
    /// linear-gaussian and correlated: seed of the simulated parameters and data (independent of the training seed).
    public var dataSeed: UInt64
    /// correlated: ρ of Eq. 5 in the CoVAE paper (latentDimension is d per modality, samples the pairs).
    public var correlation: Double
    /// correlated: the run whose decoders turn each half of z into an image (`TrainedImageDecoder`).
    public var generator: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case source, directory, imageViews, binarize, views, labels, mask, validationSize, validationFraction
        case testFraction, missingRate, trainLimit, testLimit, modalities, latentDimension, samples, noiseVariance, dimensions, dataSeed
        case correlation, generator, file
    }

    public static let fashionDirectory = "/usr/share/datasets/fashion-mnist"

    static func defaults() throws -> DataConfig { try decodeDefaults(DataConfig.self) }

    public init(from decoder: Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        source = try c.value(.source, default: .fashionMNIST)
        directory = try c.value(.directory, default: Self.fashionDirectory)
        imageViews = try c.value(.imageViews, default: .topBottom)
        binarize = try c.decodeIfPresent(Float.self, forKey: .binarize)
        views = try c.value(.views, default: [])
        labels = try c.decodeIfPresent(String.self, forKey: .labels)
        mask = try c.decodeIfPresent(String.self, forKey: .mask)
        validationSize = try c.value(.validationSize, default: 10_000)
        // The CoVAE paper's synthetic sets: 20 000 training and 5 000 test pairs, d = 10.
        let correlated = source == .correlated
        validationFraction = try c.value(.validationFraction, default: correlated ? 0 : 0.1)
        testFraction = try c.value(.testFraction, default: correlated ? 0.2 : 0.1)
        missingRate = try c.value(.missingRate, default: 0)
        trainLimit = try c.value(.trainLimit, default: 0)
        testLimit = try c.value(.testLimit, default: 0)
        modalities = try c.value(.modalities, default: 5)
        latentDimension = try c.value(.latentDimension, default: correlated ? 10 : 5)
        samples = try c.value(.samples, default: correlated ? 25_000 : 5000)
        noiseVariance = try c.value(.noiseVariance, default: 1)
        dimensions = try c.decodeIfPresent([Int].self, forKey: .dimensions)
        dataSeed = try c.value(.dataSeed, default: 0)
        correlation = try c.value(.correlation, default: 0.6)
        generator = try c.decodeIfPresent(String.self, forKey: .generator)
        file = try c.decodeIfPresent(String.self, forKey: .file)
        if correlated {
            if generator == nil {
                throw c.invalid(
                    .generator, "correlated data needs the run of a trained image decoder, e.g. one of configs/fashion-generator.yaml")
            }
            if !(correlation >= 0 && correlation < 1) { throw c.invalid(.correlation, "must be in [0, 1), got \(correlation)") }
            if latentDimension < 1 { throw c.invalid(.latentDimension, "must be ≥ 1") }
            if samples < 10 { throw c.invalid(.samples, "must be ≥ 10") }
        }
        if source == .polyFashion && !(2...16).contains(modalities) {
            throw c.invalid(.modalities, "polyfashion makes 2 to 16 modalities, got \(modalities)")
        }
        if source == .linearGaussian {
            if modalities < 2 { throw c.invalid(.modalities, "needs at least 2") }
            if latentDimension < 1 { throw c.invalid(.latentDimension, "must be ≥ 1") }
            if samples < 10 { throw c.invalid(.samples, "must be ≥ 10") }
            if !(noiseVariance > 0) { throw c.invalid(.noiseVariance, "must be > 0") }
            if let d = dimensions, d.count != modalities || d.contains(where: { $0 < 1 }) {
                throw c.invalid(.dimensions, "give one positive size per modality (\(modalities))")
            }
        }
        if let b = binarize, !(b >= 0 && b < 1) { throw c.invalid(.binarize, "threshold must be in [0, 1), got \(b)") }
        if source == .npy && views.count < 2 { throw c.invalid(.views, "npy data needs at least two view files, got \(views.count)") }
        if source == .anndata || source == .mudata {
            let kind =
                source == .anndata ? "anndata data needs the .h5ad file, e.g. data.file: pbmc.h5ad" : "mudata data needs the .h5mu file"
            if file == nil { throw c.invalid(.file, kind) }
            if views.count < 2 {
                throw c.invalid(
                    .views,
                    source == .anndata
                        ? "anndata data needs at least two arrays of the file as views, e.g. [X, obsm/protein_expression]"
                        : "mudata data needs at least two views, e.g. [rna, atac] or [rna/layers/counts, prot]")
            }
            if mask != nil { throw c.invalid(.mask, "applies to npy data") }
        }
        if file != nil && source != .anndata && source != .mudata { throw c.invalid(.file, "applies to data.source anndata and mudata") }
        if validationSize < 0 { throw c.invalid(.validationSize, "must be ≥ 0") }
        if !(validationFraction >= 0 && validationFraction < 1) { throw c.invalid(.validationFraction, "must be in [0, 1)") }
        if !(testFraction >= 0 && testFraction < 1) || validationFraction + testFraction >= 1 {
            throw c.invalid(.testFraction, "must be in [0, 1) and leave rows for training")
        }
        if !(missingRate >= 0 && missingRate < 1) {
            throw c.invalid(.missingRate, "must be a share of views in [0, 1), e.g. 0.3, got \(missingRate)")
        }
        if missingRate > 0, let k = viewCount, missingRate > DataConfig.maximumMissingRate(views: k) + 1e-12 {
            throw c.invalid(
                .missingRate,
                "with \(k) views at most \(k - 1) of \(k) per row can be missing (one is always kept): use at most "
                    + "\(DataConfig.maximumMissingRate(views: k)), got \(missingRate)"
            )
        }
        if trainLimit < 0 { throw c.invalid(.trainLimit, "must be ≥ 0") }
        if testLimit < 0 { throw c.invalid(.testLimit, "must be ≥ 0") }
    }

    /// Number of views when the config alone says it.
    public var viewCount: Int? {
        switch source {
        case .fashionMNIST: return imageViews.count
        case .npy, .anndata, .mudata: return views.count
        case .linearGaussian, .polyFashion: return modalities
        case .correlated: return 2
        }
    }
}

extension DataConfig {
    /// The largest share of dropped views (`data.missingRate`) that still leaves one view per row: (K − 1)/K.
    public static func maximumMissingRate(views k: Int) -> Double { k > 0 ? Double(k - 1) / Double(k) : 0 }
}
