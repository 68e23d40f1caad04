import CKernels
import MVCore
import MVIO
/// A stack of 8-bit grey-scale images with one class label each, as shipped in MNIST-style IDX files.
public struct LabeledImages: Sendable {
    public let count: Int
    public let height: Int
    public let width: Int
    /// `count × height × width` pixels, row-major, 0 = background.
    public let pixels: [UInt8]
    public let labels: [Int32]

    public init(count: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int32]) {
        precondition(
            pixels.count == count * height * width && labels.count == count,
            "LabeledImages: \(pixels.count) pixels / \(labels.count) labels do not fit \(count) images of \(height)x\(width)")
        self.count = count
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
    }

    /// Reads an images file (ubyte, dimensions n × h × w) and a labels file (ubyte, dimension n),
    /// each gzip-compressed or raw, and checks that they describe the same n images.
    public static func loadIDX(images imagesPath: String, labels labelsPath: String) throws -> LabeledImages {
        let images = try IDXFile.read(imagesPath)
        guard images.dataType == .uint8 else {
            throw DataError.idxBadHeader(
                path: imagesPath, offset: 2,
                reason: "element type is \(images.dataType) but image files must hold unsigned bytes (type 08)")
        }
        guard images.dimensions.count == 3 else {
            throw DataError.idxUnexpectedShape(path: imagesPath, expected: "(images, height, width)", found: images.dimensions)
        }
        let labels = try IDXFile.read(labelsPath)
        guard labels.dataType == .uint8 else {
            throw DataError.idxBadHeader(
                path: labelsPath, offset: 2,
                reason: "element type is \(labels.dataType) but label files must hold unsigned bytes (type 08)")
        }
        guard labels.dimensions.count == 1 else {
            throw DataError.idxUnexpectedShape(path: labelsPath, expected: "(labels,)", found: labels.dimensions)
        }
        let n = images.dimensions[0]
        guard labels.dimensions[0] == n else {
            throw DataError.labelsCountMismatch(source: labelsPath, count: labels.dimensions[0], expected: n)
        }
        return LabeledImages(
            count: n, height: images.dimensions[1], width: images.dimensions[2],
            pixels: images.payload, labels: labels.payload.map { Int32($0) })
    }

    /// The images cut into views by `layout`, pixels scaled to [0, 1] (value / 255); with a threshold t,
    /// binarised instead: 1 where value / 255 > t, else 0 (t = 0 keeps every non-background pixel).
    public func views(_ layout: ImageViewLayout, binarizeAbove threshold: Float? = nil) -> [Matrix] {
        // One lookup per pixel: every conversion is a function of the byte value alone.
        var table = [Float](repeating: 0, count: 256)
        for v in 0..<256 {
            let x = Float(v) / 255
            table[v] = threshold.map { x > $0 ? 1 : 0 } ?? x
        }
        let hw = height * width
        return layout.pixelIndices(height: height, width: width).map { indices in
            let d = indices.count
            var m = Matrix(rows: count, cols: d)
            guard count > 0, d > 0 else { return m }
            m.storage.withUnsafeMutableBufferPointer { out in
                pixels.withUnsafeBufferPointer { px in
                    table.withUnsafeBufferPointer { lut in
                        indices.withUnsafeBufferPointer { idx in
                            mvvae_gather_bytes_lut(px.baseAddress!, count, hw, idx.baseAddress!, d, lut.baseAddress!, out.baseAddress!)
                        }
                    }
                }
            }
            return m
        }
    }

    /// A multi-view data set of these images (views named by the layout) with their labels.
    public func dataset(_ layout: ImageViewLayout, binarizeAbove threshold: Float? = nil) throws -> MultiViewDataset {
        try MultiViewDataset(
            views: views(layout, binarizeAbove: threshold).map { .matrix($0) },
            names: layout.viewNames, labels: labels, labelsOrigin: "image labels")
    }
}
