import CPNG
import Foundation

/// Writes 8-bit greyscale PNG files through libpng.
public enum PNGWriter {
    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "cannot write PNG '\(path)': \(reason)" }
    }

    /// Writes `pixels` (row-major, height × width, values in [0, 1], clamped) to `path`, via a
    /// temporary file renamed into place.
    public static func writeGray(_ pixels: [Float], width: Int, height: Int, to path: String) throws {
        precondition(pixels.count == width * height)
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
            p, i, png_uint_32(width), png_uint_32(height), 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
            PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT)
        png_write_info(p, i)
        var row = [UInt8](repeating: 0, count: width)
        for y in 0..<height {
            for x in 0..<width { row[x] = UInt8((Swift.min(Swift.max(pixels[y * width + x], 0), 1) * 255).rounded()) }
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

/// Tiles equally sized greyscale images into one picture with a white gap between cells.
public struct ImageGrid {
    public let cellWidth: Int
    public let cellHeight: Int
    public let columns: Int
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
        precondition(pixels.count == cellWidth * cellHeight, "grid cell needs \(cellWidth * cellHeight) pixels")
        cells.append(pixels)
    }

    public func render() -> (pixels: [Float], width: Int, height: Int) {
        let rows = (cells.count + columns - 1) / Swift.max(columns, 1)
        let s = Swift.max(scale, 1), cw = cellWidth * s, ch = cellHeight * s
        let w = columns * cw + (columns + 1) * gap, h = rows * ch + (rows + 1) * gap
        var out = [Float](repeating: 1, count: w * h)
        for (k, cell) in cells.enumerated() {
            let ox = gap + (k % columns) * (cw + gap), oy = gap + (k / columns) * (ch + gap)
            for y in 0..<ch { for x in 0..<cw { out[(oy + y) * w + ox + x] = cell[(y / s) * cellWidth + x / s] } }
        }
        return (out, w, h)
    }

    public func write(to path: String) throws {
        let r = render()
        try PNGWriter.writeGray(r.pixels, width: r.width, height: r.height, to: path)
    }
}

/// Joins two image halves back into one image: stacked (top/bottom) or side by side (left/right).
public func joinHalves(_ a: [Float], _ b: [Float], height: Int, width: Int, vertical: Bool) -> [Float] {
    if vertical { return a + b }
    var out = [Float](repeating: 0, count: 2 * a.count)
    for y in 0..<height {
        for x in 0..<width {
            out[y * 2 * width + x] = a[y * width + x]
            out[y * 2 * width + width + x] = b[y * width + x]
        }
    }
    return out
}
