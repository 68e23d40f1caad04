import Foundation
import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class DataDatasetTests: DataFolderTestCase {

    /// View k of sample i holds i * 10 + k in every column, so a gathered row identifies its sample.
    func sampleMatrix(rows: Int, cols: Int, view k: Int) -> Matrix {
        Matrix(rows: rows, cols: cols, (0..<(rows * cols)).map { Float(($0 / cols) * 10 + k) })
    }

    // MARK: Image views

    func testImageLayoutsCutTheRightPixels() {
        // Two 28×28 images: pixel (r, c) of image 0 is r, of image 1 is c.
        let h = 28, w = 28
        var pixels = [UInt8](repeating: 0, count: 2 * h * w)
        for r in 0..<h { for c in 0..<w { pixels[r * w + c] = UInt8(r); pixels[h * w + r * w + c] = UInt8(c) } }
        let images = LabeledImages(count: 2, height: h, width: w, pixels: pixels, labels: [0, 1])

        func check(_ layout: ImageViewLayout, _ blocks: [(rows: Range<Int>, cols: Range<Int>)]) {
            let views = images.views(layout)
            XCTAssertEqual(views.count, blocks.count, "\(layout)")
            for (view, block) in zip(views, blocks) {
                XCTAssertEqual(view.rows, 2)
                XCTAssertEqual(view.cols, block.rows.count * block.cols.count, "\(layout)")
                var j = 0
                for r in block.rows {
                    for c in block.cols {
                        XCTAssertEqual(view[0, j], Float(r) / 255, "\(layout) row of pixel \(j)")
                        XCTAssertEqual(view[1, j], Float(c) / 255, "\(layout) column of pixel \(j)")
                        j += 1
                    }
                }
            }
        }
        check(.whole, [(0..<28, 0..<28)])
        check(.topBottom, [(0..<14, 0..<28), (14..<28, 0..<28)])
        check(.leftRight, [(0..<28, 0..<14), (0..<28, 14..<28)])
        check(.quadrants, [(0..<14, 0..<14), (0..<14, 14..<28), (14..<28, 0..<14), (14..<28, 14..<28)])
        XCTAssertEqual(images.views(.topBottom).map(\.cols), [392, 392])
        XCTAssertEqual(images.views(.quadrants).map(\.cols), [196, 196, 196, 196])
    }

    func testScalingAndBinarisation() throws {
        let images = LabeledImages(count: 1, height: 2, width: 2, pixels: [0, 1, 128, 255], labels: [3])
        XCTAssertEqual(images.views(.whole)[0].storage, [0, 1 / 255, 128 / 255, 1])
        XCTAssertEqual(images.views(.whole, binarizeAbove: 0)[0].storage, [0, 1, 1, 1])
        XCTAssertEqual(images.views(.whole, binarizeAbove: 0.5)[0].storage, [0, 0, 1, 1])
        let ds = try images.dataset(.leftRight)
        XCTAssertEqual(ds.names, ["left", "right"])
        XCTAssertEqual(ds.matrix(view: 1).storage, [1 / 255, 1])
        XCTAssertEqual(ds.label(0), 3)
    }

    // MARK: Gathering

    func testGatherCopiesChosenRowsFromMemoryAndFromNpy() throws {
        let a = sampleMatrix(rows: 6, cols: 3, view: 0)
        let b = sampleMatrix(rows: 6, cols: 2, view: 1)
        let path = dir.file("b.npy")
        try NPYWriter.write(b, to: path)
        let ds = try MultiViewDataset(views: [.matrix(a), .npy(NPYFile(path: path))], labels: [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(ds.dimensions, [3, 2])

        let rows = [5, 0, 3, 3]
        var outA = [Float](repeating: -1, count: 12), outB = [Float](repeating: -1, count: 8)
        outA.withUnsafeMutableBufferPointer { ds.gather(view: 0, rows: rows, into: $0.baseAddress!) }
        outB.withUnsafeMutableBufferPointer { ds.gather(view: 1, rows: rows, into: $0.baseAddress!) }
        XCTAssertEqual(outA, rows.flatMap { [Float](repeating: Float($0 * 10), count: 3) })
        XCTAssertEqual(outB, rows.flatMap { [Float](repeating: Float($0 * 10 + 1), count: 2) })

        var labels = [Int32](repeating: -1, count: 4)
        rows.withUnsafeBufferPointer { r in labels.withUnsafeMutableBufferPointer { ds.gatherLabels(rows: r, into: $0.baseAddress!) } }
        XCTAssertEqual(labels, [5, 0, 3, 3])

        var mask = [Float](repeating: -1, count: 8)
        rows.withUnsafeBufferPointer { r in mask.withUnsafeMutableBufferPointer { ds.gatherMask(rows: r, into: $0.baseAddress!) } }
        XCTAssertEqual(mask, [Float](repeating: 1, count: 8), "no mask means every view is observed")
    }

    func testMaskedRowsGatherAsZeros() throws {
        var a = sampleMatrix(rows: 3, cols: 2, view: 0)
        a[1, 0] = .nan  // missing data is often stored as NaN
        a[1, 1] = .nan
        let b = sampleMatrix(rows: 3, cols: 2, view: 1)
        let mask = try ViewMask(rows: 3, views: 2, values: [1, 1, 0, 1, 1, 0])
        let ds = try MultiViewDataset(views: [.matrix(a), .matrix(b)], mask: mask)
        XCTAssertEqual(ds.matrix(view: 0).storage, [0, 0, 0, 0, 20, 20])
        XCTAssertEqual(ds.matrix(view: 1).storage, [1, 1, 11, 11, 0, 0])
        XCTAssertFalse(ds.isObserved(row: 1, view: 0))
        XCTAssertEqual(mask.observedCount(view: 1), 2)
        var flags = [Float](repeating: -1, count: 4)
        [2, 1].withUnsafeBufferPointer { r in flags.withUnsafeMutableBufferPointer { ds.gatherMask(rows: r, into: $0.baseAddress!) } }
        XCTAssertEqual(flags, [1, 0, 0, 1])
    }

    func testLoadsViewsLabelsAndMaskFromNpy() throws {
        try NPYWriter.write(sampleMatrix(rows: 4, cols: 3, view: 0), to: dir.file("rna.npy"))
        try NPYWriter.write(sampleMatrix(rows: 4, cols: 5, view: 1), to: dir.file("atac.npy"))
        writeBytes(handMadeNPY(descr: "<i8", shape: [4], payload: littleEndianBytes([Int64(2), 0, 1, 7])), to: dir.file("labels.npy"))
        writeBytes(handMadeNPY(descr: "|b1", shape: [4, 2], payload: [1, 1, 1, 0, 0, 1, 1, 1]), to: dir.file("mask.npy"))
        let ds = try MultiViewDataset(
            npyViews: [dir.file("rna.npy"), dir.file("atac.npy")],
            labelsPath: dir.file("labels.npy"), maskPath: dir.file("mask.npy"))
        XCTAssertEqual(ds.names, ["rna", "atac"])
        XCTAssertEqual(ds.count, 4)
        XCTAssertEqual(ds.labels, [2, 0, 1, 7])
        XCTAssertEqual(ds.mask?.values, [1, 1, 1, 0, 0, 1, 1, 1])
        XCTAssertEqual(ds.matrix(view: 1, rows: 1..<2).storage, [0, 0, 0, 0, 0], "row 1 of view 1 is masked out")

        // Masks may also be saved as float32 or uint8.
        try NPYWriter.write(Matrix(rows: 4, cols: 2, [1, 0, 1, 1, 1, 1, 0, 1]), to: dir.file("maskf.npy"))
        XCTAssertEqual(try ViewMask.load(dir.file("maskf.npy")).values, [1, 0, 1, 1, 1, 1, 0, 1])
    }

    // MARK: Rejections

    func testRejectsViewsWithDifferentRowCounts() throws {
        let path = dir.file("b.npy")
        try NPYWriter.write(Matrix(rows: 5, cols: 2), to: path)
        assertDataError(
            try MultiViewDataset(
                views: [.matrix(Matrix(rows: 4, cols: 3)), .npy(NPYFile(path: path))],
                names: ["a", "b"]),
            mentions: [path, "'b'", "5 rows", "'a' (in-memory 4x3 matrix) has 4"])
        assertDataError(try MultiViewDataset(views: []), mentions: ["at least one view"])
        assertDataError(
            try MultiViewDataset(views: [.matrix(Matrix(rows: 1, cols: 1))], names: ["a", "b"]),
            mentions: ["2 names", "1 views"])
    }

    func testRejectsWrongLabelCountAndBadLabels() throws {
        assertDataError(
            try MultiViewDataset(views: [.matrix(Matrix(rows: 3, cols: 1))], labels: [1, 2]),
            mentions: ["2 entries", "3 rows"])
        try NPYWriter.write(Matrix(rows: 3, cols: 1), to: dir.file("v.npy"))
        let labels = dir.file("labels.npy")
        writeBytes(handMadeNPY(descr: "<i8", shape: [2], payload: littleEndianBytes([Int64(1), 2])), to: labels)
        assertDataError(
            try MultiViewDataset(npyViews: [dir.file("v.npy")], labelsPath: labels),
            mentions: [labels, "2 entries", "3 rows"])
        writeBytes(handMadeNPY(descr: "<f8", shape: [3], payload: littleEndianBytes([1.0, 2.5, 0].map(\.bitPattern))), to: labels)
        assertDataError(
            try MultiViewDataset(npyViews: [dir.file("v.npy")], labelsPath: labels),
            mentions: [labels, "entry 1 is 2.5"])
        writeBytes(handMadeNPY(descr: "<i8", shape: [3, 2], payload: [UInt8](repeating: 0, count: 48)), to: labels)
        assertDataError(
            try MultiViewDataset(npyViews: [dir.file("v.npy")], labelsPath: labels),
            mentions: [labels, "(3, 2)", "(n,)"])
    }

    func testRejectsMasksOfTheWrongShapeOrWithValuesOtherThanZeroAndOne() throws {
        try NPYWriter.write(Matrix(rows: 3, cols: 1), to: dir.file("a.npy"))
        try NPYWriter.write(Matrix(rows: 3, cols: 4), to: dir.file("b.npy"))
        let views = [dir.file("a.npy"), dir.file("b.npy")]
        let mask = dir.file("mask.npy")

        writeBytes(handMadeNPY(descr: "|u1", shape: [3, 3], payload: [UInt8](repeating: 1, count: 9)), to: mask)
        assertDataError(try MultiViewDataset(npyViews: views, maskPath: mask), mentions: [mask, "(3, 3)", "(3, 2)"])
        writeBytes(handMadeNPY(descr: "|u1", shape: [2, 2], payload: [UInt8](repeating: 1, count: 4)), to: mask)
        assertDataError(try MultiViewDataset(npyViews: views, maskPath: mask), mentions: [mask, "(2, 2)", "(3, 2)"])
        writeBytes(handMadeNPY(descr: "|u1", shape: [3, 2], payload: [1, 1, 1, 2, 1, 1]), to: mask)
        assertDataError(try MultiViewDataset(npyViews: views, maskPath: mask), mentions: [mask, "row 1, view 1", "is 2.0"])
        assertDataError(try ViewMask(rows: 2, views: 2, values: [1, 0, 5, 1]), mentions: ["row 1, view 0"])
    }
}
