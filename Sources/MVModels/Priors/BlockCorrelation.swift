import Foundation
import MVCore

/// A correlation structure over K blocks of latents of sizes d_k: Σ (D × D, D = Σ d_k) positive definite
/// with every diagonal block the identity — CoVAE's prior for more than two modalities or unequal sizes
/// (for two of equal size, `CrossCovariance` gives the exact canonical form instead).
///
///     S = L Lᵀ + εI,  L = I + lower(v)  (v free: D(D+1)/2 numbers, zero at the start: Σ = I),
///     Σ = N S Nᵀ,     N = blockdiag(B₁⁻¹, …, B_K⁻¹),  B_k = chol(S_kk),
///
/// so Σ_kk = B_k⁻¹ S_kk B_k⁻ᵀ = I exactly and Σ is positive definite whatever v is (N is invertible and
/// S ⪰ εI): learning v keeps the prior valid.
public struct BlockCorrelation {
    public let sizes: [Int]
    public let offsets: [Int]
    public let factor: ParameterView
    /// ε of S = L Lᵀ + εI.
    public static let jitter: Float = 1e-4

    public var dimension: Int { sizes.reduce(0, +) }

    public init(_ name: String, sizes: [Int], arena: ParameterArena) {
        self.sizes = sizes
        offsets = sizes.indices.map { sizes[..<$0].reduce(0, +) }
        let n = sizes.reduce(0, +)
        factor = arena.register("\(name).factor", rows: 1, cols: n * (n + 1) / 2, initializer: .zeros)
    }

    /// Σ on the tape (D × D).
    public func callAsFunction(tape: Tape, arena: ParameterArena) throws -> Var {
        try covariance(tape.parameter(factor, in: arena), tape: tape)
    }

    /// Σ from the free parameters v (1 × D(D+1)/2).
    public func covariance(_ v: Var, tape: Tape) throws -> Var {
        let n = dimension
        let l = tape.add(tape.lowerTriangular(v), identity(n, tape: tape))
        let s = tape.add(tape.matmul(l, l, transposeB: true), tape.scale(identity(n, tape: tape), Self.jitter))
        var normalizer: Var?
        for k in sizes.indices {
            let e = selector(k, tape: tape)  // D × d_k
            let skk = tape.matmul(e, tape.matmul(s, e), transposeA: true)  // d × d
            let inverse = try tape.inverse(try tape.cholesky(skk))
            let term = tape.matmul(e, tape.matmul(inverse, e, transposeB: true))  // D × D
            normalizer = normalizer.map { tape.add($0, term) } ?? term
        }
        let nm = normalizer!
        return tape.matmul(tape.matmul(nm, s), nm, transposeB: true)
    }

    /// The free parameters that give Σ = `target` (unit diagonal blocks, positive definite): with
    /// L = chol(target), S = target + εI, whose normalisation is target + εI scaled back to unit blocks,
    /// i.e. target's cross blocks shrunk by 1/(1 + ε).
    func assignment(for target: DoubleMatrix) throws -> ParameterAssignment {
        let n = dimension
        let l = try target.cholesky()
        var v: [Float] = []
        v.reserveCapacity(n * (n + 1) / 2)
        for i in 0..<n { for j in 0...i { v.append(Float(l[i, j] - (i == j ? 1 : 0))) } }
        return ParameterAssignment(factor, v)
    }

    func identity(_ n: Int, tape: Tape) -> Var {
        tape.input(rows: n, cols: n) { p in
            p.update(repeating: 0, count: n * n)
            for i in 0..<n { p[i * n + i] = 1 }
        }
    }

    /// E_k (D × d_k): the columns of block k of the identity.
    func selector(_ k: Int, tape: Tape) -> Var {
        let n = dimension, d = sizes[k], start = offsets[k]
        return tape.input(rows: n, cols: d) { p in
            p.update(repeating: 0, count: n * d)
            for i in 0..<d { p[(start + i) * d + i] = 1 }
        }
    }
}
