import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// `sgemm` routes non-transposed products that OpenBLAS's SkylakeX small kernel would serve with a
/// malloc (n % 16 = 1…8, k ≥ 32, m·n·k ≤ 100³) through column blocks and, where needed, the loop kernel.
/// The result must be the same product as one plain cblas_sgemm call.
final class GEMMDispatchTests: XCTestCase {
    func testAllocatingShapesAreRecognised() {
        XCTAssertTrue(smallNNKernelAllocates(m: 32, n: 40, k: 512), "the encoder head at batch 32")
        XCTAssertTrue(smallNNKernelAllocates(m: 16, n: 40, k: 512), "the encoder head at batch 32 over two ranks")
        XCTAssertFalse(smallNNKernelAllocates(m: 128, n: 40, k: 512), "m·n·k > 100³ takes the ordinary kernel")
        XCTAssertFalse(smallNNKernelAllocates(m: 32, n: 48, k: 512), "n % 16 = 0")
        XCTAssertFalse(smallNNKernelAllocates(m: 32, n: 45, k: 512), "n % 16 = 13 uses masked loads")
        XCTAssertFalse(smallNNKernelAllocates(m: 32, n: 40, k: 20), "k < 32")
    }

    func testSplitProductsEqualOneBLASCall() {
        for m in [1, 7, 32] {
            for n in [3, 8, 17, 18, 24, 33, 40, 56] {
                for k in [32, 100, 512] where m * n * k > smallGEMMLimit && smallNNKernelAllocates(m: m, n: n, k: k) {
                    let a = Matrix.randomNormal(rows: m, cols: k, seed: 1)
                    let b = Matrix.randomNormal(rows: k, cols: n, seed: 2)
                    let c0 = Matrix.randomNormal(rows: m, cols: n, seed: 3)
                    for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (-0.5, 0.25)] {
                        var viaSplit = c0, viaBLAS = c0
                        a.storage.withUnsafeBufferPointer { ap in
                            b.storage.withUnsafeBufferPointer { bp in
                                viaSplit.storage.withUnsafeMutableBufferPointer {
                                    sgemm(
                                        transA: false, transB: false, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!,
                                        b: bp.baseAddress!, beta: beta, c: $0.baseAddress!)
                                }
                                viaBLAS.storage.withUnsafeMutableBufferPointer {
                                    cblasReference(
                                        transA: false, transB: false, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!,
                                        b: bp.baseAddress!, beta: beta, c: $0.baseAddress!)
                                }
                            }
                        }
                        // Sums of up to 512 products of unit normals: agreement to float rounding.
                        XCTAssertLessThan(viaSplit.maxAbsDifference(viaBLAS), 1e-4, "m \(m) n \(n) k \(k) α \(alpha) β \(beta)")
                    }
                }
            }
        }
    }
}
