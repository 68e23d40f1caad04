import MVCore

/// A diagonal Gaussian q(z | ·) per row: mean and log-variance, each rows × latent.
public struct GaussianPosterior {
    public let mean: Var
    public let logVar: Var

    public init(mean: Var, logVar: Var) {
        self.mean = mean
        self.logVar = logVar
    }
}
