import Foundation
import MVCore

/// The yardsticks' score for count views: −log Poisson(truth | ℓ·share) per row, with the row's observed
/// total ℓ (as the count likelihoods take it) and each feature's share from the yardstick (the training
/// split's proportions, or a ridge prediction clipped at 10⁻⁶ and renormalised).
func poissonNegativeLogLikelihood(shares: Matrix, truth: Matrix) -> [Double] {
    (0..<truth.rows).map { r in
        var library = 0.0, total = 0.0
        for c in 0..<truth.cols {
            library += Double(truth[r, c])
            total += Swift.max(Double(shares[shares.rows == 1 ? 0 : r, c]), 1e-6)
        }
        guard library > 0 else { return 0 }
        var nll = 0.0
        for c in 0..<truth.cols {
            let x = Double(truth[r, c]), mu = library * Swift.max(Double(shares[shares.rows == 1 ? 0 : r, c]), 1e-6) / total
            nll += mu - x * Foundation.log(mu) + lgamma(x + 1)
        }
        return nll
    }
}
