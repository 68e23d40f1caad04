import Foundation
import MVCore

/// PolyMNIST's construction (Sutter et al. 2021, the MoPoE paper) on Fashion-MNIST, built offline:
/// `modalities` colour views of 28×28×3, every one a different Fashion-MNIST image of the row's class on a
/// background of its own. A view's pixels invert its background where the garment is: out = (1 − g)·b +
/// g·(1 − b) per channel, g the grey level in [0, 1]. The backgrounds are procedural textures, not image
/// files: modality m's is two coloured sinusoidal gratings (its own frequencies, angles, colours and
/// phases) repeating every 64 pixels, shown through a 28×28 window at an offset drawn per row. Everything
/// is drawn with Philox from `seed` alone, so a seed gives the same data on every machine and world size.
/// Rows are computed when a batch reads them (`GeneratedView`): 60 000 rows × 5 views would be 2.8 GB.
public enum PolyFashion {
    /// Period of the background textures in pixels.
    static let period = 64

    /// Views `view1 … viewM` over the images of `part` (0: train, 1: test; the two draw different
    /// partners and offsets), with the images' classes as labels. View 1 of row r shows image r itself.
    public static func dataset(_ images: LabeledImages, modalities: Int, seed: UInt64, part: Int) throws -> MultiViewDataset {
        let n = images.count, side = images.height * images.width
        precondition(images.height <= period && images.width <= period, "PolyFashion: images larger than the texture")
        var views: [ViewSource] = []
        for m in 0..<modalities {
            let texture = Self.texture(modality: m, seed: seed)
            let (partner, offset) = Self.draws(labels: images.labels, modality: m, seed: seed, part: part)
            let pixels = images.pixels, h = images.height, w = images.width
            let (partners, offsets) = (partner, offset)
            views.append(
                .generated(
                    GeneratedView(rows: n, cols: side * 3, origin: "polyfashion view \(m + 1) (seed \(seed))") { r, out in
                        let image = Int(partners[r]) * side, start = Int(offsets[r])
                        let (oy, ox) = (start / period, start % period)
                        for py in 0..<h {
                            for px in 0..<w {
                                let g = Float(pixels[image + py * w + px]) / 255
                                let t = (((oy + py) % period) * period + (ox + px) % period) * 3
                                let o = out + (py * w + px) * 3
                                for c in 0..<3 {
                                    let b = texture[t + c]
                                    o[c] = (1 - g) * b + g * (1 - b)
                                }
                            }
                        }
                    }))
        }
        return try MultiViewDataset(
            views: views, names: (1...modalities).map { "view\($0)" }, labels: images.labels,
            labelsOrigin: "Fashion-MNIST labels")
    }

    /// Per row of modality m: the image it shows (the row's own for m = 0, else one of the same class) and
    /// the texture offset of its window (y · period + x).
    static func draws(labels: [Int32], modality m: Int, seed: UInt64, part: Int) -> (partner: [Int32], offset: [UInt16]) {
        let n = labels.count
        var byClass = [[Int32]](repeating: [], count: Int(labels.max() ?? 0) + 1)
        for (i, y) in labels.enumerated() { byClass[Int(y)].append(Int32(i)) }
        var partner = [Int32](repeating: 0, count: n), offset = [UInt16](repeating: 0, count: n)
        for r in 0..<n {
            var rng = RandomStream(seed: seed, stream: UInt64(part) << 40 | UInt64(m) << 32 | UInt64(r), block: 1)
            let same = byClass[Int(labels[r])]
            partner[r] = m == 0 ? Int32(r) : same[rng.nextInt(below: same.count)]
            offset[r] = UInt16(rng.nextInt(below: period * period))
        }
        return (partner, offset)
    }

    /// Modality m's background: period × period × 3 values in [0, 1], channels last.
    static func texture(modality m: Int, seed: UInt64) -> [Float] {
        var rng = RandomStream(seed: seed, stream: UInt64(m), block: 0)
        func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * rng.nextUniform() }
        // Two gratings: whole cycles per period (so the texture repeats), an angle, a colour per channel, a phase.
        var gratings: [(kx: Float, ky: Float, colour: [Float], phase: Float)] = []
        for _ in 0..<2 {
            let cycles = Float(1 + Int(uniform(0, 4))), angle = uniform(0, .pi)
            let kx = (cycles * Foundation.cos(angle)).rounded(), ky = (cycles * Foundation.sin(angle)).rounded()
            gratings.append((kx, ky == 0 && kx == 0 ? 1 : ky, (0..<3).map { _ in uniform(-0.25, 0.25) }, uniform(0, 2 * .pi)))
        }
        let base = (0..<3).map { _ in uniform(0.3, 0.7) }
        var out = [Float](repeating: 0, count: period * period * 3)
        for y in 0..<period {
            for x in 0..<period {
                for c in 0..<3 {
                    var v = base[c]
                    for g in gratings {
                        v += g.colour[c] * Foundation.sin(2 * .pi * (g.kx * Float(x) + g.ky * Float(y)) / Float(period) + g.phase)
                    }
                    out[(y * period + x) * 3 + c] = Swift.min(Swift.max(v, 0), 1)
                }
            }
        }
        return out
    }
}
