import XCTest
@testable import MVConfig
@testable import MVCore
@testable import MVData
@testable import MVDistributed
@testable import MVEvaluation
@testable import MVIO
@testable import MVModels
@testable import MVTraining

/// Finite-difference checks of every tape op's VJP (see `GradientCheck`).
/// Inputs are tiny (≤ 5×5) so the whole suite runs in well under a second.
final class GradientCheckTests: XCTestCase {

    // MARK: The check itself

    /// A wrong VJP must be reported: the forward computes one function while the tape records the
    /// gradient of another, because part of it passes through a constant copy of the input's value.
    func testTheCheckReportsAWrongVJP() throws {
        let x = uniform(3, 4, seed: 7, 0.5, 1.5)
        // Right: y = x ⊙ x.
        XCTAssertTrue(try GradientCheck([x]).mismatches { t, v in t.mul(v[0], v[0]) }.isEmpty)
        // Half the gradient missing: y = x ⊙ c, c = x as a constant, so the VJP is x where it should be 2x.
        let half = try GradientCheck([x]).mismatches { t, v in t.mul(v[0], t.constant(t.value(v[0]))) }
        XCTAssertEqual(half.count, x.count)
        // Off by 1–3 %: y = x + 0.01 x², the square through a constant (VJP 1 instead of 1 + 0.02 x).
        let slight = try GradientCheck([x]).mismatches { t, v in
            var square = t.value(v[0])
            for i in square.storage.indices { square.storage[i] *= 0.01 * square.storage[i] }
            return t.add(v[0], t.constant(square))
        }
        XCTAssertGreaterThan(slight.count, x.count / 2, "a 1–3 % error in most coordinates is caught")
    }

    // MARK: Matrix product and shape ops

    func testMatmulAllTransposeCombinations() {
        let (m, k, n) = (3, 4, 2)
        for tA in [false, true] {
            for tB in [false, true] {
                let a = uniform(tA ? k : m, tA ? m : k, seed: 1)
                let b = uniform(tB ? n : k, tB ? k : n, seed: 2)
                GradientCheck([a, b]).run("matmul(transposeA: \(tA), transposeB: \(tB))") { t, v in
                    t.matmul(v[0], v[1], transposeA: tA, transposeB: tB)
                }
            }
        }
    }

    func testMatmulWithOneConstantOperand() {
        GradientCheck([uniform(3, 4, seed: 3), uniform(4, 2, seed: 4)], constants: [0]).run("matmul(const, var)") { t, v in
            t.matmul(v[0], v[1])
        }
        GradientCheck([uniform(3, 4, seed: 3), uniform(4, 2, seed: 4)], constants: [1]).run("matmul(var, const)") { t, v in
            t.matmul(v[0], v[1])
        }
    }

    func testTranspose() {
        GradientCheck([uniform(3, 5, seed: 5)]).run("transpose") { t, v in t.transpose(v[0]) }
    }

    func testConcatColumns() {
        GradientCheck([uniform(3, 2, seed: 6), uniform(3, 3, seed: 7)]).run("concatColumns") { t, v in
            t.concatColumns(v[0], v[1])
        }
        GradientCheck([uniform(3, 2, seed: 6), uniform(3, 3, seed: 7)], constants: [0]).run("concatColumns(const, var)") { t, v in
            t.concatColumns(v[0], v[1])
        }
    }

    func testSliceColumns() {
        GradientCheck([uniform(3, 5, seed: 8)]).run("sliceColumns") { t, v in t.sliceColumns(v[0], 1, count: 3) }
    }

    func testSliceRows() {
        GradientCheck([uniform(5, 3, seed: 9)]).run("sliceRows") { t, v in t.sliceRows(v[0], 2, count: 2) }
    }

    // MARK: Elementwise arithmetic with broadcasting

    /// Operand shape pairs for a 3×4 output: same shape, each broadcast form on either side, and both sides at once.
    private let broadcastPairs: [((Int, Int), (Int, Int))] = [
        ((3, 4), (3, 4)),
        ((3, 4), (1, 4)), ((3, 4), (3, 1)), ((3, 4), (1, 1)),
        ((1, 4), (3, 4)), ((3, 1), (3, 4)), ((1, 1), (3, 4)),
        ((3, 1), (1, 4)),
    ]

    private func checkBinary(_ name: String, denominatorSafe: Bool = false, _ op: @escaping (Tape, Var, Var) -> Var) {
        for (i, (sa, sb)) in broadcastPairs.enumerated() {
            let a = uniform(sa.0, sa.1, seed: 10 + UInt64(i))
            // Division needs |b| bounded away from 0 to keep the quotient's curvature small.
            let b =
                denominatorSafe
                ? awayFromZero(sb.0, sb.1, seed: 20 + UInt64(i)).map { $0 < 0 ? $0 - 0.3 : $0 + 0.3 }
                : uniform(sb.0, sb.1, seed: 20 + UInt64(i))
            GradientCheck([a, b]).run("\(name)(\(sa.0)x\(sa.1), \(sb.0)x\(sb.1))") { t, v in op(t, v[0], v[1]) }
        }
    }

    func testAdd() { checkBinary("add") { $0.add($1, $2) } }
    func testSub() { checkBinary("sub") { $0.sub($1, $2) } }
    func testMul() { checkBinary("mul") { $0.mul($1, $2) } }
    func testDiv() { checkBinary("div", denominatorSafe: true) { $0.div($1, $2) } }

    func testOperandUsedTwiceAccumulates() {
        GradientCheck([uniform(3, 3, seed: 30)]).run("mul(x, x)") { t, v in t.mul(v[0], v[0]) }
        GradientCheck([uniform(3, 3, seed: 31)]).run("sub(x, x·x)") { t, v in t.sub(v[0], t.mul(v[0], v[0])) }
    }

    func testScaleAddScalarNegSquare() {
        let x = uniform(3, 4, seed: 32)
        GradientCheck([x]).run("scale") { t, v in t.scale(v[0], -1.7) }
        GradientCheck([x]).run("addScalar") { t, v in t.addScalar(v[0], 0.3) }
        GradientCheck([x]).run("neg") { t, v in t.neg(v[0]) }
        GradientCheck([x]).run("square") { t, v in t.square(v[0]) }
    }

    // MARK: Activations

    func testSmoothActivations() {
        GradientCheck([uniform(3, 4, seed: 40)]).run("exp") { t, v in t.exp(v[0]) }
        GradientCheck([uniform(3, 4, seed: 41, 0.5, 2)]).run("log") { t, v in t.log(v[0]) }
        GradientCheck([uniform(3, 4, seed: 42, -3, 3)]).run("softplus") { t, v in t.softplus(v[0]) }
        GradientCheck([uniform(3, 4, seed: 43, -3, 3)]).run("sigmoid") { t, v in t.sigmoid(v[0]) }
        GradientCheck([uniform(3, 4, seed: 44, -1.5, 1.5)]).run("tanh") { t, v in t.tanh(v[0]) }
    }

    func testPiecewiseLinearActivations() {
        let x = awayFromZero(4, 4, seed: 45)
        GradientCheck([x]).run("relu") { t, v in t.relu(v[0]) }
        GradientCheck([x]).run("leakyRelu(default slope)") { t, v in t.leakyRelu(v[0]) }
        GradientCheck([x]).run("leakyRelu(0.2)") { t, v in t.leakyRelu(v[0], slope: 0.2) }
    }

    // MARK: Reductions and normalisation

    func testSumAndMean() {
        let x = uniform(3, 4, seed: 50)
        for axis in [Axis.rows, .cols, .all] {
            GradientCheck([x]).run("sum(\(axis))") { t, v in t.sum(v[0], axis: axis) }
            GradientCheck([x]).run("mean(\(axis))") { t, v in t.mean(v[0], axis: axis) }
        }
    }

    func testLogsumexp() {
        GradientCheck([uniform(3, 4, seed: 51, -2, 2)]).run("logsumexp") { t, v in t.logsumexp(v[0]) }
    }

    func testSoftmax() {
        GradientCheck([uniform(3, 4, seed: 52, -2, 2)]).run("softmax") { t, v in t.softmax(v[0]) }
    }

    func testLayerNorm() {
        GradientCheck([uniform(3, 5, seed: 53, -2, 2)]).run("layerNorm") { t, v in t.layerNorm(v[0]) }
    }

    // MARK: Log-likelihood terms

    func testBCEWithLogits() {
        let logits = uniform(3, 4, seed: 60, -3, 3), targets = uniform(3, 4, seed: 61, 0, 1)
        GradientCheck([logits, targets]).run("bceWithLogits") { t, v in t.bceWithLogits(v[0], targets: v[1]) }
    }

    func testGaussianLogDensity() {
        let shapes: [(x: (Int, Int), mean: (Int, Int), logVar: (Int, Int))] = [
            ((3, 4), (3, 4), (3, 4)),
            ((3, 4), (3, 4), (1, 4)),  // the fast paths: full x and mean, per-column or scalar log-variance
            ((3, 4), (3, 4), (1, 1)),
            ((3, 4), (1, 4), (3, 1)),
            ((3, 4), (3, 1), (1, 1)),
            ((1, 4), (3, 4), (1, 4)),
        ]
        for (i, s) in shapes.enumerated() {
            let seed = 62 + 3 * UInt64(i)
            let x = uniform(s.x.0, s.x.1, seed: seed, -2, 2)
            let mean = uniform(s.mean.0, s.mean.1, seed: seed + 1)
            let logVar = uniform(s.logVar.0, s.logVar.1, seed: seed + 2, -0.7, 0.7)
            GradientCheck([x, mean, logVar]).run("gaussianLogDensity(x \(s.x), mean \(s.mean), logVar \(s.logVar))") { t, v in
                t.gaussianLogDensity(v[0], mean: v[1], logVar: v[2])
            }
        }
    }

    func testLaplaceLogDensity() {
        let shapes: [(x: (Int, Int), loc: (Int, Int), logScale: (Int, Int))] = [
            ((3, 4), (3, 4), (3, 4)),
            ((3, 4), (3, 4), (1, 4)),  // the fast paths: full x and mean, per-column or scalar log-variance
            ((3, 4), (3, 4), (1, 1)),
            ((3, 4), (1, 4), (3, 1)),
            ((3, 4), (3, 1), (1, 1)),
        ]
        for (i, s) in shapes.enumerated() {
            let seed = 80 + 3 * UInt64(i)
            let loc = uniform(s.loc.0, s.loc.1, seed: seed)
            // x = loc + r with |r| ≥ 0.2, so no ±h step moves a residual across the kink of |·|.
            var x = awayFromZero(s.x.0, s.x.1, seed: seed + 1)
            for r in 0..<x.rows { for c in 0..<x.cols { x[r, c] += loc[s.loc.0 == 1 ? 0 : r, s.loc.1 == 1 ? 0 : c] } }
            let logScale = uniform(s.logScale.0, s.logScale.1, seed: seed + 2, -0.7, 0.7)
            GradientCheck([x, loc, logScale]).run("laplaceLogDensity(x \(s.x), loc \(s.loc), logScale \(s.logScale))") { t, v in
                t.laplaceLogDensity(v[0], location: v[1], logScale: v[2])
            }
        }
    }

    // MARK: Small dense linear algebra

    func testInverse() {
        GradientCheck([wellConditioned(3, seed: 90)]).run("inverse") { t, v in try t.inverse(v[0]) }
    }

    func testSolve() {
        GradientCheck([wellConditioned(3, seed: 91), uniform(3, 2, seed: 92)]).run("solve") { t, v in try t.solve(v[0], v[1]) }
    }

    func testCholesky() {
        // A = M Mᵀ + n·I built on the tape: perturbing M keeps A symmetric positive definite, which
        // is the only kind of perturbation the (symmetrised) Cholesky gradient is defined for.
        let n = 3
        GradientCheck([uniform(n, n, seed: 93)]).run("cholesky") { t, v in
            let a = t.add(t.matmul(v[0], v[0], transposeB: true), t.constant(Float(n) * Matrix.identity(n)))
            return try t.cholesky(a)
        }
    }

    func testLogDeterminant() {
        GradientCheck([wellConditioned(4, seed: 94)]).run("logDeterminant") { t, v in try t.logDeterminant(v[0]) }
        // Negative determinant: log|det A| still has gradient A⁻ᵀ.
        var a = wellConditioned(3, seed: 95)
        for c in 0..<3 { a[0, c] = -a[0, c] }
        GradientCheck([a]).run("logDeterminant(det < 0)") { t, v in try t.logDeterminant(v[0]) }
    }

    func testSkewSymmetric() {
        GradientCheck([uniform(1, 6, seed: 96)]).run("skewSymmetric(1x6)") { t, v in t.skewSymmetric(v[0]) }
        GradientCheck([uniform(3, 1, seed: 97)]).run("skewSymmetric(3x1)") { t, v in t.skewSymmetric(v[0]) }
    }

    func testLowerTriangular() {
        GradientCheck([uniform(1, 6, seed: 98)]).run("lowerTriangular(diagonal)") { t, v in t.lowerTriangular(v[0]) }
        GradientCheck([uniform(6, 1, seed: 99)]).run("lowerTriangular(no diagonal)") { t, v in
            t.lowerTriangular(v[0], includeDiagonal: false)
        }
    }

    // MARK: Composition

    /// A small Gaussian decoder: gradients must accumulate correctly through a chain of ops
    /// with broadcast bias, shared inputs and a reduction.
    func testComposedGaussianDecoder() {
        let z = uniform(4, 2, seed: 100), w = uniform(2, 3, seed: 101), b = uniform(1, 3, seed: 102)
        let x = uniform(4, 3, seed: 103), logVar = uniform(1, 3, seed: 104, -0.5, 0.5)
        GradientCheck([z, w, b, x, logVar], constants: [3]).run("decoder") { t, v in
            let h = t.tanh(t.add(t.matmul(v[0], v[1]), v[2]))
            let ll = t.gaussianLogDensity(v[3], mean: h, logVar: v[4])
            return t.sum(t.layerNorm(t.concatColumns(ll, h)), axis: .rows)
        }
    }
}

private extension Matrix {
    func map(_ f: (Float) -> Float) -> Matrix { Matrix(rows: rows, cols: cols, storage.map(f)) }
}
