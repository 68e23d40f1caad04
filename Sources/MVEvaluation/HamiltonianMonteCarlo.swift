import Foundation
import MVCore

/// Hamiltonian Monte Carlo (Duane et al. 1987; Neal 2011, "MCMC using Hamiltonian dynamics") with an
/// identity mass matrix: one independent chain per row, all rows advanced together so every leapfrog
/// step is one batched pass of the target's log-density and gradient.
///
/// Each of `steps` transitions draws a momentum p ~ N(0, I), takes `leapfrogSteps` leapfrog steps of
/// size ε on H(z, p) = −log π(z) + ½‖p‖², and accepts the end point with probability
/// min(1, exp(H_start − H_end)) (Metropolis–Hastings; a non-finite H_end is rejected). Every random number
/// is keyed by the row's position (`EvaluationNoise`), so results do not depend on how rows are chunked.
public struct HamiltonianMonteCarlo {
    public let steps: Int
    public let leapfrogSteps: Int
    public let stepSize: Float

    public init(steps: Int, leapfrogSteps: Int, stepSize: Float) {
        self.steps = steps
        self.leapfrogSteps = leapfrogSteps
        self.stepSize = stepSize
    }

    /// log π(z) per row and its gradient ∇_z log π (rows × d), for the rows of z.
    public typealias Target = (Matrix) throws -> (logDensity: [Float], gradient: Matrix)

    public struct Chains {
        /// The chains' states after the last transition, rows × d.
        public let samples: Matrix
        /// Accepted transitions / all transitions, over every row.
        public let acceptanceRate: Double
    }

    /// Runs every row's chain from `start`; `stream` (≥ 0, below 2³⁰ / steps) separates the random numbers of
    /// independent runs. `visit`, if given, sees every transition's index and the chains' states after it.
    public func run(
        from start: Matrix, target: Target, noise: EvaluationNoise, stream: Int,
        visit: ((Int, Matrix) -> Void)? = nil
    ) throws -> Chains {
        let n = start.rows, d = start.cols, eps = stepSize
        var z = start
        var (logp, grad) = try target(z)
        var accepted = 0
        for step in 0..<steps {
            // Sub-sequences from 2³¹ up, two per transition: clear of the callers' own (below 2³¹).
            let key = (1 << 31) + 2 * (stream * steps + step)
            var p = noise.normals(cols: d, stream: key)
            let u = noise.uniforms(stream: key + 1)
            let startH = (0..<n).map { r in Double(-logp[r]) + kinetic(p, r) }
            var zNew = z, gradNew = grad, logpNew = logp
            for _ in 0..<leapfrogSteps {
                // Half a step of momentum, a full step of position, half a step of momentum.
                for q in 0..<(n * d) { p.storage[q] += 0.5 * eps * gradNew.storage[q] }
                for q in 0..<(n * d) { zNew.storage[q] += eps * p.storage[q] }
                (logpNew, gradNew) = try target(zNew)
                for q in 0..<(n * d) { p.storage[q] += 0.5 * eps * gradNew.storage[q] }
            }
            for r in 0..<n {
                let endH = Double(-logpNew[r]) + kinetic(p, r)
                guard endH.isFinite, Foundation.log(Double(u[r])) < startH[r] - endH else { continue }
                accepted += 1
                logp[r] = logpNew[r]
                for c in 0..<d {
                    z[r, c] = zNew[r, c]
                    grad[r, c] = gradNew[r, c]
                }
            }
            visit?(step, z)
        }
        return Chains(samples: z, acceptanceRate: n * steps > 0 ? Double(accepted) / Double(n * steps) : 0)
    }

    func kinetic(_ p: Matrix, _ r: Int) -> Double {
        var s = 0.0
        for c in 0..<p.cols { s += Double(p[r, c]) * Double(p[r, c]) }
        return 0.5 * s
    }
}
