"""Steady-state training speed of a PyTorch peer of one `mvvae bench` configuration.

Times what MultiVae's trainer does per batch -- model(batch, epoch=…), loss.backward(), optimizer.step(),
zero_grad() -- for --warmup untimed then --steps timed steps on the same Fashion-MNIST batches
`mvvae bench` reads (the training images, binarised at 0.5, cut into the same views), one thread.
Prints one line: `samples/s <value>`.

  python multivae_bench.py --family jnf --stage joint|unimodal [--batch 128 --steps 300 --warmup 30]

Families:
  jnf   MultiVae's JNF with the layer sizes of configs/jnf-fashion-quadrants.yaml (4 quadrants of 196,
        latent 16): per-quadrant features 196→256 (ReLU), concatenated, 1024→256→(16, 16); decoders
        16→256→196 with Bernoulli logits; unimodal bases 196→256→(16, 16); MultiVae's default flows
        (pythae's MAF: 2 MADE blocks of 3 hidden layers of 128, no batch norm) -- the sizes of ours.
        Stage `unimodal` is MultiVae's epochs after `warmup`: joint VAE frozen, its forward still run.

Only a throwaway benchmark: `scripts/peers/setup.sh` makes the virtualenv; nothing of the product imports it.
"""

import argparse
import gzip
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


def load_images(directory):
    with gzip.open(f"{directory}/train-images-idx3-ubyte.gz", "rb") as f:
        raw = f.read()
    import numpy as np

    count = int.from_bytes(raw[4:8], "big")
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, 28, 28)
    return (images.astype(np.float32) / 255.0 > 0.5).astype(np.float32)   # as data.binarize: 0.5


def quadrants(images):
    """Top-left, top-right, bottom-left, bottom-right, each flattened row-major (as mvvae's quadrant views)."""
    return [images[:, r:r + 14, c:c + 14].reshape(len(images), 196) for r in (0, 14) for c in (0, 14)]


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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--family", choices=["jnf"], required=True)
    parser.add_argument("--stage", choices=["joint", "unimodal"], default="joint")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    stub_torchvision()
    import torch
    from multivae.data.datasets.base import MultimodalBaseDataset

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    # Argument validation off, as MultiVae's users must for grey levels; it only slows the step.
    torch.distributions.Distribution.set_default_validate_args(False)

    views = [torch.from_numpy(v.copy()) for v in quadrants(load_images(args.data))]
    model, mods = jnf_model(warmup=1)
    epoch = 1 if args.stage == "joint" else 2
    if args.stage == "unimodal":
        model._set_torch_no_grad_on_joint_vae()   # what MultiVae's forward does after `warmup`
    model.train()
    # MultiVae's trainer: Adam over the model's parameters, re-made when the warm-up ends.
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)

    rows = views[0].shape[0]
    generator = torch.Generator().manual_seed(args.seed)
    order = torch.randperm(rows, generator=generator)
    position = 0

    def step():
        nonlocal position, order
        if position + args.batch > rows:
            order, position = torch.randperm(rows, generator=generator), 0
        index = order[position:position + args.batch]
        position += args.batch
        batch = MultimodalBaseDataset(data={m: v[index] for m, v in zip(mods, views)})
        loss = model(batch, epoch=epoch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()

    for _ in range(args.warmup):
        step()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    elapsed = time.perf_counter() - start
    print(f"samples/s {args.batch * args.steps / elapsed:.0f}")


if __name__ == "__main__":
    main()
