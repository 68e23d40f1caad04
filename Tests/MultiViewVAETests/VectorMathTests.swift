import Foundation
import XCTest
@testable import MultiViewVAE

final class VectorMathTests: XCTestCase {
    func testVectorExpMatchesLibm() {
        var worst: Float = 0
        for start in stride(from: -80 as Float, to: 80, by: 0.37) {
            var x = Float16x()
            for k in 0..<16 { x[k] = start + Float(k) * 0.0231 }
            let y = vectorExp(x)
            for k in 0..<16 { worst = max(worst, abs(y[k] - Foundation.exp(x[k])) / Foundation.exp(x[k])) }
        }
        XCTAssertLessThan(worst, 3e-7, "relative error")
        XCTAssertEqual(vectorExp(Float16x(repeating: -200))[0], 0, accuracy: 1e-37, "underflows towards 0")
    }

    func testVectorLog1pOnTheUnitInterval() {
        var worst: Float = 0
        for start in stride(from: 0 as Float, through: 1, by: 1.0 / 64) {
            var e = Float16x()
            for k in 0..<16 { e[k] = min(1, start + Float(k) * 1e-3) }
            let y = vectorLog1pUnit(e)
            for k in 0..<16 { worst = max(worst, abs(y[k] - Foundation.log1p(e[k]))) }
        }
        XCTAssertLessThan(worst, 2e-7, "absolute error")
        XCTAssertEqual(vectorLog1pUnit(Float16x(repeating: 1e-30))[0], 1e-30, accuracy: 1e-36)
    }
}
