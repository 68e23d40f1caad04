import CKernels
import Foundation
import XCTest

/// The C kernels' exp and log1p (used by the Bernoulli log-likelihood) against libm, on both paths.
final class VectorMathTests: XCTestCase {
    override func tearDown() { mvvae_kernels_force_portable(0) }

    func testVectorExpMatchesLibm() {
        for portable in [Int32(0), 1] {
            mvvae_kernels_force_portable(portable)
            var worst: Float = 0
            for start in stride(from: -80 as Float, to: 80, by: 0.37) {
                let x = (0..<16).map { start + Float($0) * 0.0231 }
                var y = [Float](repeating: .nan, count: 16)
                mvvae_exp(x, &y, 16)
                for k in 0..<16 { worst = max(worst, abs(y[k] - Foundation.exp(x[k])) / Foundation.exp(x[k])) }
            }
            XCTAssertLessThan(worst, 3e-7, "relative error, portable \(portable)")
            var y: [Float] = [.nan, .nan, .nan]
            mvvae_exp([-200, .nan, 0], &y, 3)  // three: a vector tail
            XCTAssertEqual(y[0], 0, accuracy: 1e-37, "underflows towards 0")
            XCTAssertTrue(y[1].isNaN)
            XCTAssertEqual(y[2], 1)
        }
    }

    func testVectorLog1pOnTheUnitInterval() {
        for portable in [Int32(0), 1] {
            mvvae_kernels_force_portable(portable)
            var worst: Float = 0
            for start in stride(from: 0 as Float, through: 1, by: 1.0 / 64) {
                let e = (0..<16).map { min(1, start + Float($0) * 1e-3) }
                var y = [Float](repeating: .nan, count: 16)
                mvvae_log1p_unit(e, &y, 16)
                for k in 0..<16 { worst = max(worst, abs(y[k] - Foundation.log1p(e[k]))) }
            }
            XCTAssertLessThan(worst, 2e-7, "absolute error, portable \(portable)")
            var y: [Float] = [.nan]
            mvvae_log1p_unit([1e-30], &y, 1)
            XCTAssertEqual(y[0], 1e-30, accuracy: 1e-36)
        }
    }
}
