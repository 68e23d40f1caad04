import MVCore

/// Orthogonal matrices from free parameters by the Cayley map (JPVAE §2.6):
/// O = J (I + A)(I − A)⁻¹, A skew-symmetric from m(m−1)/2 parameters, J = diag(1…1, −1…−1).
///
/// The paper draws the number r of −1 entries as floor(m / (1 + e^{−s})) from a free s; r is piecewise
/// constant in s, so s never receives a gradient and r stays wherever it starts. Here r is a fixed
/// configuration value instead (`negativeSigns`, default 0 as in the authors' code); an encoder can
/// flip the sign of any latent unit, so r does not limit what the model can express.
public struct CayleyOrthogonal {
    public let order: Int
    public let negativeSigns: Int
    public let skew: ParameterView

    public init(_ name: String, order m: Int, negativeSigns: Int, arena: ParameterArena) {
        precondition(m >= 1)
        order = m
        self.negativeSigns = Swift.min(negativeSigns, m)
        // A = 0 gives O = J: the prior starts from a plain (signed) identity pairing of the units.
        skew = arena.register("\(name).skew", rows: 1, cols: Swift.max(m * (m - 1) / 2, 1), initializer: .zeros)
    }

    /// The m×m orthogonal matrix on the tape.
    public func callAsFunction(tape: Tape, arena: ParameterArena) throws -> Var {
        let m = order
        if m == 1 {
            return tape.input(rows: 1, cols: 1) { $0[0] = negativeSigns > 0 ? -1 : 1 }
        }
        let a = tape.skewSymmetric(tape.parameter(skew, in: arena))
        let identity = tape.input(rows: m, cols: m) { p in
            p.update(repeating: 0, count: m * m)
            for i in 0..<m { p[i * m + i] = 1 }
        }
        // (I + A) and (I − A)⁻¹ commute, so (I + A)(I − A)⁻¹ = (I − A)⁻¹(I + A): one solve.
        let o = try tape.solve(tape.sub(identity, a), tape.add(identity, a))
        guard negativeSigns > 0 else { return o }
        let signs = tape.input(rows: m, cols: 1) { p in
            for i in 0..<m { p[i] = i < m - negativeSigns ? 1 : -1 }
        }
        return tape.mul(o, signs)
    }
}
