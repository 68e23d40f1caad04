import Foundation
import MVIO
import MVTraining

/// Loss curves as a greyscale PNG, drawn here (no plotting library): per epoch the training loss (black)
/// and the validation loss (grey, dashed) against the epoch, with the y range and the epochs labelled
/// in a 3×5 pixel font. What `<run>/curves.png` and `mvvae plot` show.
public struct CurvePlot {
    public struct Series {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var shade: Float
        public var dashed: Bool
        public init(name: String, points: [(x: Double, y: Double)], shade: Float, dashed: Bool) {
            self.name = name
            self.points = points
            self.shade = shade
            self.dashed = dashed
        }
    }

    public var width = 640, height = 400
    public var series: [Series]
    /// Vertical lines (shade 0.8) where a stage starts, at these x.
    public var boundaries: [Double] = []

    public init(series: [Series]) { self.series = series }

    /// The training and validation losses of a run's epochs, stage starts marked.
    public init(epochs: [EpochSummary]) {
        series = [
            Series(name: "train", points: epochs.map { (Double($0.epoch), $0.trainLoss) }, shade: 0, dashed: false),
            Series(
                name: "validation", points: epochs.compactMap { e in e.validationLoss.map { (Double(e.epoch), $0) } }, shade: 0.55,
                dashed: true),
        ]
        boundaries = zip(epochs, epochs.dropFirst()).compactMap { $0.stage != $1.stage ? Double($1.epoch) - 0.5 : nil }
    }

    public func render() -> [Float] {
        var canvas = [Float](repeating: 1, count: width * height)
        let left = 64, right = width - 16, top = 24, bottom = height - 28
        let all = series.flatMap(\.points).filter { $0.y.isFinite }
        guard let minX = all.map(\.x).min(), let maxX = all.map(\.x).max(),
            var minY = all.map(\.y).min(), var maxY = all.map(\.y).max()
        else { return canvas }
        if maxY - minY < 1e-12 { minY -= 0.5; maxY += 0.5 }
        let pad = 0.05 * (maxY - minY)
        minY -= pad; maxY += pad
        let spanX = Swift.max(maxX - minX, 1)
        func px(_ x: Double) -> Int { left + Int((x - minX) / spanX * Double(right - left)) }
        func py(_ y: Double) -> Int { bottom - Int((y - minY) / (maxY - minY) * Double(bottom - top)) }
        func set(_ x: Int, _ y: Int, _ v: Float) {
            if x >= 0, x < width, y >= 0, y < height { canvas[y * width + x] = Swift.min(canvas[y * width + x], v) }
        }
        func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ v: Float, dashed: Bool = false, thick: Bool = false) {
            let n = Swift.max(abs(x1 - x0), abs(y1 - y0), 1)
            for i in 0...n {
                if dashed && (i / 6) % 2 == 1 { continue }
                let x = x0 + (x1 - x0) * i / n, y = y0 + (y1 - y0) * i / n
                set(x, y, v)
                if thick { set(x, y + 1, v); set(x + 1, y, v) }
            }
        }
        // Axes, five y ticks with values, the first and last epoch.
        line(left, top, left, bottom, 0)
        line(left, bottom, right, bottom, 0)
        for i in 0...4 {
            let y = minY + (maxY - minY) * Double(i) / 4, yy = py(y)
            line(left - 4, yy, left, yy, 0)
            line(left + 1, yy, right, yy, 0.92)
            text(Self.label(y), x: left - 8 - 8 * Self.label(y).count, y: yy - 5, into: &canvas)
        }
        for x in Set([minX, maxX]) {
            let xx = px(x)
            line(xx, bottom, xx, bottom + 4, 0)
            text(Self.label(x), x: xx - 4 * Self.label(x).count, y: bottom + 8, into: &canvas)
        }
        text("epoch", x: (left + right) / 2 - 20, y: bottom + 8, into: &canvas)
        for b in boundaries { line(px(b), top, px(b), bottom, 0.8, dashed: true) }
        // The curves, and a legend of their names in their own shade and dash.
        for (k, s) in series.enumerated() {
            let points = s.points.filter { $0.y.isFinite }
            for (a, b) in zip(points, points.dropFirst()) {
                line(px(a.x), py(a.y), px(b.x), py(b.y), s.shade, dashed: s.dashed, thick: true)
            }
            if points.count == 1 { line(px(points[0].x) - 2, py(points[0].y), px(points[0].x) + 2, py(points[0].y), s.shade, thick: true) }
            let ly = 6 + 14 * k
            line(right - 150, ly + 5, right - 120, ly + 5, s.shade, dashed: s.dashed, thick: true)
            text(s.name, x: right - 112, y: ly, into: &canvas, shade: s.shade)
        }
        return canvas
    }

    public func write(to path: String) throws {
        try PNGWriter.writeGray(render(), width: width, height: height, to: path)
    }

    /// A short number: 4 significant digits, exponent form outside [1e-3, 1e5).
    static func label(_ v: Double) -> String {
        let a = abs(v)
        if a != 0 && (a < 1e-3 || a >= 1e5) { return String(format: "%.2e", v) }
        var s = String(format: "%.4g", v)
        if s.contains("e") { s = String(format: "%.2f", v) }
        return s
    }

    /// Draws `s` with its top-left corner at (x, y), each font pixel 2×2.
    func text(_ s: String, x: Int, y: Int, into canvas: inout [Float], shade: Float = 0) {
        var cx = x
        for ch in s.lowercased() {
            if let rows = Self.font[ch] {
                for (r, bits) in rows.enumerated() {
                    for c in 0..<3 where bits & (4 >> c) != 0 {
                        for dy in 0..<2 {
                            for dx in 0..<2 {
                                let px = cx + 2 * c + dx, py = y + 2 * r + dy
                                if px >= 0, px < width, py >= 0, py < height { canvas[py * width + px] = shade }
                            }
                        }
                    }
                }
            }
            cx += 8
        }
    }

    /// 3×5 glyphs, one row a number (bit 2 = left column).
    static let font: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 3, 1, 7], "4": [5, 5, 7, 1, 1],
        "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 2, 2, 2], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0], "+": [0, 2, 7, 2, 0],
        "a": [2, 5, 7, 5, 5], "c": [7, 4, 4, 4, 7], "d": [6, 5, 5, 5, 6], "e": [7, 4, 6, 4, 7], "h": [5, 5, 7, 5, 5],
        "i": [7, 2, 2, 2, 7], "l": [4, 4, 4, 4, 7], "n": [6, 5, 5, 5, 5], "o": [7, 5, 5, 5, 7], "p": [7, 5, 7, 4, 4],
        "r": [6, 5, 6, 5, 5], "s": [7, 4, 7, 1, 7], "t": [7, 2, 2, 2, 2], "v": [5, 5, 5, 5, 2], "k": [5, 5, 6, 5, 5],
    ]
}
