import MVCore

/// Mixture of products of experts (Sutter et al. 2021, MoPoE): q(z | x_S) is the uniform mixture, over
/// the non-empty subsets T ⊆ S, of the product of experts q_PoE(z | x_T) (with the prior expert); for
/// S = ∅ the prior. The components are the 2^K subsets of all K modalities (T = ∅ is the prior itself),
/// weighted [T ⊆ S, T ≠ ∅] / (2^{|S|} − 1) and [S = ∅]: the cost grows as 2^K, so keep K small.
public struct MixtureOfProductsOfExperts: Aggregator {
    public let product: ProductOfExperts

    public var latent: Int { product.latent }

    public init(product: ProductOfExperts) { self.product = product }

    public init(_ name: String, features: Int, latent: Int, modalities: Int, arena: ParameterArena) {
        precondition(modalities <= 12, "MoPoE mixes 2^K subsets; K = \(modalities) is too many")
        product = ProductOfExperts(name, features: features, latent: latent, modalities: modalities, arena: arena)
    }

    public func distribution(features: [Var], mask: Var, tape: Tape, arena: ParameterArena) -> PosteriorMixture {
        let k = product.experts.count, subsets = 1 << k, rows = tape.rows(mask)
        let experts = product.expertParameters(features: features, tape: tape, arena: arena)
        let components = tape.array(count: subsets) { t in
            let members = tape.input(rows: 1, cols: k) { p in for s in 0..<k { p[s] = t & (1 << s) != 0 ? 1 : 0 } }
            return product.product(experts, mask: members, tape: tape)
        }
        let m = tape.valuePointer(mask)
        let weights = tape.input(rows: rows, cols: subsets) { w in
            for r in 0..<rows {
                var observed = 0
                for s in 0..<k where m[r * k + s] != 0 { observed |= 1 << s }
                let share = observed == 0 ? 0 : 1 / Float((1 << observed.nonzeroBitCount) - 1)
                for t in 0..<subsets {
                    let inside = t != 0 && t & ~observed == 0
                    w[r * subsets + t] = observed == 0 ? (t == 0 ? 1 : 0) : (inside ? share : 0)
                }
            }
        }
        return PosteriorMixture(components: components, weights: weights)
    }
}
