import Foundation
import MVCore

extension AggregatedVAE {
    /// `mixtureSampling: onePerRow`: a term's expectation under a mixture q = Σ_c w_c q_c from one draw
    /// per row, E_q[f] = Σ_c w_c E_{q_c}[f] estimated by n_r w_c f(z), c uniform over the n_r components
    /// present in row r (w_c > 0) and z ~ q_c. Unbiased for the same bound as `everyComponent`, with one
    /// decoder pass per modality per row instead of one per component (MoPoE at K = 2: 2 passes, not 6).
    /// With MoE's and MoPoE's uniform weights n_r w_c = 1; a learnt head's weights keep their gradient.
    /// As there, KL terms are the Monte-Carlo log q(z) − log p(z) with q's parameters detached.
    /// The component is drawn from the row's own stream (seed, epoch, global index, slot): the same on
    /// every rank and at every world size.
    func oneComponentPerRow(
        _ q: PosteriorMixture, slot: Int, x: [Var], privates: [Var]?, weights: Var, against p: PosteriorMixture?,
        draw: Draw, tape: Tape
    ) -> (reconstruction: Var, kl: Var) {
        let w = q.weights!, batch = draw.batch, b = batch.rows, count = q.components.count
        let wv = tape.valuePointer(w)
        // Per row: the chosen component's index and n_r, the number of components present in the row.
        let choice = tape.input(rows: b, cols: 2) { out in
            for r in 0..<b {
                var present = 0
                for c in 0..<count where wv[r * count + c] > 0 { present += 1 }
                var rng = RandomStream(
                    seed: draw.seed, stream: RandomPurpose.component.stream(epoch: batch.epoch, index: batch.indices[r]),
                    block: UInt64(slot) << 32)
                var pick = min(Int(rng.nextUniform() * Float(present)), present - 1)
                var chosen = 0
                for c in 0..<count where wv[r * count + c] > 0 {
                    if pick == 0 { chosen = c; break }
                    pick -= 1
                }
                out[2 * r] = Float(chosen)
                out[2 * r + 1] = Float(present)
            }
        }
        let chosen = tape.valuePointer(choice)
        // The chosen component's parameters and weight, row by row: Σ_c [c_r = c] (μ_c, log σ_c², w_c).
        var mean: Var?, logVar: Var?, weight: Var?
        tape.forEachPresentComponent(of: q) { c, component in
            let pick = tape.input(rows: b, cols: 1) { out in for r in 0..<b { out[r] = Int(chosen[2 * r]) == c ? 1 : 0 } }
            let m = tape.mul(component.mean, pick), v = tape.mul(component.logVar, pick),
                u = tape.mul(tape.sliceColumns(w, c, count: 1), pick)
            mean = mean.map { tape.add($0, m) } ?? m
            logVar = logVar.map { tape.add($0, v) } ?? v
            weight = weight.map { tape.add($0, u) } ?? u
        }
        let z = sample(GaussianPosterior(mean: mean!, logVar: logVar!), draw: slot, batch: batch, seed: draw.seed, tape: tape)
        let scale = tape.mul(weight!, tape.sliceColumns(choice, 1, count: 1))
        let reconstruction = tape.mul(weightedNLL(z: z, x: x, privates: privates, weights: weights, tape: tape), scale)
        let kl = tape.mul(
            tape.sub(
                tape.logDensity(z, tape.detached(q)),
                p.map { tape.logDensity(z, $0) } ?? tape.standardNormalLogDensity(z)), scale)
        return (reconstruction, kl)
    }
}
