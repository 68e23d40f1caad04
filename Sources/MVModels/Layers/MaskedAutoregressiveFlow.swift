import Foundation
import MVCore

/// A masked autoregressive flow (Papamakarios et al. 2017): u = f(z), a stack of MADE blocks, each
/// u_i = (z_i − μ_i(z_<i)) · exp(−α_i(z_<i)) in its own ordering, the ordering reversed from one block to
/// the next. The density direction is one parallel pass per block, with log |det ∂u/∂z| = −Σ_i α_i
/// (each block's Jacobian is triangular in its ordering); the inverse, used to sample, is sequential
/// over the D coordinates of each block (batched over rows).
public struct MaskedAutoregressiveFlow {
    public let blocks: [MADE]
    public let dimension: Int

    public init(_ name: String, dimension: Int, blocks: Int, hidden: [Int], activation: Activation, arena: ParameterArena) {
        self.dimension = dimension
        self.blocks = (0..<blocks).map { b in
            MADE("\(name).block\(b)", dimension: dimension, hidden: hidden, reversed: b % 2 == 1, activation: activation, arena: arena)
        }
    }

    /// u = f(z) and log |det ∂f/∂z| per row (rows × 1).
    public func forward(_ z: Var, tape: Tape, arena: ParameterArena) -> (u: Var, logDet: Var) {
        var x = z, logDet: Var?
        for block in blocks {
            let (shift, logScale) = block(x, tape: tape, arena: arena)
            x = tape.mul(tape.sub(x, shift), tape.exp(tape.neg(logScale)))
            let term = tape.neg(tape.sum(logScale, axis: .cols))
            logDet = logDet.map { tape.add($0, term) } ?? term
        }
        return (x, logDet ?? tape.input(rows: tape.rows(z), cols: 1) { $0.update(repeating: 0, count: tape.rows(z)) })
    }

    /// z = f⁻¹(u) for the rows of `u` (values only): block by block from the last, coordinate by
    /// coordinate in each block's ordering, z_i = u_i · exp(α_i(z_<i)) + μ_i(z_<i).
    public func inverse(_ u: Matrix, arena: ParameterArena, tape: Tape = Tape()) -> Matrix {
        var target = u
        let rows = u.rows, d = dimension
        for block in blocks.reversed() {
            var z = Matrix(rows: rows, cols: d)
            let order = (0..<d).sorted { block.degrees[$0] < block.degrees[$1] }
            for i in order {
                tape.reset()
                let (shift, logScale) = block(tape.constant(z), tape: tape, arena: arena)
                let mu = tape.valuePointer(shift), alpha = tape.valuePointer(logScale)
                for r in 0..<rows { z[r, i] = target[r, i] * Foundation.exp(alpha[r * d + i]) + mu[r * d + i] }
            }
            target = z
        }
        return target
    }
}
