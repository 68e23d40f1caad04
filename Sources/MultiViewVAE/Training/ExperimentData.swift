/// The train / validation / test subsets a configuration describes.
public struct ExperimentData {
    public let splits: DataSplits
    /// Names of the views, in order.
    public let viewNames: [String]
    /// Height and width of each view when the views are image blocks (for PNG grids).
    public let imageShapes: [(height: Int, width: Int)]?
    /// The simulation behind `linear-gaussian` data: true parameters and latents.
    public let simulation: LinearGaussianData?

    public var train: DataSubset { splits.train }
    public var validation: DataSubset { splits.validation }
    public var test: DataSubset { splits.test }
    public var dimensions: [Int] { splits.train.dataset.dimensions }

    public init(config: DataConfig, seed: UInt64) throws {
        switch config.source {
        case .fashionMNIST:
            let layout = config.imageViews.layout
            let train = try FashionMNIST.dataset(.train, layout: layout, binarizeAbove: config.binarize, directory: config.directory)
            let test = try FashionMNIST.dataset(.test, layout: layout, binarizeAbove: config.binarize, directory: config.directory)
            var splits = try DataSplits(train: train, test: test, validation: .count(config.validationSize), seed: seed)
            splits = splits.limited(train: config.trainLimit, test: config.testLimit)
            self.splits = splits
            viewNames = layout.viewNames
            imageShapes = config.imageViews == .quadrants ? Array(repeating: (14, 14), count: 4)
                : config.imageViews == .topBottom ? [(14, 28), (14, 28)] : [(28, 14), (28, 14)]
            simulation = nil
        case .npy:
            let dataset = try MultiViewDataset(npyViews: config.views, labelsPath: config.labels, maskPath: config.mask)
            splits = try DataSplits(dataset: dataset, validation: .fraction(config.validationFraction),
                                    test: .fraction(config.testFraction), seed: seed)
                .limited(train: config.trainLimit, test: config.testLimit)
            viewNames = dataset.names
            imageShapes = nil
            simulation = nil
        case .linearGaussian:
            let sim = try LinearGaussianData(.init(modalityCount: config.modalities, latentDimension: config.latentDimension,
                                                   dimensions: config.dimensions, sampleCount: config.samples,
                                                   noiseVariance: config.noiseVariance, seed: config.dataSeed))
            splits = try DataSplits(dataset: sim.dataset, validation: .fraction(config.validationFraction),
                                    test: .fraction(config.testFraction), seed: seed)
                .limited(train: config.trainLimit, test: config.testLimit)
            viewNames = sim.dataset.names
            imageShapes = nil
            simulation = sim
        }
    }
}

extension DataConfig.ImageViews {
    var layout: ImageViewLayout {
        switch self {
        case .topBottom: return .topBottom
        case .leftRight: return .leftRight
        case .quadrants: return .quadrants
        }
    }
}

extension DataSplits {
    /// The first `train` training rows and `test` test rows (0 keeps all).
    func limited(train trainLimit: Int, test testLimit: Int) -> DataSplits {
        func cut(_ s: DataSubset, _ n: Int) -> DataSubset {
            n > 0 && n < s.count ? DataSubset(dataset: s.dataset, indices: Array(s.indices.prefix(n))) : s
        }
        return DataSplits(train: cut(train, trainLimit), validation: validation, test: cut(test, testLimit))
    }
}
