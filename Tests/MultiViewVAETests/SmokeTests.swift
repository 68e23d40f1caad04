import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

final class MatrixSmokeTests: XCTestCase {
    func testMatmulMatchesNaiveProduct() {
        let a = Matrix.randomNormal(rows: 3, cols: 4, seed: 1)
        let b = Matrix.randomNormal(rows: 4, cols: 5, seed: 2)
        let c = a * b
        for i in 0..<3 {
            for j in 0..<5 {
                var s: Float = 0
                for k in 0..<4 { s += a[i, k] * b[k, j] }
                XCTAssertEqual(c[i, j], s, accuracy: 1e-5)
            }
        }
    }
}

final class SmallGEMMTests: XCTestCase {
    /// The loop kernel agrees with OpenBLAS for every transpose combination, α and β.
    func testSmallGEMMMatchesBLAS() {
        let (m, n, k) = (5, 3, 4)
        for tA in [false, true] {
            for tB in [false, true] {
                let a = Matrix.randomNormal(rows: tA ? k : m, cols: tA ? m : k, seed: 1)
                let b = Matrix.randomNormal(rows: tB ? n : k, cols: tB ? k : n, seed: 2)
                let c0 = Matrix.randomNormal(rows: m, cols: n, seed: 3)
                for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-2, 0.25)] {
                    var viaLoop = c0, viaBLAS = c0
                    a.storage.withUnsafeBufferPointer { ap in
                        b.storage.withUnsafeBufferPointer { bp in
                            viaLoop.storage.withUnsafeMutableBufferPointer {
                                smallGEMM(
                                    transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!, b: bp.baseAddress!,
                                    beta: beta, c: $0.baseAddress!)
                            }
                            viaBLAS.storage.withUnsafeMutableBufferPointer {
                                cblasReference(
                                    transA: tA, transB: tB, m: m, n: n, k: k, alpha: alpha, a: ap.baseAddress!,
                                    b: bp.baseAddress!, beta: beta, c: $0.baseAddress!)
                            }
                        }
                    }
                    XCTAssertLessThan(viaLoop.maxAbsDifference(viaBLAS), 1e-5, "tA \(tA) tB \(tB) α \(alpha) β \(beta)")
                }
            }
        }
    }
}
