import MVCore
extension AggregatedVAE {
    /// The `mixture` bound, the mixture-based bound of the aggregation paper (Eq. 1; MMVAE's), per row:
    /// the mean over the observed modalities s ∈ M of the unimodal terms
    ///
    ///     (1/|M|) Σ_{s∈M} ( E_{q(z|x_s)}[log p(x_M|z)] − β KL(q(z|x_s) ‖ p(z)) )
    ///
    /// (0 for a row with nothing observed). With private latents, decoder t reads z̃_t ~ q(z̃_t|x_t) in
    /// the term for s = t and a draw from the prior p(z̃_t) in the others (only x_s is encoded there),
    /// and term s also carries −β KL(q(z̃_s|x_s) ‖ p(z̃_s)) with its weight 1/|M|.
    /// Returns the negative bound as (−E[log p], KL) per row; the loss sums both and weighs the KL by β.
    func mixtureBound(_ inputs: BoundInputs, tape: Tape) -> (reconstruction: Var, kl: Var) {
        let batch = inputs.batch, b = batch.rows, k = viewDimensions.count
        // Weight of unimodal term s: m_s / |M| per row (0 for rows with nothing observed).
        let count = tape.sum(inputs.observed, axis: .cols)
        let weights = tape.div(inputs.observed, tape.addScalar(count, 1e-12))
        var rec: Var?, div: Var?
        for s in 0..<k {
            let only = tape.input(rows: b, cols: k) { p in
                for r in 0..<b { for t in 0..<k { p[r * k + t] = t == s && batch.observed(r, view: s) ? 1 : 0 } }
            }
            let qs = aggregator.distribution(features: inputs.features, mask: only, tape: tape, arena: arena)
            // Only modality s is encoded: the others' private latents come from their prior.
            let mixed = inputs.privates.map { inferred in
                tape.array(count: k) { t in
                    t == s
                        ? inferred[t]
                        : priorSample(
                            width: privateLatents!.size, draw: PrivateLatents.priorStream(term: s, modality: t, modalities: k),
                            batch: batch, seed: inputs.seed, tape: tape)
                }
            }
            // E_{q(z|x_s)}[log p(x_M|z)] − β KL(q(z|x_s) ‖ p(z)), noise slot 2 + s.
            let one = term(
                qs, slot: 2 + s, x: inputs.x, privates: mixed, weights: inputs.observed, against: nil,
                draw: inputs.draw, tape: tape)
            let w = tape.maskColumn(weights, s)
            let r = tape.mul(one.reconstruction, w), d = tape.mul(one.kl, w)
            rec = rec.map { tape.add($0, r) } ?? r
            div = div.map { tape.add($0, d) } ?? d
        }
        // Each unimodal term s carries KL(q(z̃_s|x_s) ‖ p) with the term's weight m_s / |M|.
        return (rec!, addingPrivateKL(to: div!, weights: weights, inputs, tape: tape))
    }
}
