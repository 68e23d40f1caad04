"""CoVAE (Caretti and Sanguinetti, *CoVAE: correlated multimodal generative modeling*, arXiv:2603.01965, §2.2,
Algorithm 1) in plain PyTorch, the peer of configs/covae-fashion.yaml for scripts/peers/multivae_bench.py
(family `covae`, stages `pretrain` and `train`): no PyTorch library implements it. Written from our
equations (Sources/MVModels/Families/CoVAE.swift, Distributions/FullCovarianceGaussian.swift,
Objectives/DeepCCAObjective.swift, Objectives/PairwiseCorrelationLoss.swift, Priors/CrossCovariance.swift),
for two modalities with latents of equal size d (D = 2d), the case of that config.

The model, layer for layer the one `mvvae` builds (ReLU between layers, Bernoulli likelihood on the grey
levels as ours: binary cross-entropy of the decoder's logits against x ∈ [0, 1]):
  - unimodal encoders q_k(z_k | x_k) = N(μ_k, diag σ_k²): x_k → 512 → 512 → (μ_k, log σ_k²), d each;
  - a joint encoder q(z | x₁, x₂) = N(μ, L Lᵀ + εI) over z = (z₁, z₂): (x₁, x₂) → 512 → 512 → (μ: D,
    L's diagonal before softplus: D, L's strict lower triangle row by row: D(D−1)/2), ε = 10⁻³;
  - decoders p_k(x_k | z_k): d → 512 → 512 → x_k logits;
  - the prior N(0, Σ), Σ = [[I, Cᵀ], [C, I]], C = U diag(tanh(s/2)) Vᵀ with U, V orthogonal by the Cayley
    map (I − A)⁻¹(I + A) of skew matrices from d(d−1)/2 parameters each (JPVAE's bounded cross-covariance,
    σ₁(C) < 1). Frozen in stage `train` (`priorCorrelations: canonical`): its 2·d(d−1)/2 + d parameters
    get no gradient, but Σ, Σ⁻¹, ln det Σ and the conditionals' factors are formed from them every
    step, as ours does. At the start (every parameter 0, which is where `mvvae bench --stage train`
    times it: the bench enters the stage without running pre-training's end) C = 0.

Stage `train`, the loss of a batch (as `mvvae`'s LossTerms.total: sums over rows, β = λ = 1):
  Σ_rows [ Σ_k −log p_k(x_k | z_k) + β KL(q(z|x) ‖ N(0, Σ)) ]                     with z ~ q(z | x)   (Eq. 3)
  + λ Σ_k Σ_rows [ Σ_j −log p_j(x_j | z_j) + β KL(q_k ‖ N(0, I)) ]  with z_k ~ q_k, z_{−k} | z_k   (Eq. 4)
where z = μ + L ε₁ + √ε ε₂, KL(q ‖ N(0, Σ)) = ½[tr(Σ⁻¹S) + μᵀΣ⁻¹μ − D + ln det Σ − ln det S] with
S = L Lᵀ + εI and ln det S from a Cholesky factor in double precision (as ours), and the prior
conditional (Eq. 2) z_{−k} | z_k ~ N(M_k z_k, F_k F_kᵀ), M_k = Σ_{−k,k}, F_k = chol(Σ_{−k,−k} − M_k M_kᵀ):
z₂ | z₁ ~ N(C z₁, I − CCᵀ), z₁ | z₂ ~ N(Cᵀ z₂, I − CᵀC). Each decoder reads its latent three times (the
joint draw and the two conditional terms): the three are stacked into one batch of 3 × rows, one pass
(the same arithmetic as three passes; ours makes three).

Stage `pretrain`, deep CCA on the unimodal means without the last layer's bias (f_k = h_k W_μ, the
penultimate activations times the μ columns of the last weight), over the batch's N rows:
  −N (Σρᵢ² − κ(‖m₁‖² + ‖m₂‖²)),  Σρᵢ² = tr(C₁₁⁻¹C₁₂C₂₂⁻¹C₂₁), C_kk = Cov(f_k) + rI, m_k = mean(f_k),
r = 10⁻³, κ = 10⁻², N a constant, covariances from the centred features divided by N. Only the
unimodal encoders train (the stage's group in ours: 948 264 parameters; the last layer's bias and its
log σ² columns get a gradient of exactly 0, as in ours, where Adam steps over them all).

`python covae_torch.py` checks the pieces against independent computations in float64 (torch.distributions'
KL of full-covariance Gaussians, the Gaussian conditioning formula, deep CCA's Σρᵢ² against canonical
correlations from QR and SVD of the centred features, the per-row factor against its definition).
`python covae_torch.py --against CHECKPOINT` loads a checkpoint of `mvvae train` on configs/covae-fashion.yaml
and prints this model's per-row losses on the 60 000 training images at those parameters, in the stage
its state.json names. Two runs of ours whose learning rate of 10⁻³⁰ moves no weight, so that an epoch's
logged losses (metrics.jsonl) are those of fixed parameters on every training row:

  mvvae train --config configs/covae-fashion.yaml --run /tmp/covae-check --set data.validationSize=0 \
    --set training.validate=false --set training.stages.pretrain.epochs=1 --set training.epochs=1 \
    --set training.stages.train.learningRate=1e-30
  mvvae train … --run /tmp/covae-check-pretrain (the same first four --set) \
    --set training.stages.pretrain.learningRate=1e-30 --max-steps 470

- stage `train`, /tmp/covae-check's step 938 (after pre-training's end folded CCA in: C = diag(ρ), ρ up
  to 0.99): the KL column is deterministic and should equal the run's trainKL to float rounding, the
  reconstruction (one draw per row) within Monte Carlo error;
- stage `pretrain`, /tmp/covae-check-pretrain's step 469 (the initial parameters): deep CCA's loss and
  −Σρᵢ² per row over one shuffled epoch of batches against the run's first trainLoss and
  trainReconstruction (a statistic of each batch: equal in expectation over the shuffle).

`--against CHECKPOINT --train-epoch` instead trains one epoch of that stage from the checkpoint (Adam,
10⁻³, shuffled batches) and prints the epoch's per-row loss, to set beside ours' trainLoss of the same
epoch at the default rate (/tmp/covae-check's run without the last --set: its pretrain epoch starts from
the same initial parameters, its train epoch from /tmp/covae-check's step 938).

Measured (2026-12-01): KL 657.445579 against ours' 657.445648 per row; reconstruction 2273.58 ± 1.03
against 2274.36; pretrain loss −2.0575 and −Σρᵢ² −2.0906 (± 0.0070) against −2.0544 and −2.0875; one
epoch's loss −8.576 (pretrain) and 853.23 (train) against ours' −8.558 and 854.77.
"""

import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from jpvae_torch import mlp   # the same ReLU MLP as the JPVAE peer (this folder is on sys.path)


def cayley(skew_parameters, order):
    """(I − A)⁻¹(I + A) with A skew-symmetric, its strict lower triangle row by row from the parameters."""
    rows, cols = torch.tril_indices(order, order, offset=-1, device=skew_parameters.device)
    lower = skew_parameters.new_zeros(order, order).index_put((rows, cols), skew_parameters)
    a = lower - lower.T
    eye = torch.eye(order, dtype=skew_parameters.dtype, device=skew_parameters.device)
    return torch.linalg.solve(eye - a, eye + a)


class CoVAE(nn.Module):
    def __init__(self, dims=(392, 392), latent=10, hidden=(512, 512), decoder_hidden=(512, 512),
                 joint_hidden=(512, 512), jitter=1e-3, lam=1.0, beta=1.0, cca_regularization=1e-3,
                 mean_penalty=1e-2, learnt_prior=False):
        super().__init__()
        d = latent
        n = 2 * d
        self.dims, self.latent, self.joint_latent = tuple(dims), d, n
        self.jitter, self.lam, self.beta = jitter, lam, beta
        self.cca_regularization, self.mean_penalty = cca_regularization, mean_penalty
        self.encoders = nn.ModuleList(mlp([x, *hidden, 2 * d]) for x in dims)
        self.joint_encoder = mlp([sum(dims), *joint_hidden, 2 * n + n * (n - 1) // 2])
        self.decoders = nn.ModuleList(mlp([d, *decoder_hidden, x]) for x in dims)
        # The prior (ours: prior.U.skew, prior.V.skew, prior.singular; zero at the start: C = 0).
        self.u_skew = nn.Parameter(torch.zeros(d * (d - 1) // 2), requires_grad=learnt_prior)
        self.v_skew = nn.Parameter(torch.zeros(d * (d - 1) // 2), requires_grad=learnt_prior)
        self.singular = nn.Parameter(torch.zeros(d), requires_grad=learnt_prior)
        # L from (softplus(diagonal), strictly lower) in one gather: position i·D + j of L reads entry
        # 1 + i of the diagonal, 1 + D + (its rank in row-by-row order) of the lower part, or 0 (a zero).
        source = torch.zeros(n * n, dtype=torch.long)
        source[torch.arange(n) * (n + 1)] = 1 + torch.arange(n)
        rows, cols = torch.tril_indices(n, n, offset=-1)
        source[rows * n + cols] = 1 + n + torch.arange(n * (n - 1) // 2)
        self.register_buffer("factor_source", source, persistent=False)
        self.register_buffer("eye", torch.eye(n), persistent=False)

    # The prior.

    def cross(self):
        """C (d × d) = U diag(tanh(s/2)) Vᵀ."""
        d = self.latent
        return (cayley(self.u_skew, d) * torch.tanh(0.5 * self.singular)) @ cayley(self.v_skew, d).T

    def prior_covariance(self):
        c = self.cross()
        eye = torch.eye(self.latent, dtype=c.dtype, device=c.device)
        return torch.cat([torch.cat([eye, c.T], 1), torch.cat([c, eye], 1)], 0)

    def prior_blocks(self):
        """Σ⁻¹, ln det Σ, and per modality k (M_k, F_k) of the conditional z_{−k} | z_k ~ N(M_k z_k, F_k F_kᵀ)."""
        sigma = self.prior_covariance()
        factor = torch.linalg.cholesky(sigma)
        precision = torch.cholesky_inverse(factor)
        log_det = 2 * torch.log(torch.diagonal(factor)).sum()
        d = self.latent
        conditionals = []
        for k in range(2):
            own, other = slice(k * d, (k + 1) * d), slice((1 - k) * d, (2 - k) * d)
            m = sigma[other, own]
            conditionals.append((m, torch.linalg.cholesky(sigma[other, other] - m @ m.T)))
        return precision, log_det, conditionals

    # The joint posterior.

    def joint_posterior(self, x1, x2):
        """μ (rows × D) and L (rows × D × D)."""
        n = self.joint_latent
        h = self.joint_encoder(torch.cat([x1, x2], 1))
        mean, raw_diagonal, lower = h[:, :n], h[:, n:2 * n], h[:, 2 * n:]
        packed = torch.cat([h.new_zeros(h.shape[0], 1), F.softplus(raw_diagonal), lower], 1)
        return mean, packed[:, self.factor_source].view(-1, n, n)

    def joint_kl(self, mean, factor, precision, prior_log_det):
        """KL(N(μ, L Lᵀ + εI) ‖ N(0, Σ)) per row."""
        n = self.joint_latent
        covariance = factor @ factor.transpose(1, 2) + self.jitter * self.eye
        trace = (covariance * precision).sum((1, 2))               # tr(Σ⁻¹ S), both symmetric
        quadratic = ((mean @ precision) * mean).sum(1)
        # ln det S by a double-precision Cholesky, as ours.
        chol = torch.linalg.cholesky(covariance.double())
        log_det = (2 * torch.log(torch.diagonal(chol, dim1=1, dim2=2)).sum(1)).to(mean.dtype)
        return 0.5 * (trace + quadratic - n + prior_log_det - log_det)

    # The losses.

    def forward(self, x1, x2, stage="train"):
        return self.pretrain_loss(x1, x2) if stage == "pretrain" else self.train_loss(x1, x2)[0]

    def train_loss(self, x1, x2):
        """(total, reconstruction, KL) of the batch, sums over rows."""
        d, n = self.latent, self.joint_latent
        xs = (x1, x2)
        precision, prior_log_det, conditionals = self.prior_blocks()
        # Eq. 3.
        mean, factor = self.joint_posterior(x1, x2)
        z = (mean + (factor @ torch.randn_like(mean).unsqueeze(2)).squeeze(2)
             + math.sqrt(self.jitter) * torch.randn_like(mean))
        kl = self.joint_kl(mean, factor, precision, prior_log_det).sum()
        # Eq. 4 for k = 1, 2: z_k ~ q_k, the other latent from the prior conditional.
        latents = [[z[:, :d]], [z[:, d:]]]                            # what decoder j reads, term by term
        for k in range(2):
            mu, logvar = self.encoders[k](xs[k]).split(d, dim=1)
            zk = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
            m, f = conditionals[k]
            other = zk @ m.T + torch.randn_like(zk) @ f.T
            latents[k].append(zk)
            latents[1 - k].append(other)
            kl = kl + self.lam * 0.5 * (mu.square() + logvar.exp() - logvar - 1).sum()
        # Each decoder once over its three latents: (joint, given 1, given 2) stacked by rows.
        weights = torch.tensor([1.0, self.lam, self.lam], dtype=z.dtype)
        reconstruction = 0
        for j in range(2):
            logits = self.decoders[j](torch.cat(latents[j], 0))
            nll = F.binary_cross_entropy_with_logits(logits, xs[j].repeat(3, 1), reduction="none")
            reconstruction = reconstruction + (nll.view(3, -1).sum(1) * weights).sum()
        return reconstruction + self.beta * kl, reconstruction, kl

    def cca_features(self, k, x):
        """μ_k without the last layer's bias (its weight's μ columns; bias and log σ² columns get 0 gradient)."""
        *body, last = self.encoders[k]
        h = x
        for layer in body:
            h = layer(h)
        d = self.latent
        return F.linear(h, last.weight[:d], 0 * last.bias[:d])

    def squared_correlations(self, f1, f2, regularization):
        """Σρᵢ² = tr(C₁₁⁻¹C₁₂C₂₂⁻¹C₂₁) and ‖m₁‖² + ‖m₂‖²."""
        rows = f1.shape[0]
        m1, m2 = f1.mean(0), f2.mean(0)
        c1, c2 = f1 - m1, f2 - m2
        ridge1 = regularization * torch.eye(f1.shape[1], dtype=f1.dtype)
        ridge2 = regularization * torch.eye(f2.shape[1], dtype=f2.dtype)
        c11 = c1.T @ c1 / rows + ridge1
        c22 = c2.T @ c2 / rows + ridge2
        c12 = c1.T @ c2 / rows
        a = torch.linalg.solve(c11, c12)
        b = torch.linalg.solve(c22, c12.T)
        return (a * b.T).sum(), m1.square().sum() + m2.square().sum()

    def pretrain_loss(self, x1, x2):
        rows = x1.shape[0]
        objective, mean_squares = self.squared_correlations(self.cca_features(0, x1), self.cca_features(1, x2),
                                                            self.cca_regularization)
        if rows <= 2 * self.latent:   # ours: a batch of at most p + q rows contributes nothing
            return 0 * objective
        return -rows * (objective - self.mean_penalty * mean_squares)

    def stage_parameters(self, stage):
        """The parameters the stage trains (ours: the stage's groups)."""
        if stage == "pretrain":
            return list(self.encoders.parameters())
        return [p for p in self.parameters() if p.requires_grad]


# Checks.

def check_pieces(seed=0):
    """The model's pieces against independent computations, float64; True when all agree."""
    torch.manual_seed(seed)
    model = CoVAE().double()
    d, n = model.latent, model.joint_latent
    with torch.no_grad():
        model.u_skew.normal_(0, 0.5)
        model.v_skew.normal_(0, 0.5)
        model.singular.normal_(0, 2)
    ok = True

    def report(name, error, scale, tolerance=1e-9):
        nonlocal ok
        passed = error <= tolerance * max(1.0, scale)
        ok &= passed
        print(f"{name}: max error {error:.2e} (scale {scale:.3g}) {'ok' if passed else 'FAILED'}")

    # The prior: C's singular values are tanh(s/2) (σ₁ < 1), Σ's diagonal blocks are I.
    c = model.cross()
    singular = torch.linalg.svdvals(c)
    expected = torch.tanh(0.5 * model.singular).abs().sort(descending=True).values
    report("prior: singular values of C = |tanh(s/2)|", (singular - expected).abs().max().item(), 1.0)

    # L from its raw outputs: lower triangular, softplus diagonal, the lower part row by row.
    rows = 6
    x1, x2 = torch.rand(rows, 392, dtype=torch.float64), torch.rand(rows, 392, dtype=torch.float64)
    mean, factor = model.joint_posterior(x1, x2)
    h = model.joint_encoder(torch.cat([x1, x2], 1))
    reference = torch.zeros(rows, n, n, dtype=torch.float64)
    for r in range(rows):
        k = 2 * n
        for i in range(n):
            for j in range(i):
                reference[r, i, j] = h[r, k]
                k += 1
            reference[r, i, i] = F.softplus(h[r, n + i])
    report("factor L against a loop over its definition", (factor - reference).abs().max().item(), 1.0)

    # The joint KL against torch.distributions' dense KL, with a spread of posteriors (scaled factors).
    precision, prior_log_det, conditionals = model.prior_blocks()
    factor = factor * torch.linspace(0.05, 3, rows, dtype=torch.float64).view(rows, 1, 1)
    mean = mean * 2
    ours = model.joint_kl(mean, factor, precision, prior_log_det)
    sigma = model.prior_covariance()
    covariance = factor @ factor.transpose(1, 2) + model.jitter * torch.eye(n, dtype=torch.float64)
    q = torch.distributions.MultivariateNormal(mean, covariance_matrix=covariance)
    prior = torch.distributions.MultivariateNormal(torch.zeros(n, dtype=torch.float64), covariance_matrix=sigma)
    dense = torch.distributions.kl_divergence(q, prior)
    report("joint KL against torch.distributions", (ours - dense).abs().max().item(), dense.abs().max().item())

    # The prior conditional against the Gaussian conditioning formula (with Σ_kk⁻¹, which ours takes as I).
    for k in range(2):
        own, other = slice(k * d, (k + 1) * d), slice((1 - k) * d, (2 - k) * d)
        m, f = conditionals[k]
        gain = sigma[other, own] @ torch.linalg.inv(sigma[own, own])
        covariance = sigma[other, other] - gain @ sigma[own, other]
        error = max((m - gain).abs().max().item(), (f @ f.T - covariance).abs().max().item())
        report(f"conditional z_{2 - k} | z_{k + 1}: mean map and covariance", error, 1.0)

    # The diagonal KL against torch.distributions.
    mu, logvar = torch.randn(rows, d, dtype=torch.float64), torch.randn(rows, d, dtype=torch.float64)
    closed = 0.5 * (mu.square() + logvar.exp() - logvar - 1).sum(1)
    normal = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    standard = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    dense = torch.distributions.kl_divergence(normal, standard).sum(1)
    report("unimodal KL against torch.distributions", (closed - dense).abs().max().item(), dense.abs().max().item())

    # Deep CCA's Σρᵢ² (no ridge) against canonical correlations from QR and SVD of the centred features,
    # with correlated features so that the ρᵢ spread over (0, 1).
    rows = 200
    shared = torch.randn(rows, d, dtype=torch.float64)
    f1 = shared @ torch.randn(d, d, dtype=torch.float64) + 0.5 * torch.randn(rows, d, dtype=torch.float64)
    f2 = shared @ torch.randn(d, d, dtype=torch.float64) + 2.0 * torch.randn(rows, d, dtype=torch.float64)
    objective, _ = model.squared_correlations(f1, f2, 0.0)
    q1, _ = torch.linalg.qr(f1 - f1.mean(0))
    q2, _ = torch.linalg.qr(f2 - f2.mean(0))
    rho = torch.linalg.svdvals(q1.T @ q2)
    report(f"deep CCA Σρᵢ² = {objective.item():.4f} against QR + SVD (ρ {rho.min().item():.2f}…{rho.max().item():.2f})",
           abs(objective.item() - rho.square().sum().item()), d)
    return ok


def load_checkpoint(model, folder):
    """Our parameters from `mvvae`'s model.safetensors (weights stored in × out: transposed for nn.Linear)."""
    import numpy as np

    with open(f"{folder}/model.safetensors", "rb") as f:
        raw = f.read()
    length = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + length])

    def tensor(name):
        entry = header[name]
        assert entry["dtype"] == "F32", entry
        start, end = entry["data_offsets"]
        data = np.frombuffer(raw, dtype=np.float32, count=(end - start) // 4, offset=8 + length + start)
        return torch.from_numpy(data.reshape(entry["shape"]).copy())

    def stack(module, prefix):
        for i, layer in enumerate(l for l in module if isinstance(l, nn.Linear)):
            layer.weight.copy_(tensor(f"{prefix}.layer{i}.weight").T)
            layer.bias.copy_(tensor(f"{prefix}.layer{i}.bias").view(-1))

    with torch.no_grad():
        for k in range(2):
            stack(model.encoders[k], f"view{k + 1}.encoder")
            stack(model.decoders[k], f"view{k + 1}.decoder")
        stack(model.joint_encoder, "joint.encoder")
        model.u_skew.copy_(tensor("prior.U.skew").view(-1))
        model.v_skew.copy_(tensor("prior.V.skew").view(-1))
        model.singular.copy_(tensor("prior.singular").view(-1))
    loaded = {k for k in header if k != "__metadata__" and not k.startswith("adam.")}
    return len(loaded)


def against_run(folder, train_epoch=False, data="/usr/share/datasets/fashion-mnist", batch=128):
    """Per-row losses of a checkpoint on the 60 000 training images, in the stage its state.json names
    (see the module's docstring): `train`, the rows in order; `pretrain`, one shuffled epoch of batches
    (deep CCA is a statistic of the batch, so ours and this agree in expectation over the shuffle).
    With `train_epoch`, instead one epoch of training from the checkpoint (Adam, learning rate 10⁻³,
    shuffled batches) and that epoch's per-row means, the figures of ours' metrics.jsonl for the epoch."""
    import os

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from multivae_bench import halves, load_images

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = CoVAE()
    tensors = load_checkpoint(model, folder)
    with open(f"{folder}/state.json") as f:
        stage = json.load(f)["stage"]
    x1, x2 = (torch.from_numpy(v.copy()) for v in halves(load_images(data, binarize=False)))
    rows = x1.shape[0]
    order = torch.randperm(rows) if stage == "pretrain" else torch.arange(rows)
    sizes, first, second = [], [], []
    print(f"{tensors} tensors loaded from {folder} (stage {stage}); singular values of the prior's C: "
          + " ".join(f"{v:.3f}" for v in torch.linalg.svdvals(model.cross()).detach().tolist()))
    if train_epoch:
        order = torch.randperm(rows)
        optimizer = torch.optim.Adam(model.stage_parameters(stage), lr=1e-3)
    with torch.set_grad_enabled(train_epoch):
        for start in range(0, rows, batch):
            index = order[start:start + batch]
            a, b = x1[index], x2[index]
            sizes.append(len(index))
            if train_epoch:
                loss = model(a, b, stage=stage)
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
                first.append(0.0)
                second.append(loss.item())
                continue
            if stage == "pretrain":
                objective, mean_squares = model.squared_correlations(model.cca_features(0, a), model.cca_features(1, b),
                                                                     model.cca_regularization)
                first.append(-len(index) * objective.item())          # ours' reconstruction column: −N Σρᵢ²
                second.append(model.pretrain_loss(a, b).item())
            else:
                _, reconstruction, kl = model.train_loss(a, b)
                first.append(reconstruction.item())
                second.append(kl.item())
    n = torch.tensor(sizes, dtype=torch.float64)
    first, second = torch.tensor(first, dtype=torch.float64), torch.tensor(second, dtype=torch.float64)
    # One standard error of a per-row mean, from the spread of the batches' per-row means.
    error = (first / n).std().item() / math.sqrt(len(n))
    if train_epoch:
        print(f"one epoch of stage {stage} from there, per row: loss {second.sum().item() / rows:.4f}")
    elif stage == "pretrain":
        print(f"per row over {rows} rows: loss {second.sum().item() / rows:.6f}, −Σρᵢ² {first.sum().item() / rows:.6f} "
              f"(± {error:.6f} one standard error)")
    else:
        print(f"per row over {rows} rows: KL {second.sum().item() / rows:.6f}, reconstruction {first.sum().item() / rows:.4f} "
              f"(± {error:.4f} one standard error), loss {(first.sum() + second.sum()).item() / rows:.4f}")


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "--against" and sys.argv[3:] in ([], ["--train-epoch"]):
        against_run(sys.argv[2], train_epoch=len(sys.argv) == 4)
    else:
        sys.exit(0 if check_pieces() else 1)
