import Foundation
import MVCore
import MVConfig

/// The cross-covariance C ∈ R^{n2×n1} of JPVAE's joint prior N(0, [[I, Cᵀ], [C, I]]) (paper Eq. 6),
/// parameterised so that σ₁(C) < 1 always holds and the prior stays positive definite (Thms 2.1, 2.2).
public struct CrossCovariance {
    public enum Parameterization {
        /// C = 0: two independent VAEs.
        case zero
        /// C = U S Vᵀ, S = diag((1 − e^{−s})/(1 + e^{−s})), U, V orthogonal by the Cayley map.
        case bounded(u: CayleyOrthogonal, v: CayleyOrthogonal, singular: ParameterView)
        /// C = α C̃, C̃ (semi-)orthogonal by the Cayley map; α fixed or tanh of a free parameter.
        case scaledOrthogonal(CayleyOrthogonal, alpha: Float, learntAlpha: ParameterView?)
    }

    public let n1: Int
    public let n2: Int
    public let parameterization: Parameterization

    public init(config: PriorConfig, n1: Int, n2: Int, arena: ParameterArena) {
        self.n1 = n1
        self.n2 = n2
        switch config.cross {
        case .zero:
            parameterization = .zero
        case .bounded:
            let k = Swift.min(n1, n2)
            parameterization = .bounded(
                u: CayleyOrthogonal("prior.U", order: n2, negativeSigns: config.negativeSigns, arena: arena),
                v: CayleyOrthogonal("prior.V", order: n1, negativeSigns: 0, arena: arena),
                singular: arena.register("prior.singular", rows: 1, cols: k, initializer: .zeros))
        case .scaledOrthogonal:
            let o = CayleyOrthogonal("prior.C", order: Swift.max(n1, n2), negativeSigns: config.negativeSigns, arena: arena)
            let a =
                config.learnAlpha
                ? arena.register("prior.alpha", rows: 1, cols: 1, initializer: .constant(atanh(config.alpha)))
                : nil
            parameterization = .scaledOrthogonal(o, alpha: config.alpha, learntAlpha: a)
        }
    }

    public var isZero: Bool { if case .zero = parameterization { return true } else { return false } }

    /// C on the tape, or nil for the zero parameterisation.
    public func callAsFunction(tape: Tape, arena: ParameterArena) throws -> Var? {
        switch parameterization {
        case .zero:
            return nil
        case let .bounded(u, v, singular):
            let k = Swift.min(n1, n2)
            // (1 − e^{−s})/(1 + e^{−s}) = tanh(s/2) ∈ (−1, 1).
            let sigma = tape.tanh(tape.scale(tape.parameter(singular, in: arena), 0.5))
            let uk = tape.sliceColumns(try u(tape: tape, arena: arena), 0, count: k)
            let vk = tape.sliceColumns(try v(tape: tape, arena: arena), 0, count: k)
            return tape.matmul(tape.mul(uk, sigma), vk, transposeB: true)
        case let .scaledOrthogonal(o, alpha, learnt):
            // n1 ≤ n2: the first n1 columns of an n2×n2 orthogonal matrix (orthonormal columns);
            // n1 > n2: its first n2 rows (orthonormal rows). Either way every singular value is 1.
            let full = try o(tape: tape, arena: arena)
            let c = tape.sliceColumns(tape.sliceRows(full, 0, count: n2), 0, count: n1)
            if let learnt { return tape.mul(c, tape.tanh(tape.parameter(learnt, in: arena))) }
            return tape.scale(c, alpha)
        }
    }

    /// C as a plain matrix (n2×n1), evaluated once.
    public func value(arena: ParameterArena) throws -> Matrix {
        let tape = Tape(reserve: 16)
        guard let c = try self(tape: tape, arena: arena) else { return Matrix(rows: n2, cols: n1) }
        return tape.value(c)
    }
}
