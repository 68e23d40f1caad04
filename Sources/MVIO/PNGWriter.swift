import CPNG
import Foundation

/// Writes 8-bit greyscale or RGB PNG files through libpng.
public enum PNGWriter {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write PNG '\(path)': \(reason)" }
    }

    /// Writes `pixels` (row-major, height × width, values in [0, 1], clamped) to `path`, via a
    /// temporary file renamed into place.
    public static func writeGray(_ pixels: [Float], width: Int, height: Int, to path: String) throws {
        try write(pixels, width: width, height: height, channels: 1, to: path)
    }

    /// `channels` 1 (grey) or 3 (RGB, each pixel's three values side by side).
    public static func write(_ pixels: [Float], width: Int, height: Int, channels: Int, to path: String) throws {
        precondition(channels == 1 || channels == 3, "PNG images here are grey or RGB")
        precondition(pixels.count == width * height * channels)
        let temp = path + ".tmp-\(getpid())"
        guard let file = fopen(temp, "wb") else { throw Failure(path: path, reason: String(cString: strerror(errno))) }
        var png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nil, nil, nil)
        var info = png.flatMap { png_create_info_struct($0) }
        guard let p = png, let i = info else {
            fclose(file)
            unlink(temp)
            throw Failure(path: path, reason: "libpng could not start")
        }
        // libpng reports errors by longjmp, which Swift cannot catch; with valid arguments and a
        // writable file the calls below do not fail, and the file is checked after closing.
        png_init_io(p, file)
        png_set_IHDR(
            p, i, png_uint_32(width), png_uint_32(height), 8, channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY,
            PNG_INTERLACE_NONE,
            PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)
        png_write_info(p, i)
        let stride = width * channels
        var row = [UInt8](repeating: 0, count: stride)
        for y in 0..<height {
            for x in 0..<stride { row[x] = UInt8((Swift.min(Swift.max(pixels[y * stride + x], 0), 1) * 255).rounded()) }
            row.withUnsafeMutableBufferPointer { png_write_row(p, $0.baseAddress) }
        }
        png_write_end(p, nil)
        png_destroy_write_struct(&png, &info)
        let closed = fclose(file)
        guard closed == 0 else {
            unlink(temp)
            throw Failure(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
        }
        guard rename(temp, path) == 0 else {
            unlink(temp)
            throw Failure(path: path, reason: String(cString: strerror(errno)))
        }
    }
}

/// Tiles equally sized images (grey, or RGB with `channels` 3) into one picture with a white gap between cells.
public struct ImageGrid {
    public let cellWidth: Int
    public let cellHeight: Int
    public let columns: Int
    public var channels = 1
    public var cells: [[Float]] = []
    public var gap = 2
    /// Each pixel drawn as a scale×scale block (nearest neighbour), so small images stay legible.
    public var scale = 1

    public init(cellWidth: Int, cellHeight: Int, columns: Int) {
        self.cellWidth = cellWidth
        self.cellHeight = cellHeight
        self.columns = columns
    }

    public mutating func append(_ pixels: [Float]) {
        precondition(pixels.count == cellWidth * cellHeight * channels, "grid cell needs \(cellWidth * cellHeight * channels) values")
        cells.append(pixels)
    }

    public func render() -> (pixels: [Float], width: Int, height: Int) {
        let rows = (cells.count + columns - 1) / Swift.max(columns, 1)
        let s = Swift.max(scale, 1), cw = cellWidth * s, ch = cellHeight * s
        let w = columns * cw + (columns + 1) * gap, h = rows * ch + (rows + 1) * gap
        let c = channels
        var out = [Float](repeating: 1, count: w * h * c)
        for (k, cell) in cells.enumerated() {
            let ox = gap + (k % columns) * (cw + gap), oy = gap + (k / columns) * (ch + gap)
            for y in 0..<ch {
                for x in 0..<cw {
                    for j in 0..<c { out[((oy + y) * w + ox + x) * c + j] = cell[((y / s) * cellWidth + x / s) * c + j] }
                }
            }
        }
        return (out, w, h)
    }

    public func write(to path: String) throws {
        let r = render()
        try PNGWriter.write(r.pixels, width: r.width, height: r.height, channels: channels, to: path)
    }
}

/// Joins two image halves back into one image: stacked (top/bottom) or side by side (left/right);
/// `channels` values per pixel.
public func joinHalves(_ a: [Float], _ b: [Float], height: Int, width: Int, vertical: Bool, channels: Int = 1) -> [Float] {
    if vertical { return a + b }
    let row = width * channels
    var out = [Float](repeating: 0, count: 2 * a.count)
    for y in 0..<height {
        for x in 0..<row {
            out[y * 2 * row + x] = a[y * row + x]
            out[y * 2 * row + row + x] = b[y * row + x]
        }
    }
    return out
}
