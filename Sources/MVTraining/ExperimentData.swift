import MVIO
import MVConfig
import MVData

/// The train / validation / test subsets a configuration describes.
public struct ExperimentData {
    public let splits: DataSplits
    /// Names of the views, in order.
    public let viewNames: [String]
    /// Height and width of each view when the views are images (for PNG grids).
    public let imageSizes: [ViewShapes.ImageSize]?
    /// With `data.missingRate`: the test rows with every view the data itself has (the simulated drops
    /// undone), so imputations of dropped views can be compared with the truth. Nil otherwise.
    public let unmaskedTest: DataSubset?
    /// Views cut from one image: its size and the cut (for PNG grids).
    public let imageCut: ViewShapes.ImageCut?
    /// The simulation behind `linear-gaussian` data: true parameters and latents.
    public let simulation: LinearGaussianData?
    /// The CoVAE paper's synthetic pairs behind `correlated` data: latents and ground-truth correlation.
    public let pairs: CorrelatedPairs?

    public var train: DataSubset { splits.train }
    public var validation: DataSubset { splits.validation }
    public var test: DataSubset { splits.test }
    public var dimensions: [Int] { splits.train.dataset.dimensions }
    /// What a checkpoint records of the data: the views' names and sizes, and their image shapes.
    public var shapes: ViewShapes { ViewShapes(names: viewNames, dimensions: dimensions, images: imageSizes, cut: imageCut) }

    public init(config: DataConfig, seed: UInt64) throws {
        switch config.source {
        case .fashionMNIST:
            let layout = config.imageViews.layout
            let fullTrain = try FashionMNIST.dataset(.train, layout: layout, binarizeAbove: config.binarize, directory: config.directory)
            let fullTest = try FashionMNIST.dataset(.test, layout: layout, binarizeAbove: config.binarize, directory: config.directory)
            // The two files draw their masks from different parts of the stream (part 0 = train, 1 = test).
            let train = try Self.dropViews(fullTrain, config: config, seed: seed, part: 0)
            let test = try Self.dropViews(fullTest, config: config, seed: seed, part: 1)
            var splits = try DataSplits(train: train, test: test, validation: .count(config.validationSize), seed: seed)
            splits = splits.limited(train: config.trainLimit, test: config.testLimit)
            self.splits = splits
            viewNames = layout.viewNames
            let cut = ViewShapes.ImageCut(height: FashionMNIST.height, width: FashionMNIST.width, layout: layout)
            imageSizes = layout.blockSizes(height: cut.height, width: cut.width)
            imageCut = cut
            unmaskedTest = config.missingRate > 0 ? DataSubset(dataset: fullTest, indices: splits.test.indices) : nil
            simulation = nil
            pairs = nil
        case .polyFashion:
            let train = try PolyFashion.dataset(
                FashionMNIST.load(.train, directory: config.directory), modalities: config.modalities, seed: config.dataSeed, part: 0)
            let test = try PolyFashion.dataset(
                FashionMNIST.load(.test, directory: config.directory), modalities: config.modalities, seed: config.dataSeed, part: 1)
            let (droppedTrain, droppedTest) = (
                try Self.dropViews(train, config: config, seed: seed, part: 0),
                try Self.dropViews(test, config: config, seed: seed, part: 1)
            )
            let splits = try DataSplits(train: droppedTrain, test: droppedTest, validation: .count(config.validationSize), seed: seed)
                .limited(train: config.trainLimit, test: config.testLimit)
            self.splits = splits
            viewNames = train.names
            imageSizes = Array(
                repeating: ViewShapes.ImageSize(height: FashionMNIST.height, width: FashionMNIST.width, channels: 3),
                count: config.modalities)
            imageCut = nil
            unmaskedTest = config.missingRate > 0 ? DataSubset(dataset: test, indices: splits.test.indices) : nil
            simulation = nil
            pairs = nil
        case .npy:
            let full = try MultiViewDataset(npyViews: config.views, labelsPath: config.labels, maskPath: config.mask)
            (splits, unmaskedTest) = try Self.fractionSplits(full, config: config, seed: seed)
            viewNames = full.names
            imageSizes = nil
            imageCut = nil
            simulation = nil
            pairs = nil
        case .anndata, .mudata:
            let full =
                config.source == .anndata
                ? try MultiViewDataset(annData: config.file ?? "", views: config.views, labels: config.labels)
                : try MultiViewDataset(muData: config.file ?? "", views: config.views, labels: config.labels)
            (splits, unmaskedTest) = try Self.fractionSplits(full, config: config, seed: seed)
            viewNames = full.names
            imageSizes = nil
            imageCut = nil
            simulation = nil
            pairs = nil
        case .linearGaussian:
            let sim = try LinearGaussianData(
                .init(
                    modalityCount: config.modalities, latentDimension: config.latentDimension,
                    dimensions: config.dimensions, sampleCount: config.samples,
                    noiseVariance: config.noiseVariance, seed: config.dataSeed))
            (splits, unmaskedTest) = try Self.fractionSplits(sim.dataset, config: config, seed: seed)
            viewNames = sim.dataset.names
            imageSizes = nil
            imageCut = nil
            simulation = sim
            pairs = nil
        case .correlated:
            let decoder = try TrainedImageDecoder(run: config.generator ?? "")
            guard decoder.latent == config.latentDimension else {
                throw DataError.badGenerator(
                    run: decoder.run,
                    reason: "its latent has \(decoder.latent) dimensions, data.latentDimension is \(config.latentDimension)")
            }
            let generated = try CorrelatedPairs(
                .init(
                    correlation: config.correlation, latentDimension: config.latentDimension,
                    sampleCount: config.samples, seed: config.dataSeed)
            ) { z in
                var images = decoder.images(z)
                if let t = config.binarize { for i in 0..<images.storage.count { images.storage[i] = images.storage[i] > t ? 1 : 0 } }
                return images
            }
            (splits, unmaskedTest) = try Self.fractionSplits(generated.dataset, config: config, seed: seed)
            viewNames = generated.dataset.names
            imageSizes = Array(repeating: ViewShapes.ImageSize(height: decoder.height, width: decoder.width), count: 2)
            imageCut = nil
            simulation = nil
            pairs = generated
        }
    }
}

extension ExperimentData {
    /// Splits by `data.validationFraction` / `testFraction` (npy and simulated data) of `full` with
    /// `data.missingRate` of its views dropped, limited by `trainLimit` / `testLimit`; with drops, also
    /// the test rows as `full` has them.
    static func fractionSplits(_ full: MultiViewDataset, config: DataConfig, seed: UInt64) throws -> (DataSplits, DataSubset?) {
        let dataset = try dropViews(full, config: config, seed: seed, part: 0)
        let splits = try DataSplits(
            dataset: dataset, validation: .fraction(config.validationFraction),
            test: .fraction(config.testFraction), seed: seed
        )
        .limited(train: config.trainLimit, test: config.testLimit)
        return (splits, config.missingRate > 0 ? DataSubset(dataset: full, indices: splits.test.indices) : nil)
    }

    /// `dataset` with a share `data.missingRate` of its views dropped at random (on top of its own mask).
    static func dropViews(_ dataset: MultiViewDataset, config: DataConfig, seed: UInt64, part: Int) throws -> MultiViewDataset {
        guard config.missingRate > 0 else { return dataset }
        let mask = try MissingAtRandom.mask(
            rows: dataset.count, views: dataset.viewCount, rate: config.missingRate, seed: seed,
            part: part, explicit: dataset.mask)
        return try dataset.replacingMask(mask)
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
