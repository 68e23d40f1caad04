import MVCore
import MVData

/// The hierarchical mask of the masked bound (aggregation paper §2): per row ρ ~ U(0, 1), then
/// m_s ~ Bernoulli(ρ) independently for each modality, restricted to the observed modalities.
/// Keyed by (seed, epoch, global row index), so every rank draws the same mask for a row.
public enum MaskSampler {
    public static func fill(_ out: UnsafeMutablePointer<Float>, batch: Batch, seed: UInt64) {
        let k = batch.viewCount
        for r in 0..<batch.rows {
            var rng = RandomStream(seed: seed, stream: RandomPurpose.mask.stream(epoch: batch.epoch, index: batch.indices[r]))
            let rho = rng.nextUniform()
            for s in 0..<k {
                let m: Float = rng.nextUniform() < rho ? 1 : 0
                out[r * k + s] = batch.observed(r, view: s) ? m : 0
            }
        }
    }
}
