import MVCore

/// The loss of a correlation objective summed over every pair of modalities (CoVAE's pre-training, JNF-Shared's
/// projectors): −Σ_pairs N · (objective − κ (‖m₁‖² + ‖m₂‖²)) over the global batch's N rows of each pair,
/// entered as this rank's 1/P share (the objectives are formed from sums over every rank's rows, so the
/// ranks' shares add up to the global loss; see `Tape.sumOverRanks`). κ pins the features' means, which
/// correlations leave free. The reconstruction column reports −Σ_pairs N · objective.
enum PairwiseCorrelationLoss {
    /// `pair(i, j)` records the pair's objective, its row count N and the means' squared norms (in the form
    /// `DeepCCAObjective` and `DistanceCorrelationObjective` return them).
    static func loss(
        modalities k: Int, meanPenalty: Float, tape: Tape,
        pair: (Int, Int) throws -> (objective: Var, rows: Var, meanSquares: Var)
    ) rethrows -> LossTerms {
        let share = 1 / Float(tape.communicator?.size ?? 1)
        var total: Var?, correlations: Var?
        for i in 0..<k {
            for j in (i + 1)..<k {
                let (objective, rows, meanSquares) = try pair(i, j)
                let term = tape.scale(tape.mul(tape.sub(objective, tape.scale(meanSquares, meanPenalty)), rows), -share)
                let score = tape.scale(tape.mul(objective, rows), -share)
                total = total.map { tape.add($0, term) } ?? term
                correlations = correlations.map { tape.add($0, score) } ?? score
            }
        }
        return LossTerms(total: total!, reconstruction: correlations!, kl: tape.scalar(0))
    }
}
