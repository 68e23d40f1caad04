import Foundation
import MVIO

/// Fashion-MNIST (Xiao et al. 2017): 60 000 training and 10 000 test images of 28×28 pixels in ten
/// clothing classes, stored as gzip-compressed IDX files (Debian package `dataset-fashion-mnist`).
public enum FashionMNIST {
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    public static let height = 28
    public static let width = 28
    public static let classNames = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]

    public enum Part: String, Sendable {
        case train
        case test

        var filePrefix: String { self == .train ? "train" : "t10k" }
        public var imagesFile: String { "\(filePrefix)-images-idx3-ubyte.gz" }
        public var labelsFile: String { "\(filePrefix)-labels-idx1-ubyte.gz" }
    }

    /// Loads one part from `directory`. Uncompressed copies (the names without ".gz") are used when the
    /// compressed files are absent. Labels are checked to be class indices 0–9.
    public static func load(_ part: Part, directory: String = defaultDirectory) throws -> LabeledImages {
        let imagesPath = locate(part.imagesFile, in: directory)
        let labelsPath = locate(part.labelsFile, in: directory)
        let images = try LabeledImages.loadIDX(images: imagesPath, labels: labelsPath)
        guard images.height == height, images.width == width else {
            throw DataError.idxUnexpectedShape(
                path: imagesPath, expected: "(n, 28, 28) for Fashion-MNIST",
                found: [images.count, images.height, images.width])
        }
        if let bad = images.labels.firstIndex(where: { $0 >= classNames.count }) {
            throw DataError.idxBadValue(
                path: labelsPath, index: bad, value: Int(images.labels[bad]),
                reason: "Fashion-MNIST labels are class indices 0–9")
        }
        return images
    }

    /// One part as a multi-view data set: pixels scaled to [0, 1] (or binarised above `threshold`),
    /// cut into views by `layout`, with labels.
    public static func dataset(
        _ part: Part, layout: ImageViewLayout = .topBottom,
        binarizeAbove threshold: Float? = nil,
        directory: String = defaultDirectory
    ) throws -> MultiViewDataset {
        try load(part, directory: directory).dataset(layout, binarizeAbove: threshold)
    }

    private static func locate(_ name: String, in directory: String) -> String {
        let compressed = (directory as NSString).appendingPathComponent(name)
        let raw = String(compressed.dropLast(3))
        let fm = FileManager.default
        return !fm.fileExists(atPath: compressed) && fm.fileExists(atPath: raw) ? raw : compressed
    }
}
