/// A diagonal Gaussian q(z | ·) per row: mean and log-variance, each rows × latent.
public struct GaussianPosterior {
    public let mean: Var
    public let logVar: Var
}
