import Foundation
import MVCore
import MVConfig

/// Simulated missing modalities, missing completely at random (MCAR): whether a view of a row is
/// dropped depends on a random draw alone, never on the data.
///
/// Each view of a row is dropped independently with probability p; when that would leave a row with
/// nothing observed, one of its views (uniformly) is kept, because a row without any modality carries
/// no information and the aggregators would only see the prior. That rule lowers the dropped share to
/// f(p) = p − p^K / K, so p is solved from f(p) = rate: the expected share of dropped views is then
/// exactly `rate` (at most (K − 1)/K, where only one view per row is left).
public enum MissingAtRandom {
    /// The largest share of dropped views that still leaves one view per row.
    public static func maximumRate(views k: Int) -> Double { DataConfig.maximumMissingRate(views: k) }

    /// The per-view drop probability p with p − p^K / K = rate (f is increasing on [0, 1]; bisection).
    public static func dropProbability(rate: Double, views k: Int) -> Double {
        precondition(rate >= 0 && rate <= maximumRate(views: k) + 1e-9, "missing rate \(rate) outside [0, \(maximumRate(views: k))]")
        let rate = Swift.min(rate, maximumRate(views: k))
        if rate == 0 { return 0 }
        var lo = 0.0, hi = 1.0
        for _ in 0..<60 {
            let p = (lo + hi) / 2
            if p - Foundation.pow(p, Double(k)) / Double(k) < rate { lo = p } else { hi = p }
        }
        return (lo + hi) / 2
    }

    /// The observed-view mask of `rows` rows: `explicit` (what the data itself lacks, nil = all present)
    /// with a share `rate` of views dropped on top. Row i draws from the Philox stream of
    /// (seed, `part`, i), so the mask depends only on the seed, the data file part and the row.
    /// A row keeps at least one of the views `explicit` observes (rows it leaves empty stay empty).
    public static func mask(
        rows: Int, views k: Int, rate: Double, seed: UInt64, part: Int,
        explicit: ViewMask? = nil, origin: String = "data.missingRate"
    ) throws -> ViewMask {
        let p = Float(dropProbability(rate: rate, views: k))
        var values = [UInt8](repeating: 1, count: rows * k)
        var available = [Int]()
        available.reserveCapacity(k)
        for i in 0..<rows {
            var rng = RandomStream(seed: seed, stream: RandomPurpose.missingness.stream(epoch: part, index: i))
            available.removeAll(keepingCapacity: true)
            var kept = 0
            for s in 0..<k {
                let present = explicit?.isObserved(row: i, view: s) ?? true
                if present { available.append(s) }
                // Every view consumes one draw, present or not, so an explicit mask does not shift the others.
                let keep = rng.nextUniform() >= p
                values[i * k + s] = present && keep ? 1 : 0
                if present && keep { kept += 1 }
            }
            if kept == 0 && !available.isEmpty {
                values[i * k + available[rng.nextInt(below: available.count)]] = 1
            }
        }
        return try ViewMask(rows: rows, views: k, values: values, origin: origin)
    }
}
