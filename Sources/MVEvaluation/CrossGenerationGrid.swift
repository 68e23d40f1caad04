import Foundation
import MVCore
import MVIO
import MVData
import MVModels

/// Cross-generation of image views that are not observed, as a PNG grid: for each chosen test image
/// three cells — the observed views (unobserved ones grey), the observed views with the others
/// generated as E[x_s | z̄] at z̄ = E_q[z | x_observed], and the true image.
///
/// Two kinds of images are shown: test images whose views are missing in the data (imputation), and
/// fully observed ones with one view held out in turn (the case `AggregatedEvaluation` scores).
public struct CrossGenerationGrid {
    /// Image size and the flat pixel indices of every view (`ImageViewLayout.pixelIndices`).
    public struct Layout {
        public let height: Int
        public let width: Int
        public let pixels: [[Int]]

        public init(height: Int, width: Int, pixels: [[Int]]) {
            self.height = height
            self.width = width
            self.pixels = pixels
        }
    }

    public struct Summary: Codable, Equatable {
        /// Test images with missing views shown, and fully observed ones with a view held out.
        public var missing: Int
        public var heldOut: Int
        public var path: String
    }

    /// Unobserved pixels in the first cell: mid-grey, distinct from Fashion-MNIST's black background.
    static let unobservedGrey: Float = 0.5

    public let model: AggregatedVAE
    public let layout: Layout

    public init(model: AggregatedVAE, layout: Layout) {
        precondition(layout.pixels.count == model.viewDimensions.count, "one pixel list per view")
        self.model = model
        self.layout = layout
    }

    /// Writes up to `images` images of each kind, four triples per grid row, to `path`.
    /// `truth` holds the same rows with dropped views restored (nil: the data has none dropped).
    public func write(test: DataSubset, truth: DataSubset?, images: Int, to path: String) throws -> Summary {
        let k = model.viewDimensions.count
        var picks: [(position: Int, mask: [Bool])] = []
        var missing = 0, heldOut = 0
        for p in 0..<test.count where missing < images {
            let m = (0..<k).map { test.dataset.isObserved(row: test.indices[p], view: $0) }
            if m.contains(false) && m.contains(true) { picks.append((p, m)); missing += 1 }
        }
        for p in 0..<test.count where heldOut < images {
            let m = (0..<k).map { test.dataset.isObserved(row: test.indices[p], view: $0) }
            guard !m.contains(false) else { continue }
            var given = m
            given[heldOut % k] = false
            picks.append((p, given))
            heldOut += 1
        }
        guard !picks.isEmpty else { throw CrossGenerationFailure.noImages(path: path) }
        let rows = EvaluationRows(test, positions: picks.map(\.position), truth: truth)
        var given = Matrix(rows: picks.count, cols: k)
        for (i, pick) in picks.enumerated() { for s in 0..<k { given[i, s] = pick.mask[s] ? 1 : 0 } }
        let generated = decodedMeans(x: rows.x, given: given)
        var grid = ImageGrid(cellWidth: layout.width, cellHeight: layout.height, columns: 12)
        grid.scale = 2
        for i in 0..<picks.count {
            var observed = [Float](repeating: Self.unobservedGrey, count: layout.height * layout.width)
            var completed = observed, original = observed
            for s in 0..<k {
                for (j, pixel) in layout.pixels[s].enumerated() {
                    if given[i, s] != 0 { observed[pixel] = rows.x[s][i, j] }
                    completed[pixel] = given[i, s] != 0 ? rows.x[s][i, j] : generated[s][i, j]
                    if rows.truthKnown(i, s) { original[pixel] = rows.truth[s][i, j] }
                }
            }
            grid.append(observed)
            grid.append(completed)
            grid.append(original)
        }
        try grid.write(to: path)
        return Summary(missing: missing, heldOut: heldOut, path: path)
    }

    /// E[x_s | z̄, z̃_s] for every view s, with z̄ the mean of q(z | x_given) and, with private latents,
    /// z̃_s the mean of q(z̃_s | x_s) for given views and the prior's mean 0 for the others.
    func decodedMeans(x: [Matrix], given: Matrix) -> [Matrix] {
        let tape = Tape()
        let h = model.features(x.map { tape.constant($0) }, tape: tape)
        let q = model.aggregator.distribution(features: h, mask: tape.constant(given), tape: tape, arena: model.arena)
        let z = tape.mean(q)
        let privateQ = model.privateLatents?.posteriors(h, tape: tape, arena: model.arena)
        return (0..<x.count).map { s in
            var input = z
            if let privateQ {
                input = tape.concatColumns(z, tape.mul(privateQ[s].mean, tape.maskColumn(tape.constant(given), s)))
            }
            return tape.value(model.likelihoods[s].mean(output: model.decoders[s](input, tape: tape, arena: model.arena), tape: tape))
        }
    }
}

public enum CrossGenerationFailure: Error, CustomStringConvertible {
    case noImages(path: String)
    public var description: String {
        switch self {
        case let .noImages(path):
            return "no test image has a missing view or all views observed, so there is nothing to draw in \(path)"
        }
    }
}
