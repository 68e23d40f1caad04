/// What a trained model knows of its data without reading it: each view's name and width and, for
/// image views, their size and how they were cut from one image. Checkpoints record it, so `encode`
/// and `impute` with `--input` need no data set, and PNG grids need no knowledge of where the data came from.
public struct ViewShapes: Codable, Equatable, Sendable {
    /// An image view's size; its values are stored row by row, each pixel's channels side by side.
    public struct ImageSize: Codable, Equatable, Sendable {
        public var height: Int
        public var width: Int
        public var channels: Int

        public init(height: Int, width: Int, channels: Int = 1) {
            self.height = height
            self.width = width
            self.channels = channels
        }

        enum CodingKeys: String, CodingKey { case height, width, channels }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            height = try c.decode(Int.self, forKey: .height)
            width = try c.decode(Int.self, forKey: .width)
            // Checkpoints written before colour images hold grey ones.
            channels = try c.decodeIfPresent(Int.self, forKey: .channels) ?? 1
        }

        public var values: Int { height * width * channels }
    }

    /// Views cut from one image (Fashion-MNIST halves or quadrants): the image's size and the cut.
    public struct ImageCut: Codable, Equatable, Sendable {
        public var height: Int
        public var width: Int
        public var layout: ImageViewLayout

        public init(height: Int, width: Int, layout: ImageViewLayout) {
            self.height = height
            self.width = width
            self.layout = layout
        }

        /// Each view's flat pixel indices in the whole image.
        public var pixels: [[Int]] { layout.pixelIndices(height: height, width: width) }
    }

    public var names: [String]
    public var dimensions: [Int]
    /// Each view's size as an image; nil when the views are not images.
    public var images: [ImageSize]?
    /// Set when the views are blocks of one image.
    public var cut: ImageCut?

    public init(names: [String], dimensions: [Int], images: [ImageSize]? = nil, cut: ImageCut? = nil) {
        self.names = names
        self.dimensions = dimensions
        self.images = images
        self.cut = cut
    }

    /// The problem with a record read from a file, or nil when it is consistent.
    public var problem: String? {
        guard names.count == dimensions.count, !dimensions.isEmpty else {
            return "\(names.count) view name(s) for \(dimensions.count) view width(s)"
        }
        if let bad = dimensions.first(where: { $0 < 1 }) { return "a view of \(bad) features" }
        if let images {
            guard images.count == dimensions.count else { return "\(images.count) image size(s) for \(dimensions.count) view(s)" }
            for (i, s) in images.enumerated() where s.height < 1 || s.width < 1 || s.channels < 1 || s.values != dimensions[i] {
                return "view \(i + 1) is \(dimensions[i]) features, not an image of \(s.height)×\(s.width)×\(s.channels)"
            }
        }
        if let cut {
            guard cut.height >= 2, cut.width >= 2, cut.height <= 1 << 15, cut.width <= 1 << 15 else {
                return "an image of \(cut.height)×\(cut.width) cannot be cut into views"
            }
            let sizes = cut.layout.blockSizes(height: cut.height, width: cut.width)
            guard sizes.count == dimensions.count, zip(sizes, dimensions).allSatisfy({ $0.height * $0.width == $1 }) else {
                return
                    "the cut '\(cut.layout.rawValue)' of a \(cut.height)×\(cut.width) image does not give views of \(dimensions) features"
            }
        }
        return nil
    }
}
