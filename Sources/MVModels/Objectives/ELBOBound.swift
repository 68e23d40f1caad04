import MVCore
extension AggregatedVAE {
    /// The `elbo` bound: the ELBO of all observed modalities M, per row (the aggregation paper's
    /// L_S of Eq. 3 with S = M):
    ///
    ///     L(x_M) = E_{q(z|x_M)}[log p(x_M|z)] − β KL(q(z|x_M) ‖ p(z))
    ///
    /// With private latents, + Σ_{s∈M} −β KL(q(z̃_s|x_s) ‖ p(z̃_s)).
    /// Returns the negative bound as (−E[log p], KL) per row; the loss sums both and weighs the KL by β.
    func elboBound(_ inputs: BoundInputs, tape: Tape) -> (reconstruction: Var, kl: Var) {
        // L(x_M), noise slot 0.
        let full = term(
            inputs.jointPosterior!, slot: 0, x: inputs.x, privates: inputs.privates, weights: inputs.observed,
            against: nil, draw: inputs.draw, tape: tape)
        return (full.reconstruction, addingPrivateKL(to: full.kl, weights: inputs.observed, inputs, tape: tape))
    }
}
