"""JPVAE (Joint Prior VAE; *Correlating Variational Autoencoders Natively For Multi-View Imputation*,
arXiv:2411.03097) in plain PyTorch, the peer of configs/jpvae-fashion-orthogonal.yaml for
scripts/peers/multivae_bench.py (family `jpvae`): no PyTorch library implements it.

The model, layer for layer the one `mvvae` builds (Sources/MVModels/Families/JPVAE.swift):
  - one VAE per view: encoder d→512→512→(μ, log σ²) of 20 each (ReLU between layers), decoder
    20→512→512→d giving Bernoulli logits;
  - the joint prior z = (z₁, z₂) ~ N(0, Σ), Σ = [[I, Cᵀ], [C, I]], C (n₂×n₁) = α·O with α = 0.9 fixed and
    O orthogonal by the Cayley map O = (I − A)⁻¹(I + A) of a skew matrix A, whose strictly lower
    triangle (row by row) holds the m(m−1)/2 free parameters, zero at the start (O = I);
  - loss per batch: Σ_rows Σ_views BCE(logits, x) + β Σ_rows KL(q₁(z₁|x₁) q₂(z₂|x₂) ‖ N(0, Σ)).

The KL, written from the Gaussian KL formula: with S = diag(σ₁², σ₂²) and the block inverse
Σ⁻¹ = [[D₁, −D₁Cᵀ], [−CD₁, D₂]], D₁ = (I − CᵀC)⁻¹, D₂ = (I − CCᵀ)⁻¹, and ln|Σ| = ln|I − CᵀC|,

  KL = ½[tr(Σ⁻¹S) + μᵀΣ⁻¹μ − n₁ − n₂ + ln|Σ| − ln|S|]
     = ½[μ₁ᵀD₁μ₁ + tr(D₁S₁) + μ₂ᵀD₂μ₂ + tr(D₂S₂) − n₁ − n₂ + ln|I − CᵀC| − ln|S₁| − ln|S₂|] − μ₁ᵀD₁Cᵀμ₂.

`python jpvae_torch.py` checks that KL against torch.distributions' dense one at a random C.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class JPVAE(nn.Module):
    def __init__(self, dims=(392, 392), latents=(20, 20), hidden=(512, 512), alpha=0.9, beta=1.0):
        super().__init__()
        self.latents = latents
        self.alpha = alpha
        self.beta = beta
        self.encoders = nn.ModuleList(mlp([d, *hidden, 2 * n]) for d, n in zip(dims, latents))
        self.decoders = nn.ModuleList(mlp([n, *reversed(hidden), d]) for d, n in zip(dims, latents))
        m = max(latents)
        self.skew = nn.Parameter(torch.zeros(m * (m - 1) // 2))
        rows, cols = torch.tril_indices(m, m, offset=-1)   # (1,0), (2,0), (2,1), …: row by row
        self.register_buffer("rows", rows, persistent=False)
        self.register_buffer("cols", cols, persistent=False)
        self.register_buffer("eye", torch.eye(m), persistent=False)

    def cross(self):
        """C = α·(first n₂ rows, first n₁ columns of the Cayley-map orthogonal matrix)."""
        lower = torch.zeros_like(self.eye).index_put((self.rows, self.cols), self.skew)
        a = lower - lower.T
        o = torch.linalg.solve(self.eye - a, self.eye + a)
        n1, n2 = self.latents
        return self.alpha * o[:n2, :n1]

    def kl(self, mu1, logvar1, mu2, logvar2, c):
        """KL(q₁ q₂ ‖ N(0, Σ_C)) per row."""
        n1, n2 = self.latents
        a1 = torch.eye(n1, dtype=c.dtype) - c.T @ c                    # I − CᵀC
        a2 = torch.eye(n2, dtype=c.dtype) - c @ c.T                    # I − CCᵀ
        d1, d2 = torch.linalg.inv(a1), torch.linalg.inv(a2)
        quad1 = ((mu1 @ d1) * mu1).sum(1)
        quad2 = ((mu2 @ d2) * mu2).sum(1)
        trace1 = (logvar1.exp() * torch.diagonal(d1)).sum(1)
        trace2 = (logvar2.exp() * torch.diagonal(d2)).sum(1)
        cross = ((mu1 @ (d1 @ c.T)) * mu2).sum(1)
        logdet = torch.linalg.slogdet(a1)[1]
        return 0.5 * (quad1 + trace1 + quad2 + trace2 - n1 - n2 + logdet - logvar1.sum(1) - logvar2.sum(1)) - cross

    def forward(self, x1, x2):
        """The loss of one batch: summed BCE of both views + β · summed KL (as `mvvae`'s LossTerms.total)."""
        n1, n2 = self.latents
        mu1, logvar1 = self.encoders[0](x1).split(n1, dim=1)
        mu2, logvar2 = self.encoders[1](x2).split(n2, dim=1)
        z1 = mu1 + (0.5 * logvar1).exp() * torch.randn_like(mu1)
        z2 = mu2 + (0.5 * logvar2).exp() * torch.randn_like(mu2)
        reconstruction = (F.binary_cross_entropy_with_logits(self.decoders[0](z1), x1, reduction="sum")
                          + F.binary_cross_entropy_with_logits(self.decoders[1](z2), x2, reduction="sum"))
        return reconstruction + self.beta * self.kl(mu1, logvar1, mu2, logvar2, self.cross()).sum()


def check_kl(seed=0):
    """The closed-form KL against torch.distributions' dense Gaussian KL, at a random C, in float64."""
    torch.manual_seed(seed)
    model = JPVAE().double()
    with torch.no_grad():
        model.skew.normal_(0, 0.5)
    n1, n2 = model.latents
    rows = 5
    mu1, mu2 = torch.randn(rows, n1, dtype=torch.float64), torch.randn(rows, n2, dtype=torch.float64)
    lv1, lv2 = torch.randn(rows, n1, dtype=torch.float64) * 0.5, torch.randn(rows, n2, dtype=torch.float64) * 0.5
    c = model.cross()
    ours = model.kl(mu1, lv1, mu2, lv2, c)
    o = c / model.alpha
    orthogonality = (o.T @ o - torch.eye(n1, dtype=torch.float64)).abs().max().item()
    sigma = torch.cat([torch.cat([torch.eye(n1, dtype=torch.float64), c.T], 1),
                       torch.cat([c, torch.eye(n2, dtype=torch.float64)], 1)], 0)
    prior = torch.distributions.MultivariateNormal(torch.zeros(n1 + n2, dtype=torch.float64), covariance_matrix=sigma)
    q = torch.distributions.MultivariateNormal(torch.cat([mu1, mu2], 1),
                                               covariance_matrix=torch.diag_embed(torch.cat([lv1, lv2], 1).exp()))
    dense = torch.distributions.kl_divergence(q, prior)
    error = (ours - dense).abs().max().item()
    print(f"KL check: max |closed form − dense| = {error:.2e} (KL ≈ {dense.mean().item():.2f}); "
          f"max |OᵀO − I| = {orthogonality:.2e}")
    return error < 1e-8 * max(1.0, dense.abs().max().item()) and orthogonality < 1e-10


if __name__ == "__main__":
    import sys
    sys.exit(0 if check_kl() else 1)
