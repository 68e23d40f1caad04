/// The shape of a 2-D convolution over images whose rows hold height × width × channels values, channels
/// last (a pixel's channels side by side, pixels row by row): a C×H×W image of the papers is stored as H×W×C.
///
/// The convolution maps an image of `height` × `width` × `inChannels` to one of `outHeight` × `outWidth` ×
/// `outChannels`, each output pixel the product of a `kernelHeight` × `kernelWidth` × `inChannels` patch
/// (zero outside the image, `padding` pixels on every side) with the weights, moving by `stride` pixels.
/// A transposed convolution with the same geometry maps the other way (its adjoint).
public struct ConvolutionGeometry: Equatable, Sendable {
    public let height: Int, width: Int, inChannels: Int
    public let outChannels: Int
    public let kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int

    public init(
        height: Int, width: Int, inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0
    ) {
        self.init(
            height: height, width: width, inChannels: inChannels, outChannels: outChannels, kernelHeight: kernel,
            kernelWidth: kernel, stride: stride, padding: padding)
    }

    public init(
        height: Int, width: Int, inChannels: Int, outChannels: Int, kernelHeight: Int, kernelWidth: Int, stride: Int,
        padding: Int
    ) {
        (self.height, self.width, self.inChannels, self.outChannels) = (height, width, inChannels, outChannels)
        (self.kernelHeight, self.kernelWidth, self.stride, self.padding) = (kernelHeight, kernelWidth, stride, padding)
    }

    public var outHeight: Int { (height + 2 * padding - kernelHeight) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelWidth) / stride + 1 }
    /// Values per input image and per output image.
    public var inputSize: Int { height * width * inChannels }
    public var outputSize: Int { outHeight * outWidth * outChannels }
    /// Values in one patch: the rows of the weight matrix (patch × outChannels).
    public var patch: Int { kernelHeight * kernelWidth * inChannels }

    /// Why these numbers make no convolution, or nil: a user's config reaches here, so the reason names them.
    public var problem: String? {
        if height < 1 || width < 1 { return "the image is \(height)×\(width) pixels" }
        if inChannels < 1 || outChannels < 1 { return "channels \(inChannels) → \(outChannels) must be at least 1" }
        if kernelHeight < 1 || kernelWidth < 1 { return "the kernel is \(kernelHeight)×\(kernelWidth)" }
        if stride < 1 { return "the stride is \(stride); it must be at least 1" }
        if padding < 0 || padding >= Swift.max(kernelHeight, kernelWidth) {
            return "the padding is \(padding); it must be at least 0 and less than the kernel (\(kernelHeight)×\(kernelWidth))"
        }
        if kernelHeight > height + 2 * padding || kernelWidth > width + 2 * padding {
            return
                "a \(kernelHeight)×\(kernelWidth) kernel is larger than the \(height)×\(width) image with padding \(padding)"
        }
        return nil
    }
}

/// im2col and col2im over a batch: the patch of every output pixel as one row of `rows · outHeight ·
/// outWidth` × `patch` columns (kernel row, kernel column, channel), zero where the patch leaves the image.
enum Patches {
    /// Copies the patches of `rows` images `x` into `col`.
    static func gather(_ x: UnsafePointer<Float>, rows: Int, _ g: ConvolutionGeometry, into col: UnsafeMutablePointer<Float>) {
        let c = g.inChannels
        visit(rows: rows, g) { patch, pixel in
            if let pixel { (col + patch).update(from: x + pixel, count: c) } else { (col + patch).update(repeating: 0, count: c) }
        }
    }

    /// Adds every patch row of `col` back onto the pixels it came from in `rows` images `x` (the adjoint of `gather`).
    static func scatterAdd(_ col: UnsafePointer<Float>, rows: Int, _ g: ConvolutionGeometry, into x: UnsafeMutablePointer<Float>) {
        let c = g.inChannels
        visit(rows: rows, g) { patch, pixel in
            guard let pixel else { return }
            for j in 0..<c { x[pixel + j] += col[patch + j] }
        }
    }

    /// Calls `body(patch, pixel)` for every kernel position of every output pixel, in `col`'s order: where
    /// its `inChannels` values start in the patch matrix, and in the images (nil outside the image).
    @inline(__always)
    private static func visit(rows: Int, _ g: ConvolutionGeometry, _ body: (Int, Int?) -> Void) {
        let c = g.inChannels, oh = g.outHeight, ow = g.outWidth, k = g.patch
        for b in 0..<rows {
            let image = b * g.inputSize
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var patch = ((b * oh + oy) * ow + ox) * k
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.stride - g.padding + ky
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.stride - g.padding + kx
                            body(patch, iy >= 0 && iy < g.height && ix >= 0 && ix < g.width ? image + (iy * g.width + ix) * c : nil)
                            patch += c
                        }
                    }
                }
            }
        }
    }
}
