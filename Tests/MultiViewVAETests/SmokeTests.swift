import XCTest
@testable import MultiViewVAE

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
