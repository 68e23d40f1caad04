/// How an image is cut into views. Each view is a block of pixels stored row-major within the block.
///
/// For an h×w image the cut is at row h/2 and column w/2 (rounded down), so for 28×28 the top half is
/// rows 0–13 and the bottom half rows 14–27 (392 pixels each); quadrants are 14×14 = 196 pixels.
public enum ImageViewLayout: String, Codable, Sendable, CaseIterable {
    /// One view: the whole image.
    case whole
    /// Two views: top half, bottom half (the JPVAE experiments).
    case topBottom
    /// Two views: left half, right half.
    case leftRight
    /// Four views: top-left, top-right, bottom-left, bottom-right.
    case quadrants

    public var viewNames: [String] {
        switch self {
        case .whole: return ["image"]
        case .topBottom: return ["top", "bottom"]
        case .leftRight: return ["left", "right"]
        case .quadrants: return ["topLeft", "topRight", "bottomLeft", "bottomRight"]
        }
    }

    /// For each view, the flat pixel indices (r * width + c) it takes from the image, in view order.
    public func pixelIndices(height: Int, width: Int) -> [[Int]] {
        blocks(height: height, width: width).map { block in block.rows.flatMap { r in block.cols.map { c in r * width + c } } }
    }

    /// Each view's height and width as an image, in view order.
    public func blockSizes(height: Int, width: Int) -> [ViewShapes.ImageSize] {
        blocks(height: height, width: width).map { .init(height: $0.rows.count, width: $0.cols.count) }
    }

    /// The rows and columns of each view's block, in view order: the cut is at row h/2 and column w/2.
    private func blocks(height: Int, width: Int) -> [(rows: Range<Int>, cols: Range<Int>)] {
        let h2 = height / 2, w2 = width / 2
        let top = 0..<h2, bottom = h2..<height, left = 0..<w2, right = w2..<width, all = 0..<width
        switch self {
        case .whole: return [(0..<height, all)]
        case .topBottom: return [(top, all), (bottom, all)]
        case .leftRight: return [(0..<height, left), (0..<height, right)]
        case .quadrants: return [(top, left), (top, right), (bottom, left), (bottom, right)]
        }
    }
}
