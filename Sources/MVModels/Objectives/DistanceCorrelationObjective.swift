import Foundation
import MVCore

/// The squared distance correlation (Székely, Rizzo & Bakirov 2007) of two views' features over the whole
/// global batch — CoVAE's alternative pre-training objective (App. B: "distance correlation (dcor) for
/// pre-training"):
///
///     dCor²(X, Y) = dCov²(X, Y) / √(dVar²(X) dVar²(Y)),   dCov²(X, Y) = (1/N²) Σ_ij A_ij B_ij,
///
/// with A the double-centred matrix of distances a_ij = ‖x_i − x_j‖ (B likewise for y). Unlike deep CCA
/// it sees non-linear dependence and needs no regularisation; it costs N × N per pair of views.
///
/// Distances need every pair of rows, not sums of per-row terms: each rank places its rows in an N × p
/// matrix of zeros at its offset in the global batch (a constant selection matrix, so the VJP takes its
/// rows back out) and `Tape.sumOverRanks` assembles the global batch on every rank. With 0/1 `weights`,
/// rows of weight 0 are left out exactly (weighted centring). √ is taken of d² + δ (δ = 10⁻⁸) so that
/// the diagonal's zero distances have a gradient.
public enum DistanceCorrelationObjective {
    static let delta: Float = 1e-8

    /// dCor²(f₁, f₂) (1 × 1), the global row count N (1 × 1), and ‖m₁‖² + ‖m₂‖² of the features' means
    /// (as in `DeepCCAObjective`: shifts change nothing, so a small penalty pins them); 0 when N < 3.
    public static func squared(_ features1: Var, _ features2: Var, weights: Var? = nil, tape: Tape) throws -> (
        objective: Var, rows: Var, meanSquares: Var
    ) {
        let b = tape.rows(features1)
        precondition(tape.rows(features2) == b, "distance correlation: the views' features need the same rows")
        let size = tape.communicator?.size ?? 1, rank = tape.communicator?.rank ?? 0
        // Every rank's row count, then this rank's offset in the global batch.
        // (A pointer into the tape, not a Matrix: the step must not allocate.)
        let counts = tape.valuePointer(
            try tape.sumOverRanks(
                tape.input(rows: 1, cols: size) { p in
                    p.update(repeating: 0, count: size)
                    p[rank] = Float(b)
                }))
        var n = 0, offset = 0
        for r in 0..<size {
            if r < rank { offset += Int(counts[r]) }
            n += Int(counts[r])
        }
        let place = tape.input(rows: n, cols: b) { p in
            p.update(repeating: 0, count: n * b)
            for r in 0..<b { p[(offset + r) * b + r] = 1 }
        }
        func global(_ x: Var) throws -> Var { try tape.sumOverRanks(tape.matmul(place, x)) }
        let w = try global(weights ?? tape.input(rows: b, cols: 1) { $0.update(repeating: 1, count: b) })  // N × 1
        let rows = tape.sum(w)
        let count = tape.item(rows)
        let x = try global(features1), y = try global(features2)
        let inverse = 1 / Swift.max(count, 1)
        let meanSquares = tape.add(
            tape.sum(tape.square(tape.scale(tape.matmul(w, x, transposeA: true), inverse))),
            tape.sum(tape.square(tape.scale(tape.matmul(w, y, transposeA: true), inverse))))
        guard count >= 3 else { return (tape.scale(tape.add(tape.sum(x), tape.sum(y)), 0), rows, meanSquares) }
        let pairWeights = tape.matmul(w, w, transposeB: true)  // N × N
        func centredDistances(_ z: Var) -> Var {
            let norms = tape.sum(tape.square(z), axis: .cols)  // N × 1
            let squared = tape.sub(tape.add(norms, tape.transpose(norms)), tape.scale(tape.matmul(z, z, transposeB: true), 2))
            // max(d², 0) + δ: rounding can leave a tiny negative d² on the diagonal.
            let d = tape.exp(tape.scale(tape.log(tape.addScalar(tape.relu(squared), delta)), 0.5))
            let rowMeans = tape.scale(tape.matmul(d, w), inverse)  // N × 1
            let grand = tape.scale(tape.matmul(w, rowMeans, transposeA: true), inverse)  // 1 × 1
            return tape.add(tape.sub(tape.sub(d, rowMeans), tape.transpose(rowMeans)), grand)
        }
        let a = centredDistances(x), c = centredDistances(y)
        func moment(_ u: Var, _ v: Var) -> Var { tape.scale(tape.sum(tape.mul(tape.mul(u, v), pairWeights)), inverse * inverse) }
        let cross = moment(a, c), vx = moment(a, a), vy = moment(c, c)
        let norm = tape.exp(tape.scale(tape.log(tape.mul(vx, vy)), 0.5))
        return (tape.div(cross, norm), rows, meanSquares)
    }
}
