import MVCore
extension AggregatedVAE {
    /// The `masked` bound of the aggregation paper (§2), per row, with M the observed modalities and
    /// S ⊆ M drawn by the hierarchical mask (`MaskSampler`):
    ///
    ///     L(x_S) + L(x_{M∖S} | x_S), where
    ///     L(x_S)           = E_{q(z|x_S)}[log p(x_S|z)]     − β KL(q(z|x_S) ‖ p(z))       (Eq. 3)
    ///     L(x_{M∖S} | x_S) = E_{q(z|x_M)}[log p(x_{M∖S}|z)] − β KL(q(z|x_M) ‖ q(z|x_S))   (Eq. 4)
    ///
    /// With private latents, + Σ_{s∈M} −β KL(q(z̃_s|x_s) ‖ p(z̃_s)): every observed modality's private
    /// latent is inferred once, in L(x_S) or in L(x_{M∖S} | x_S).
    /// Returns the negative bound as (−E[log p], KL) per row; the loss sums both and weighs the KL by β.
    func maskedBound(_ inputs: BoundInputs, tape: Tape) -> (reconstruction: Var, kl: Var) {
        let batch = inputs.batch, k = viewDimensions.count
        let subset = tape.input(rows: batch.rows, cols: k) { MaskSampler.fill($0, batch: batch, seed: inputs.seed) }
        let qS = aggregator.distribution(features: inputs.features, mask: subset, tape: tape, arena: arena)
        // L(x_S), noise slot 0.
        let given = term(
            qS, slot: 0, x: inputs.x, privates: inputs.privates, weights: subset, against: nil,
            draw: inputs.draw, tape: tape)
        // L(x_{M∖S} | x_S), noise slot 1.
        let rest = term(
            inputs.jointPosterior!, slot: 1, x: inputs.x, privates: inputs.privates,
            weights: tape.sub(inputs.observed, subset), against: qS, draw: inputs.draw, tape: tape)
        let reconstruction = tape.add(given.reconstruction, rest.reconstruction)
        let kl = tape.add(given.kl, rest.kl)
        return (reconstruction, addingPrivateKL(to: kl, weights: inputs.observed, inputs, tape: tape))
    }
}
