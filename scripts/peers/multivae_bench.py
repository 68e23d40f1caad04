"""Steady-state training speed of a PyTorch peer of one `mvvae bench` configuration.

Times what MultiVae's trainer does per batch -- model(batch, epoch=…), loss.backward(), optimizer.step(),
zero_grad() -- for --warmup untimed then --steps timed steps on the same Fashion-MNIST batches
`mvvae bench` reads (the 60 000 training images, cut into the same views, binarised at 0.5 where the
config says so), one thread. Prints one line: `samples/s <value>`. The conv families read PolyFashion-shaped
data built here instead (see conv-poe below).

  python multivae_bench.py --family jnf|poe|mopoe|jpvae|covae|conv-poe|conv-mopoe [--stage …] [--batch 128 --steps 300 --warmup 30]
  … --count        also prints `parameters <trained> of <total>` to stderr (trained: those the step gives a gradient)
  … --check 400    instead of timing: the loss every 50 of 400 steps, and whether it is finite and falls
  … --init mvvae   our layers initialised as mvvae's (Kaiming-normal before a ReLU, else Xavier-uniform, zero
                   biases) instead of torch's default; for comparing losses, not speed

Families (the sizes of ours; encoders and decoders are custom BaseEncoder/BaseDecoder modules but in the
conv families, which use MultiVae's own):
  jnf    MultiVae's JNF against configs/jnf-fashion-quadrants.yaml (4 quadrants of 196, binarised,
         latent 16): per-quadrant features 196→256 (ReLU), concatenated, 1024→256→(16, 16); decoders
         16→256→196 with Bernoulli logits; unimodal bases 196→256→(16, 16); MultiVae's default flows
         (pythae's MAF: 2 MADE blocks of 3 hidden layers of 128, no batch norm).
         Stage `unimodal` is MultiVae's epochs after `warmup`: joint VAE frozen, its forward still run.
  poe    MultiVae's MVAE without subsampling (use_subsampling=False: the joint ELBO of both halves only,
         no annealing) against configs/aggregated-fashion-halves-poe.yaml: top/bottom halves of 392,
         binarised; encoders 392→512→512→(20, 20), decoders 20→512→512→392 with Bernoulli logits.
  mopoe  MultiVae's MoPoE (all 3 non-empty subsets) against configs/aggregated-fashion-halves-mopoe.yaml,
         the same layers (see that config for how the two estimators of the same ELBO differ).
  jpvae  jpvae_torch.py, a PyTorch JPVAE written here, against configs/jpvae-fashion-orthogonal.yaml:
         grey-level halves, the same VAEs, the scaled-orthogonal joint prior; torch's fused Adam.
  covae  covae_torch.py, a PyTorch CoVAE written here, against configs/covae-fashion.yaml: grey-level halves,
         10 latents each, unimodal encoders 392→512→512→(10, 10), joint encoder 784→512→512→(20 + 20 + 190),
         decoders 10→512→512→392 with Bernoulli logits; torch's fused Adam. Stage `train` (default): Eq. 3 +
         Eq. 4 with the prior frozen (as ours enters it in `mvvae bench --stage train`: C = 0); stage
         `pretrain`: deep CCA on the unimodal encoders' means (only they train).
  conv-poe    MultiVae's MVAE without subsampling (use_subsampling=False, k=0, warmup=0, beta=1: the ELBO of
              all 5 modalities) against configs/polyfashion-conv-poe.yaml run with --set model.bound=elbo:
              5 modalities of 28×28×3, latent 64, MultiVae's own PolyMNIST networks
              (multivae.models.nn.mmnist) and its PolyMNIST likelihood, Laplace of scale 0.75.
              EncoderConvMMNIST: conv 3→32→64→128 (3×3, stride 2, padding 1, ReLU after each; 28→14→7→4),
              flatten 2048, Linear 2048→64 + ReLU (our "features"), then two Linear 64→64 WITHOUT bias for
              μ and log σ² where ours has one expert Dense 64→128 WITH bias: 128 parameters fewer per
              modality, 640 of 2 294 735 in all (0.03 %), the same work. DecoderConvMMNIST: Linear
              64→2048 + ReLU, 4×4×128, transposed convs 128→64→32→3 (3×3, stride 2, padding 1; output
              padding 0, 1, 1: 4→7→14→28), ReLU between, none at the end -- the same as ours.
              Data: mvvae's PolyFashion generator is Swift, so same-shaped data is built here from the
              Fashion-MNIST files (the first 6 000 training images, to keep memory modest): per row 5 views,
              each a different image of the row's class (view 1 the row's own) inverting a coloured
              background of its modality (two sinusoidal gratings repeating every 64 pixels, seen through a
              28×28 window at a random offset), values in [0, 1], channels first (N, 3, 28, 28). The values
              are not mvvae's, but the shapes, batch and work are, and the speed does not depend on them.
  conv-mopoe  MultiVae's MoPoE (beta=1, all 31 non-empty subsets) against configs/polyfashion-conv-mopoe.yaml
              run with --set model.bound=elbo, the same networks and data. The estimators differ as for
              mopoe (configs/aggregated-fashion-halves-mopoe.yaml): MultiVae gives each subset component a
              block of rows and bounds KL(mixture ‖ prior) by Σ_T w_T KL(q_T ‖ prior), ours decodes one
              component's draw per row with a Monte Carlo KL; MultiVae's products add the prior expert only
              to the full subset, ours to every subset.
--stage: jnf joint (default) or unimodal; covae train (default) or pretrain; the other families have one.
--init mvvae does not apply to the conv families (MultiVae's own networks keep torch's initialisation).
MultiVae's losses are batch means where ours are sums: the same gradient direction, and Adam's steps
agree but for its ε.

Only a throwaway benchmark: `scripts/peers/setup.sh` makes the virtualenv; nothing of the product imports it.
"""

import argparse
import gzip
import math
import os
import sys
import time
import types


def stub_torchvision():
    """MultiVae imports torchvision at start-up for its data sets, FID and image grids, none of which run
    here; torchvision's PyPI wheels do not load against torch's CPU build, so a stand-in module is put in
    its place (an attribute access or a call on it returns a stand-in)."""

    class Stub(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            sub = Stub(f"{self.__name__}.{name}")
            sys.modules[sub.__name__] = sub
            setattr(self, name, sub)
            return sub

        def __call__(self, *args, **kwargs):
            return self   # e.g. a module-level `ToTensor()`

    for name in ["torchvision", "torchvision.transforms", "torchvision.datasets", "torchvision.datasets.utils",
                 "torchvision.utils", "torchvision.models"]:
        sys.modules[name] = Stub(name)


def load_images(directory, binarize):
    """The training images in [0, 1] (pixel / 255), or binarised as data.binarize: 0.5."""
    with gzip.open(f"{directory}/train-images-idx3-ubyte.gz", "rb") as f:
        raw = f.read()
    import numpy as np

    count = int.from_bytes(raw[4:8], "big")
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, 28, 28).astype(np.float32) / 255.0
    return (images > 0.5).astype(np.float32) if binarize else images


def load_labels(directory):
    """The training images' classes."""
    with gzip.open(f"{directory}/train-labels-idx1-ubyte.gz", "rb") as f:
        raw = f.read()
    import numpy as np

    return np.frombuffer(raw, dtype=np.uint8, offset=8).astype(np.int64)


def polyfashion(images, labels, modalities=5, rows=6000, seed=0, period=64):
    """PolyFashion-shaped views (README "PolyFashion", Sources/MVData/PolyFashion.swift; not its values):
    for the first `rows` images, `modalities` views of (rows, 3, 28, 28) in [0, 1]. View m of row r shows
    image r (m = 0) or another of the same class, inverting modality m's background b where the garment is,
    (1 − g)·b + g·(1 − b) for grey level g; b is two coloured sinusoidal gratings repeating every `period`
    pixels, seen through a 28×28 window at an offset drawn per row."""
    import numpy as np

    rng = np.random.default_rng(seed)
    images, labels = images[:rows], labels[:rows]
    by_class = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    y, x = np.mgrid[0:period, 0:period].astype(np.float32)
    views = []
    for m in range(modalities):
        texture = np.broadcast_to(rng.uniform(0.3, 0.7, size=(3, 1, 1)), (3, period, period)).astype(np.float32)
        for _ in range(2):
            cycles, angle = 1 + rng.integers(0, 4), rng.uniform(0, math.pi)
            kx, ky = round(cycles * math.cos(angle)), round(cycles * math.sin(angle))
            ky = 1 if kx == 0 and ky == 0 else ky
            wave = np.sin(2 * math.pi * (kx * x + ky * y) / period + rng.uniform(0, 2 * math.pi))
            texture = texture + rng.uniform(-0.25, 0.25, size=(3, 1, 1)).astype(np.float32) * wave
        texture = np.clip(texture, 0, 1)
        tiled = np.tile(texture, (1, 2, 2))   # a window may wrap around the period
        partner = np.arange(rows) if m == 0 else np.array([rng.choice(by_class[c]) for c in labels])
        oy, ox = rng.integers(0, period, size=rows), rng.integers(0, period, size=rows)
        out = np.empty((rows, 3, 28, 28), dtype=np.float32)
        for r in range(rows):
            b = tiled[:, oy[r]:oy[r] + 28, ox[r]:ox[r] + 28]
            g = images[partner[r]]
            out[r] = (1 - g) * b + g * (1 - b)
        views.append(out)
    return views


def quadrants(images):
    """Top-left, top-right, bottom-left, bottom-right, each flattened row-major (as mvvae's quadrant views)."""
    return [images[:, r:r + 14, c:c + 14].reshape(len(images), 196) for r in (0, 14) for c in (0, 14)]


def halves(images):
    """Rows 0-13 and rows 14-27, each flattened row-major (as mvvae's top-bottom views)."""
    return [images[:, r:r + 14, :].reshape(len(images), 392) for r in (0, 14)]


def mvvae_init(modules):
    """mvvae's initialisation (Sources/MVModels/Layers/MLP.swift, Dense.swift) on the nn.Sequential
    stacks of the given modules: a Linear followed by a ReLU Kaiming-normal (std √(2 / fan-in)), any other
    Xavier-uniform, every bias zero. MultiVae's own flows keep theirs."""
    import torch.nn as nn

    for module in modules:
        for stack in module.modules():
            if not isinstance(stack, nn.Sequential):
                continue
            layers = list(stack)
            for i, layer in enumerate(layers):
                if type(layer) is not nn.Linear:
                    continue
                if i + 1 < len(layers) and isinstance(layers[i + 1], nn.ReLU):
                    nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
                else:
                    nn.init.xavier_uniform_(layer.weight)
                nn.init.zeros_(layer.bias)


def jnf_model(warmup):
    import torch
    import torch.nn as nn
    from multivae.models import JNF, JNFConfig
    from multivae.models.nn.base_architectures import BaseJointEncoder
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn.base_architectures import BaseDecoder, BaseEncoder

    mods = [f"q{i}" for i in range(4)]
    d, latent, hidden = 196, 16, 256

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))

        def forward(self, x):
            mu, logvar = self.net(x).chunk(2, dim=-1)
            return ModelOutput(embedding=mu, log_covariance=logvar)

    class JointEncoder(BaseJointEncoder):
        def __init__(self):
            super().__init__()
            self.features = nn.ModuleDict({m: nn.Sequential(nn.Linear(d, hidden), nn.ReLU()) for m in mods})
            self.head = nn.Sequential(nn.Linear(4 * hidden, hidden), nn.ReLU(), nn.Linear(hidden, 2 * latent))
            self.latent_dim = latent

        def forward(self, x):
            h = torch.cat([self.features[m](x[m]) for m in mods], dim=1)
            mu, logvar = self.head(h).chunk(2, dim=-1)
            return ModelOutput(embedding=mu, log_covariance=logvar)

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, d))

        def forward(self, z):
            return ModelOutput(reconstruction=self.net(z))

    config = JNFConfig(n_modalities=4, latent_dim=latent, input_dims={m: (d,) for m in mods},
                       decoders_dist={m: "bernoulli" for m in mods}, warmup=warmup, beta=1.0)
    model = JNF(config, encoders={m: Encoder() for m in mods}, decoders={m: Decoder() for m in mods},
                joint_encoder=JointEncoder())
    return model, mods


def halves_model(family):
    """MultiVae's MVAE (no subsampling) or MoPoE with issue 16's layers: per half 392→512→512 (ReLU, the
    features of ours) → (μ, log σ²) of 20 (our PoE expert), decoder 20→512→512→392 logits."""
    import torch.nn as nn
    from multivae.models import MVAE, MVAEConfig, MoPoE, MoPoEConfig
    from pythae.models.base.base_utils import ModelOutput
    from pythae.models.nn.base_architectures import BaseDecoder, BaseEncoder

    mods = ["top", "bottom"]
    d, latent, hidden = 392, 20, 512

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 2 * latent))

        def forward(self, x):
            mu, logvar = self.net(x).chunk(2, dim=-1)
            return ModelOutput(embedding=mu, log_covariance=logvar)

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, d))

        def forward(self, z):
            return ModelOutput(reconstruction=self.net(z))

    common = dict(n_modalities=2, latent_dim=latent, input_dims={m: (d,) for m in mods},
                  decoders_dist={m: "bernoulli" for m in mods})
    if family == "poe":
        # warmup=0: β = 1 from the first step, as ours (MVAE otherwise anneals β over 10 epochs).
        config, cls = MVAEConfig(**common, use_subsampling=False, k=0, warmup=0, beta=1.0), MVAE
    else:
        config, cls = MoPoEConfig(**common, beta=1.0), MoPoE
    model = cls(config, encoders={m: Encoder() for m in mods}, decoders={m: Decoder() for m in mods})
    return model, mods


def conv_model(family):
    """MultiVae's MVAE (no subsampling) or MoPoE on 5 modalities of 28×28×3 with its own PolyMNIST
    networks (EncoderConvMMNIST, DecoderConvMMNIST), latent 64, Laplace likelihood of scale 0.75."""
    from multivae.models import MVAE, MVAEConfig, MoPoE, MoPoEConfig
    from multivae.models.nn.mmnist import DecoderConvMMNIST, EncoderConvMMNIST

    mods = [f"m{i}" for i in range(5)]
    common = dict(n_modalities=len(mods), latent_dim=64, input_dims={m: (3, 28, 28) for m in mods},
                  decoders_dist={m: "laplace" for m in mods},
                  decoder_dist_params={m: {"scale": 0.75} for m in mods})
    if family == "conv-poe":
        config, cls = MVAEConfig(**common, use_subsampling=False, k=0, warmup=0, beta=1.0), MVAE
    else:
        config, cls = MoPoEConfig(**common, beta=1.0), MoPoE
    model = cls(config, encoders={m: EncoderConvMMNIST(config) for m in mods},
                decoders={m: DecoderConvMMNIST(config) for m in mods})
    return model, mods


def fused_adam(parameters):
    """The issue's "fused Adam"; foreach where this torch has no fused CPU kernel."""
    import torch

    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, lr=1e-3, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(parameters, lr=1e-3, foreach=True)


# The stages of the families that have several: the first is the default.
STAGES = {"jnf": ("joint", "unimodal"), "covae": ("train", "pretrain")}


def build(family, stage, init):
    """(model, the step's loss from a dict of view batches, data views, optimizer)."""
    import torch

    if family in ("jpvae", "covae"):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        if family == "jpvae":
            from jpvae_torch import JPVAE

            model = JPVAE(dims=(392, 392), latents=(20, 20), hidden=(512, 512), alpha=0.9, beta=1.0)
            parameters, loss = model.parameters(), (lambda x: model(x["top"], x["bottom"]))
        else:
            from covae_torch import CoVAE

            model = CoVAE(dims=(392, 392), latent=10, hidden=(512, 512), decoder_hidden=(512, 512),
                          joint_hidden=(512, 512))
            parameters, loss = model.stage_parameters(stage), (lambda x: model(x["top"], x["bottom"], stage=stage))
        if init == "mvvae":
            mvvae_init([model])
        model.train()
        return model, loss, ("halves", False, ["top", "bottom"]), fused_adam(parameters)

    from multivae.data.datasets.base import MultimodalBaseDataset

    if family == "jnf":
        model, mods = jnf_model(warmup=1)
        epoch = 1 if stage == "joint" else 2
        if stage == "unimodal":
            model._set_torch_no_grad_on_joint_vae()   # what MultiVae's forward does after `warmup`
        views = ("quadrants", True, mods)
    elif family.startswith("conv-"):
        model, mods = conv_model(family)
        epoch = 1
        views = ("polyfashion", False, mods)
    else:
        model, mods = halves_model(family)
        epoch = 1
        views = ("halves", True, mods)
    if init == "mvvae":
        joint = [model.joint_encoder] if family == "jnf" else []
        mvvae_init([*model.encoders.values(), *model.decoders.values(), *joint])
    model.train()
    # MultiVae's trainer: Adam over the model's parameters (re-made when JNF's warm-up ends).
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    return model, (lambda x: model(MultimodalBaseDataset(data=x), epoch=epoch).loss), views, optimizer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", choices=["jnf", "poe", "mopoe", "jpvae", "covae", "conv-poe", "conv-mopoe"],
                        required=True)
    parser.add_argument("--stage", choices=sorted({s for stages in STAGES.values() for s in stages}),
                        help="jnf: joint (default) or unimodal; covae: train (default) or pretrain")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--count", action="store_true", help="print the parameter counts to stderr")
    parser.add_argument("--check", type=int, metavar="STEPS", default=0,
                        help="train STEPS steps printing the loss (no timing); exit 1 unless finite and falling")
    parser.add_argument("--init", choices=["torch", "mvvae"], default="torch",
                        help="initialisation of our layers: torch's default, or mvvae's")
    args = parser.parse_args()
    stages = STAGES.get(args.family, ())
    if args.stage is None:
        args.stage = stages[0] if stages else None
    elif args.stage not in stages:
        parser.error(f"--stage {args.stage}: family {args.family} has "
                     + (f"stages {', '.join(stages)}" if stages else "one stage (no --stage)"))
    if args.family.startswith("conv-") and args.init == "mvvae":
        parser.error(f"--init mvvae: family {args.family} uses MultiVae's own networks, with torch's initialisation")

    stub_torchvision()
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    # Argument validation off, as MultiVae's users must for grey levels; it only slows the step.
    torch.distributions.Distribution.set_default_validate_args(False)

    model, loss_of, (layout, binarize, mods), optimizer = build(args.family, args.stage, args.init)
    images = load_images(args.data, binarize)
    if layout == "polyfashion":
        views = [torch.from_numpy(v) for v in polyfashion(images, load_labels(args.data), len(mods), seed=args.seed)]
        del images
    else:
        views = [torch.from_numpy(v.copy()) for v in (quadrants if layout == "quadrants" else halves)(images)]

    rows = views[0].shape[0]
    generator = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(rows, generator=generator)
    position = 0
    counted = not args.count

    def step():
        nonlocal position, order, counted
        if position + args.batch > rows:
            order, position = torch.randperm(rows, generator=generator), 0
        index = order[position:position + args.batch]
        position += args.batch
        loss = loss_of({m: v[index] for m, v in zip(mods, views)})
        loss.backward()
        if not counted:
            total = sum(p.numel() for p in model.parameters())
            trained = sum(p.numel() for p in model.parameters() if p.grad is not None)
            print(f"parameters {trained} of {total}", file=sys.stderr)
            counted = True
        optimizer.step()
        optimizer.zero_grad()
        return loss.item() if args.check else None

    if args.check:
        losses = [step() for _ in range(args.check)]
        window = min(50, max(1, args.check // 4))
        for i in range(0, args.check, 50):
            chunk = losses[i:i + 50]
            print(f"steps {i + 1}-{i + len(chunk)}: mean loss {sum(chunk) / len(chunk):.3f}")
        first, last = sum(losses[:window]) / window, sum(losses[-window:]) / window
        ok = all(math.isfinite(v) for v in losses) and last < first
        print(f"check {'passed' if ok else 'FAILED'}: loss finite, first {window} steps {first:.3f} → last {window} {last:.3f}")
        sys.exit(0 if ok else 1)

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    elapsed = time.perf_counter() - start
    print(f"samples/s {args.batch * args.steps / elapsed:.0f}")


if __name__ == "__main__":
    main()
