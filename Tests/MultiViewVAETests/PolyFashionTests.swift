import XCTest
@testable import MVCore
@testable import MVData

/// `data.source: polyfashion` (PolyMNIST's construction on Fashion-MNIST): every view of a row shows an
/// image of the row's class, through its modality's texture, the same for a seed everywhere.
final class PolyFashionTests: XCTestCase {
    /// 40 synthetic 28×28 images of 3 classes: image i is uniformly grey at level i / 39.
    func images() -> LabeledImages {
        let n = 40
        let pixels = (0..<n).flatMap { i in [UInt8](repeating: UInt8(255 * i / (n - 1)), count: 784) }
        return LabeledImages(count: n, height: 28, width: 28, pixels: pixels, labels: (0..<n).map { Int32($0 % 3) })
    }

    func rows(_ d: MultiViewDataset, view k: Int) -> [[Float]] {
        var out = [Float](repeating: 0, count: d.count * d.dimension(ofView: k))
        out.withUnsafeMutableBufferPointer { d.gather(view: k, rows: Array(0..<d.count), into: $0.baseAddress!) }
        return (0..<d.count).map { Array(out[($0 * d.dimension(ofView: k))..<(($0 + 1) * d.dimension(ofView: k))]) }
    }

    func testEveryViewShowsAnImageOfTheRowsClass() throws {
        let source = images()
        for m in 0..<4 {
            let (partner, offset) = PolyFashion.draws(labels: source.labels, modality: m, seed: 7, part: 0)
            for r in 0..<source.count {
                XCTAssertEqual(source.labels[Int(partner[r])], source.labels[r])
                if m == 0 { XCTAssertEqual(Int(partner[r]), r) }
                XCTAssertLessThan(Int(offset[r]), PolyFashion.period * PolyFashion.period)
            }
        }
        let d = try PolyFashion.dataset(source, modalities: 4, seed: 7, part: 0)
        XCTAssertEqual(d.dimensions, [2352, 2352, 2352, 2352])
        XCTAssertEqual(d.labels, source.labels)
        // View 1 of row r shows image r: a grey level g turns background b into (1 − g) b + g (1 − b), so with
        // g uniform over the image, b = (v − g) / (1 − 2g) is a texture value in [0, 1] wherever g ≠ ½.
        let view1 = rows(d, view: 0)
        for r in [0, 5, 30] {
            let g = Float(UInt8(255 * r / 39)) / 255
            for v in view1[r].prefix(60) {
                let b = (v - g) / (1 - 2 * g)
                XCTAssertTrue(b >= -1e-4 && b <= 1 + 1e-4, "row \(r): background \(b)")
            }
        }
        for k in 0..<4 { for row in rows(d, view: k) { XCTAssertTrue(row.allSatisfy { $0 >= 0 && $0 <= 1 }) } }
    }

    func testTheSameSeedGivesTheSameDataAndAnotherSeedOther() throws {
        let a = try PolyFashion.dataset(images(), modalities: 3, seed: 7, part: 0)
        let b = try PolyFashion.dataset(images(), modalities: 3, seed: 7, part: 0)
        let c = try PolyFashion.dataset(images(), modalities: 3, seed: 8, part: 0)
        let test = try PolyFashion.dataset(images(), modalities: 3, seed: 7, part: 1)
        for k in 0..<3 {
            XCTAssertEqual(rows(a, view: k), rows(b, view: k))
            XCTAssertNotEqual(rows(a, view: k), rows(c, view: k))
            XCTAssertNotEqual(rows(a, view: k), rows(test, view: k), "train and test draw their own windows")
        }
        // Modalities differ in their backgrounds.
        XCTAssertNotEqual(PolyFashion.texture(modality: 0, seed: 7), PolyFashion.texture(modality: 1, seed: 7))
    }
}
