"""Issue 16's end-to-end view, the MultiVae side: train MultiVae's MVAE (no subsampling) or MoPoE with
MultiVae's own trainer, time its epochs, and estimate the test log p(x1, x2) with the estimator of
`mvvae evaluate` -- and prove that estimator is the same on one of our trained runs.

  python multivae_train.py train --family poe|mopoe --out DIR [--epochs 5 --seed 0 --batch 128 --lr 1e-3]
                                  [--init torch|mvvae] [--flush-denormal]
        MultiVae's BaseTrainer (BaseTrainerConfig, MultimodalBaseDataset) for --epochs epochs on our training
        rows, validating every epoch on our validation rows (as `training.validate: true` does). Writes
        DIR/train.json (per epoch: the training loop's wall time, the validation's, the whole epoch's, the
        count of subnormal floats in Adam's moments; every step's wall time) and DIR/model.pt (the last
        epoch's state_dict, evaluated below; MultiVae's own final_model/ is its best-on-validation copy).
        --init mvvae: our layers' initialisation (multivae_bench.py's mvvae_init) instead of torch's default;
        --flush-denormal: torch.set_flush_denormal(True). Seen here (PoE and MoPoE, torch's initialisation):
        from about step 700 Adam's moments of dead units decay into subnormal floats (~0.35 M of 3.8 M
        entries after epoch 2, ~0.5 M after epoch 5) and the steps slow from ~30-35 ms to ~45-50 ms; with
        --flush-denormal they stay at ~33 ms and the trained model is the same (test log p(x) equal to 6
        decimals).
  python multivae_train.py evaluate --family poe|mopoe --out DIR [--test-limit 2000 --draws 100]
        log p(x1, x2) of DIR/model.pt on the first --test-limit test rows -> DIR/evaluation.json, and a line
        `log p(x) <value>`.
  python multivae_train.py check --run OUR_RUN [--test-limit 2000 --draws 100 --noise philox|torch] [--mvvae BIN]
        loads our run's newest checkpoint (model.safetensors) into the same torch modules and prints this
        estimator's figure next to the one `mvvae evaluate` wrote into OUR_RUN/evaluation.json (run it first
        with the same --set data.testLimit). With --mvvae, also checks that our split is reproduced here:
        the labels of `mvvae encode --split train|validation` against the labels of the rows chosen here.

What the trainer does per epoch (MultiVae 1.0.3, multivae/trainers/base/base_trainer.py), and what is
switched off for a timing: steps_saving=None (no checkpoint during training), steps_predict=None (no
reconstruction grids), no wandb/mlflow callback, no log file (train(log_output_dir=None)). What stays, as a
MultiVae user gets it: the DataLoader over MultimodalBaseDataset (per-row __getitem__ and collation,
shuffle, drop_last=False: 391 batches, the last of 80, as ours), the sanity-check forward before training,
tqdm's progress bar (on stderr) and the per-epoch console metrics, the epoch's validation pass, the
deepcopy of the model whenever the validation loss improves, and model.save of the best model at the end.
Timing comes from a TrainingCallback on the trainer's own hooks: the training loop runs from
on_train_step_begin to the last on_train_step_end (`train_seconds`, the figure comparable with the
`seconds` of our metrics.jsonl, which also excludes validation and checkpoints); the epoch from
on_epoch_begin to on_epoch_end (`epoch_seconds`, with validation and the deepcopy).

The estimator (Sources/MVEvaluation/ImportanceSampler.swift, AggregatedEvaluation.swift):
per test row, N draws z_n from the model's joint posterior q(z | x1, x2) -- ancestral for a mixture: a
component by its weight, then mu_c + sigma_c * eps --, log p(x) = log (1/N) sum_n p(x1|z_n) p(x2|z_n) p(z_n) /
q(z_n | x1, x2) (Bernoulli logits, q the whole mixture density), then the mean over rows. With --noise
philox (the default) the draws are mvvae's own: Philox-4x32-10 keyed by (seed, evaluation stream, draw,
test row index), the component from the first uniform, Box-Muller normals (cos, then sin), so on our
checkpoints the two implementations see the same z and agree to float rounding; --noise torch takes
independent torch draws (agreement within Monte Carlo noise). The proposal is each model's own: MultiVae's
MVAE posterior is the product of the two experts and the prior expert (ours the same); MultiVae's MoPoE is
the uniform mixture of the experts' products over {top}, {bottom}, {top, bottom} with the prior expert in
the last one only (ours multiplies every subset's product by the prior expert).

Data: Fashion-MNIST (/usr/share/datasets/fashion-mnist), rows 0-13 and 14-27 of each image, binarised as
pixel/255 > 0.5; training and validation rows are those of mvvae's split (data.validationSize 10 000 of the
60 000 training images, chosen by the Philox permutation of Sources/MVData/Splits.swift under
`seed`), the test rows the first --test-limit of the 10 000 test images. One thread (torch.set_num_threads(1)).
Only a throwaway benchmark: `scripts/peers/setup.sh` makes the virtualenv; nothing of the product imports it.
"""

import argparse
import gzip
import json
import math
import os
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from multivae_bench import halves, halves_model, mvvae_init, stub_torchvision  # noqa: E402

MODS = ["top", "bottom"]
LATENT = 20


# ---------------------------------------------------------------------------------------------- data

def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic = int.from_bytes(raw[0:4], "big")
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(magic & 0xFF)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def views(directory, part):
    """(top, bottom) float32 binarised as mvvae's data.binarize: 0.5 (Float(pixel) / 255 > 0.5), and labels."""
    prefix = "train" if part == "train" else "t10k"
    images = read_idx(f"{directory}/{prefix}-images-idx3-ubyte.gz").astype(np.float32) / np.float32(255)
    labels = read_idx(f"{directory}/{prefix}-labels-idx1-ubyte.gz").astype(np.int64)
    return [np.ascontiguousarray(v) for v in halves((images > np.float32(0.5)).astype(np.float32))], labels


# ------------------------------------------------------------------- mvvae's Philox-4x32-10 streams

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK32 = 0xFFFFFFFF
PURPOSE_EVALUATION, PURPOSE_SPLIT = 5, 6


def philox_blocks(block, stream, seed):
    """Philox4x32.block for arrays of block indices and stream ids (uint64): (n, 4) uint32 words."""
    block = np.asarray(block, dtype=np.uint64)
    stream = np.asarray(stream, dtype=np.uint64)
    block, stream = np.broadcast_arrays(block, stream)
    c0, c1 = block & np.uint64(MASK32), block >> np.uint64(32)
    c2, c3 = stream & np.uint64(MASK32), stream >> np.uint64(32)
    k0, k1 = seed & MASK32, (seed >> 32) & MASK32
    for rnd in range(10):
        if rnd > 0:
            k0, k1 = (k0 + W0) & MASK32, (k1 + W1) & MASK32
        p0 = np.uint64(M0) * c0
        p1 = np.uint64(M1) * c2
        hi0, lo0 = p0 >> np.uint64(32), p0 & np.uint64(MASK32)
        hi1, lo1 = p1 >> np.uint64(32), p1 & np.uint64(MASK32)
        c0, c1, c2, c3 = hi1 ^ c1 ^ np.uint64(k0), lo1, hi0 ^ c3 ^ np.uint64(k1), lo0
    return np.stack([c0, c1, c2, c3], axis=-1).astype(np.uint32)


def stream_id(purpose, epoch=0, index=0):
    """RandomPurpose.stream(epoch:index:): 8 bits of purpose, 16 of epoch, 40 of index."""
    index = np.asarray(index, dtype=np.uint64)
    return (np.uint64(purpose << 56) | np.uint64((epoch & 0xFFFF) << 40)) | (index & np.uint64(0xFF_FFFF_FFFF))


def stream_words(streams, count, seed):
    """The first `count` 32-bit words of each stream (shape (len(streams), count))."""
    streams = np.asarray(streams, dtype=np.uint64).reshape(-1, 1)
    blocks = (count + 3) // 4
    words = philox_blocks(np.arange(blocks, dtype=np.uint64).reshape(1, -1), streams, seed)
    return words.reshape(len(streams), blocks * 4)[:, :count]


def unit_interval(words):
    """RandomStream.openUnitInterval: (top 23 bits + 1/2) * 2^-23, exact in Float."""
    return (words >> 9).astype(np.float64) * 2.0 ** -23 + 2.0 ** -24


def box_muller(words):
    """nextNormal on consecutive words: pairs (u1, u2) -> Float(r cos), then Float(r sin)."""
    u = unit_interval(words)
    u1, u2 = u[:, 0::2], u[:, 1::2]
    r = np.sqrt(-2.0 * np.log(u1))
    theta = 2.0 * math.pi * u2
    out = np.empty(words.shape, dtype=np.float32)
    out[:, 0::2] = (r * np.cos(theta)).astype(np.float32)
    out[:, 1::2] = (r * np.sin(theta)).astype(np.float32)
    return out


def split_indices(seed, total=60000, validation=10000):
    """DataSplits(train:test:validation:seed:): a Fisher-Yates permutation of the training images from the
    split stream; the first `validation` (sorted) validate, the rest (sorted) train."""
    words = stream_words([stream_id(PURPOSE_SPLIT)], total + 4096, seed)[0].astype(np.uint64)
    position = 0
    p = np.arange(total)
    for i in range(total - 1, 0, -1):
        bound = i + 1
        limit = MASK32 - MASK32 % bound
        while True:
            if position == len(words):   # rejections beyond the margin: a few more words
                more = stream_words([stream_id(PURPOSE_SPLIT)], len(words) + 4096, seed)[0].astype(np.uint64)
                words = more
            x = int(words[position])
            position += 1
            if x < limit:
                j = x % bound
                break
        p[i], p[j] = p[j], p[i]
    return np.sort(p[validation:]), np.sort(p[:validation])


# ----------------------------------------------------------------------------------------- estimator

def draws_for(indices, draws, components, weights, seed, noise, generator):
    """z of shape (draws, rows, latent): MixtureSampler's ancestral draws (--noise philox: mvvae's own)."""
    import torch

    rows, count = len(indices), len(components)
    means = np.stack([m.numpy() for m, _ in components])          # (C, rows, L) float32
    logvars = np.stack([lv.numpy() for _, lv in components])
    w = None if weights is None else weights.numpy().astype(np.float32)   # (rows, C)
    if noise == "philox":
        streams = np.concatenate([stream_id(PURPOSE_EVALUATION, n, np.asarray(indices)) for n in range(draws)])
        extra = 0 if w is None else 1
        words = stream_words(streams, extra + LATENT, seed)               # (draws * rows, 1 + L)
        eps = box_muller(words[:, extra:]).reshape(draws, rows, LATENT)
        if w is None:
            chosen = np.zeros((draws, rows), dtype=np.int64)
        else:
            u = unit_interval(words[:, 0]).astype(np.float32).reshape(draws, rows)
            cumulative = np.cumsum(np.where(w > 0, w, np.float32(0)), axis=1, dtype=np.float32)   # sequential Float adds
            below = (u[:, :, None] < cumulative[None, :, :]) & (w[None] > 0)
            last = count - 1 - np.argmax((w > 0)[:, ::-1], axis=1)                              # last positive weight
            chosen = np.where(below.any(axis=2), np.argmax(below, axis=2), last[None, :])
    else:
        eps = torch.randn(draws, rows, LATENT, generator=generator).numpy()
        if w is None:
            chosen = np.zeros((draws, rows), dtype=np.int64)
        else:
            chosen = torch.multinomial(torch.from_numpy(w.astype(np.float64)), draws, replacement=True,
                                       generator=generator).numpy().T
    r = np.arange(rows)[None, :]
    mu, lv = means[chosen, r], logvars[chosen, r]                          # (draws, rows, L)
    return torch.from_numpy((mu + np.exp(np.float32(0.5) * lv) * eps).astype(np.float32))


def log_gaussian(z, mean, logvar):
    """log N(z; mean, diag e^logvar) summed over the latent (float32, as the tape's)."""
    return (-0.5 * (math.log(2 * math.pi) + logvar + (z - mean) ** 2 * (-logvar).exp())).sum(-1)


def log_likelihood(posterior, decoders, log_prob, test, draws, seed, noise="philox", chunk=100, progress=None,
                   weights_out=None):
    """Mean over the rows of `test` (a list of per-view tensors, rows = test indices 0…) of the importance-
    sampled log p(x1, x2) with `draws` draws from posterior(x) -> ([(mean, logvar)…], weights or None).
    `weights_out`, a list, receives each chunk's log-weights (draws x rows)."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    rows = test[0].shape[0]
    total = 0.0
    with torch.no_grad():
        for start in range(0, rows, chunk):
            x = [v[start:start + chunk] for v in test]
            n = x[0].shape[0]
            components, weights = posterior(x)
            z = draws_for(list(range(start, start + n)), draws, components, weights, seed, noise, generator)
            # log q(z | x): the mixture over components of positive weight, as Tape.logDensity(_, PosteriorMixture).
            parts = []
            for c, (m, lv) in enumerate(components):
                if weights is not None and not bool((weights[:, c] > 0).any()):
                    continue
                t = log_gaussian(z, m[None], lv[None])
                parts.append(t if weights is None else t + weights[:, c].log()[None])
            log_q = parts[0] if weights is None else torch.logsumexp(torch.stack(parts), dim=0)
            log_pz = -0.5 * (z ** 2).sum(-1) - 0.5 * LATENT * math.log(2 * math.pi)
            log_w = (log_pz.double() - log_q.double())
            flat = z.reshape(draws * n, LATENT)
            for s, decoder in enumerate(decoders):
                logits = decoder(flat)
                target = x[s].repeat(draws, 1)
                log_w += log_prob(s, logits, target).reshape(draws, n).double()
            per_row = torch.logsumexp(log_w, dim=0) - math.log(draws)
            if weights_out is not None:
                weights_out.append(log_w.numpy())
            total += float(per_row.sum())
            if progress and (start // chunk) % 5 == 0:
                progress(f"log p(x): rows {start + n} of {rows}, running mean {total / (start + n):.3f}")
    return total / rows


def bernoulli_log_prob(logits, target):
    """log p(target | logits) summed over features: −BCE with logits (the tape's bceWithLogitsRowSum)."""
    import torch.nn.functional as F

    return -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)


def expert_products(experts, subsets):
    """mvvae's ProductOfExperts.product for each subset (tuples of modality numbers): the prior expert times
    the subset's experts: precision 1 + sum sigma_s^-2, mean sum sigma_s^-2 mu_s / precision."""
    out = []
    for subset in subsets:
        precision = 1.0
        weighted = 0.0
        for s in subset:
            mu, lv = experts[s]
            p = (-lv).exp()
            precision = precision + p
            weighted = weighted + p * mu
        out.append((weighted / precision, -precision.log()))
    return out


def posterior_of(model, family, flavour):
    """x -> (components, weights) of q(z | x1, x2): MultiVae's own (flavour multivae) or mvvae's definition."""
    import torch
    from multivae.data.datasets.base import MultimodalBaseDataset

    def multivae(x):
        data = MultimodalBaseDataset(data=dict(zip(MODS, x)))
        if family == "poe":
            mu, lv = model.compute_mu_log_var_subset(data, MODS)
            return [(mu, lv)], None
        latents = model.inference(data)
        components = [(latents["mus"][c], latents["logvars"][c]) for c in range(latents["mus"].shape[0])]
        return components, latents["weights"].T.contiguous()       # MoPoE: (subsets, rows) -> (rows, subsets)

    def mvvae(x):
        experts = []
        for m, v in zip(MODS, x):
            out = model.encoders[m](v)
            experts.append((out.embedding, out.log_covariance))
        if family == "poe":
            return expert_products(experts, [(0, 1)]), None
        # MixtureOfProductsOfExperts: components T = {0}, {1}, {0, 1} (T = ∅, the prior, has weight 0 here).
        components = expert_products(experts, [(0,), (1,), (0, 1)])
        return components, torch.full((x[0].shape[0], 3), 1.0 / 3.0)

    return multivae if flavour == "multivae" else mvvae


def monte_carlo_error(log_weights, resamples=200, seed=0):
    """Standard error of the estimate from its draws alone: the draws of every row resampled with
    replacement (bootstrap), the estimate recomputed, the spread of those estimates."""
    w = np.concatenate(log_weights, axis=1)                       # (draws, rows)
    draws, rows = w.shape
    rng = np.random.default_rng(seed)
    cols = np.arange(rows)[None, :]
    estimates = []
    for _ in range(resamples):
        sample = w[rng.integers(0, draws, size=(draws, rows)), cols]
        top = sample.max(axis=0)
        estimates.append(float((top + np.log(np.exp(sample - top).mean(axis=0))).mean()))
    return float(np.std(estimates, ddof=1))


def model_log_likelihood(model, family, flavour, test, draws, seed, noise, progress=None, weights_out=None):
    model.eval()
    decoders = [lambda z, m=m: model.decoders[m](z).reconstruction for m in MODS]

    def log_prob(s, logits, target):
        if flavour == "multivae":   # the model's own likelihood: dist.Bernoulli(logits=…).log_prob
            return model.recon_log_probs[MODS[s]](logits, target).reshape(logits.shape[0], -1).sum(-1)
        return bernoulli_log_prob(logits, target)

    return log_likelihood(posterior_of(model, family, flavour), decoders, log_prob, test, draws, seed, noise,
                          progress=progress, weights_out=weights_out)


# ----------------------------------------------------------------------------- our checkpoints in torch

def read_safetensors(path):
    """{name: float32 array} of a .safetensors file: 8-byte little-endian header length, JSON header, raw data."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + length])
    base = 8 + length
    out = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        assert entry["dtype"] == "F32", f"{name}: {entry['dtype']}"
        start, end = entry["data_offsets"]
        out[name] = np.frombuffer(raw, dtype="<f4", count=(end - start) // 4, offset=base + start).reshape(entry["shape"])
    return out


def newest_checkpoint(run):
    folder = os.path.join(run, "checkpoints")
    steps = sorted(d for d in os.listdir(folder) if d.startswith("step-"))
    return os.path.join(folder, steps[-1], "model.safetensors")


def load_ours(model, tensors):
    """Our parameters into halves_model's modules. Ours: Dense W is inputs x outputs (y = x W + b), torch's
    Linear weight outputs x inputs, so W is transposed. Encoder s: view{s+1}.encoder.layer0/1 (392→512→512,
    ReLU on both) then aggregator.view{s+1}.expert (512→[mu, log var]) = net.0, net.2, net.4; decoder s:
    view{s+1}.decoder.layer0/1/2 = net.0, net.2, net.4. View 1 (s = 0) is the top half."""
    import torch

    def ours_and_theirs(s, m):
        v = f"view{s + 1}"
        return [(f"{v}.encoder.layer0", f"encoders.{m}.net.0"), (f"{v}.encoder.layer1", f"encoders.{m}.net.2"),
                (f"aggregator.{v}.expert", f"encoders.{m}.net.4"), (f"{v}.decoder.layer0", f"decoders.{m}.net.0"),
                (f"{v}.decoder.layer1", f"decoders.{m}.net.2"), (f"{v}.decoder.layer2", f"decoders.{m}.net.4")]

    mapping = {}
    for s, m in enumerate(MODS):
        for ours, theirs in ours_and_theirs(s, m):
            mapping[f"{theirs}.weight"] = torch.from_numpy(tensors[f"{ours}.weight"].T.copy())
            mapping[f"{theirs}.bias"] = torch.from_numpy(tensors[f"{ours}.bias"].reshape(-1).copy())
    state = model.state_dict()
    missing = [k for k in state if k not in mapping]
    assert not missing, f"parameters without a counterpart in the checkpoint: {missing}"
    unused = [k for k in tensors if not k.startswith("adam.") and k.rsplit(".", 1)[0] not in
              {o for s, m in enumerate(MODS) for o, _ in ours_and_theirs(s, m)}]
    assert not unused, f"checkpoint tensors not mapped: {unused}"
    for k, v in mapping.items():
        assert state[k].shape == v.shape, f"{k}: {tuple(state[k].shape)} vs {tuple(v.shape)}"
    model.load_state_dict(mapping)


def run_config(run):
    """The few keys of our run's config.yaml read here (flat YAML written by mvvae; no PyYAML needed)."""
    out = {"seed": 0, "aggregator": None, "validationSize": 10000, "importanceSamples": 100, "binarize": None}
    section = None
    with open(os.path.join(run, "config.yaml")) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line.startswith(" "):
                section = line.split(":")[0]
            key, _, value = line.strip().partition(":")
            value = value.split("#")[0].strip()
            if section == "seed" and key == "seed":
                out["seed"] = int(value)
            elif section == "model" and key == "aggregator":
                out["aggregator"] = value
            elif section == "data" and key in ("validationSize", "binarize"):
                out[key] = float(value) if key == "binarize" else int(value)
            elif section == "evaluation" and key == "importanceSamples":
                out["importanceSamples"] = int(value)
    return out


# ------------------------------------------------------------------------------------------- commands

def setup_torch():
    stub_torchvision()
    import torch

    torch.set_num_threads(1)
    # MultiVae's Bernoulli decoders: argument validation off (multivae_bench.py), it only slows the step.
    torch.distributions.Distribution.set_default_validate_args(False)
    return torch


def test_views(directory, limit):
    import torch

    (top, bottom), _ = views(directory, "test")
    return [torch.from_numpy(v[:limit].copy()) for v in (top, bottom)]


def subnormal_count(optimizer):
    """Entries of Adam's exp_avg and exp_avg_sq that are subnormal floats (0 < |v| < 2^-126)."""
    import torch

    tiny = torch.finfo(torch.float32).tiny
    count = total = 0
    for state in optimizer.state.values():
        for key in ("exp_avg", "exp_avg_sq"):
            v = state.get(key)
            if v is None:
                continue
            a = v.abs()
            count += int(((a > 0) & (a < tiny)).sum())
            total += a.numel()
    return count, total


def command_train(args):
    torch = setup_torch()
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    from multivae.data.datasets.base import MultimodalBaseDataset
    from multivae.trainers import BaseTrainer, BaseTrainerConfig
    from multivae.trainers.base.callbacks import TrainingCallback

    started = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    (top, bottom), _ = views(args.data, "train")
    train_rows, validation_rows = split_indices(args.seed)
    data = lambda rows: MultimodalBaseDataset(data={"top": torch.from_numpy(top[rows]), "bottom": torch.from_numpy(bottom[rows])})
    train_set, validation_set = data(train_rows), data(validation_rows)

    torch.manual_seed(args.seed)
    model, _ = halves_model(args.family)
    if args.init == "mvvae":
        mvvae_init([*model.encoders.values(), *model.decoders.values()])

    class Clock(TrainingCallback):
        """Wall times from the trainer's own hooks."""

        def __init__(self):
            self.epochs, self.steps = [], []
            self.trainer = None

        def on_epoch_begin(self, training_config, **kwargs):
            self.epoch = {"epoch": kwargs.get("epoch"), "start": time.perf_counter()}

        def on_train_step_begin(self, training_config, **kwargs):
            self.epoch["train_start"] = self.last = time.perf_counter()

        def on_train_step_end(self, training_config, **kwargs):
            now = time.perf_counter()
            self.steps.append(now - self.last)
            self.last = self.epoch["train_end"] = now

        def on_eval_step_begin(self, training_config, **kwargs):
            self.epoch["eval_start"] = time.perf_counter()

        def on_epoch_end(self, training_config, **kwargs):
            now = time.perf_counter()
            e = self.epoch
            record = {"epoch": e["epoch"], "train_seconds": e["train_end"] - e["train_start"],
                      "validation_seconds": now - e["eval_start"] if "eval_start" in e else 0.0,
                      "epoch_seconds": now - e["start"]}
            record["adam_subnormal"], record["adam_entries"] = subnormal_count(self.trainer.optimizer)
            self.epochs.append(record)
            print(f"multivae epoch {record['epoch']}: training loop {record['train_seconds']:.2f} s, whole epoch "
                  f"{record['epoch_seconds']:.2f} s, Adam subnormal entries {record['adam_subnormal']}", flush=True)

    clock = Clock()
    config = BaseTrainerConfig(output_dir=os.path.join(args.out, "multivae"), per_device_train_batch_size=args.batch,
                               per_device_eval_batch_size=args.batch, num_epochs=args.epochs, learning_rate=args.lr,
                               optimizer_cls="Adam", steps_saving=None, steps_predict=None, seed=args.seed, no_cuda=True)
    trainer = BaseTrainer(model=model, train_dataset=train_set, eval_dataset=validation_set, training_config=config,
                          callbacks=[clock])
    clock.trainer = trainer
    train_start = time.perf_counter()
    trainer.train()
    train_wall = time.perf_counter() - train_start
    torch.save(trainer.model.state_dict(), os.path.join(args.out, "model.pt"))
    blocks = [sum(clock.steps[i:i + 100]) / len(clock.steps[i:i + 100]) * 1000 for i in range(0, len(clock.steps), 100)]
    result = {"family": args.family, "seed": args.seed, "epochs": clock.epochs, "steps": len(clock.steps),
              "step_ms_per_100": blocks, "train_call_seconds": train_wall, "setup_seconds": train_start - started,
              "train_rows": len(train_rows), "validation_rows": len(validation_rows), "batch": args.batch, "lr": args.lr,
              "init": args.init, "flush_denormal": args.flush_denormal, "torch": torch.__version__}
    with open(os.path.join(args.out, "train.json"), "w") as f:
        json.dump(result, f, indent=1)
    print("step time, ms, mean of each 100 steps: " + " ".join(f"{b:.1f}" for b in blocks))
    print("epoch seconds (training loop): " + " ".join(f"{e['train_seconds']:.2f}" for e in clock.epochs))


def command_evaluate(args):
    torch = setup_torch()
    model, _ = halves_model(args.family)
    model.load_state_dict(torch.load(os.path.join(args.out, "model.pt")))
    test = test_views(args.data, args.test_limit)
    start = time.perf_counter()
    value = model_log_likelihood(model, args.family, "multivae", test, args.draws, args.seed, args.noise,
                                 progress=lambda m: print(m, file=sys.stderr, flush=True))
    result = {"logLikelihood": value, "testRows": len(test[0]), "importanceSamples": args.draws, "noise": args.noise,
              "seed": args.seed, "seconds": time.perf_counter() - start}
    with open(os.path.join(args.out, "evaluation.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(f"log p(x) {value:.6f}")


def check_split(mvvae, run, seed, directory):
    """Our split reproduced: the labels mvvae encode lists for its train and validation rows equal the labels
    of the rows chosen here (in the same, ascending, order)."""
    train_rows, validation_rows = split_indices(seed)
    _, labels = views(directory, "train")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for split, rows in (("validation", validation_rows), ("train", train_rows)):
            prefix = os.path.join(tmp, split)
            subprocess.run([mvvae, "encode", "--run", run, "--split", split, "--output", prefix], check=True,
                           stdout=subprocess.DEVNULL)
            theirs = np.load(prefix + "-labels.npy").astype(np.int64).reshape(-1)
            same = len(theirs) == len(rows) and bool((theirs == labels[rows]).all())
            print(f"split {split}: {len(rows)} rows here, {len(theirs)} from mvvae encode, labels "
                  f"{'identical' if same else 'DIFFER'}")
            ok &= same
    return ok


def command_check(args):
    setup_torch()
    cfg = run_config(args.run)
    family = {"poe": "poe", "mopoe": "mopoe"}.get(cfg["aggregator"])
    assert family, f"{args.run}: aggregator {cfg['aggregator']} (poe or mopoe only)"
    assert cfg["binarize"] == 0.5, f"{args.run}: data.binarize {cfg['binarize']}; the test rows here are binarised at 0.5"
    path = newest_checkpoint(args.run)
    draws = args.draws or cfg["importanceSamples"]
    model, _ = halves_model(family)
    load_ours(model, read_safetensors(path))
    test = test_views(args.data, args.test_limit)
    reference = None
    evaluation = os.path.join(args.run, "evaluation.json")
    if os.path.exists(evaluation):
        with open(evaluation) as f:
            report = json.load(f)
        reference = (report["logLikelihood"], report["testRows"], report["importanceSamples"])
    print(f"{args.run}: {family}, {path}, seed {cfg['seed']}, {len(test[0])} test rows, {draws} draws, noise {args.noise}")
    # Our definition of q (for PoE it is also MultiVae's: MVAE's product with the prior expert).
    flavours = ["mvvae", "multivae"]
    values, errors = {}, {}
    for flavour in flavours:
        start = time.perf_counter()
        log_weights = []
        values[flavour] = model_log_likelihood(model, family, flavour, test, draws, cfg["seed"], args.noise,
                                               weights_out=log_weights)
        errors[flavour] = monte_carlo_error(log_weights)
        print(f"  this estimator, q as {'mvvae' if flavour == 'mvvae' else 'MultiVae'} defines it: log p(x) "
              f"{values[flavour]:.6f}, Monte Carlo s.e. {errors[flavour]:.3f}  ({time.perf_counter() - start:.1f} s)")
    ok = True
    if reference:
        value, rows, samples = reference
        print(f"  mvvae evaluate (evaluation.json, {rows} rows, {samples} draws): log p(x) {value:.6f}")
        if rows != len(test[0]) or samples != draws:
            print("  (evaluation.json was made with other rows or draws: rerun mvvae evaluate with "
                  f"--set data.testLimit={len(test[0])})")
            ok = False
        else:
            # The same draws: float rounding only. Independent draws: 4 standard errors of one estimate
            # (bootstrap over its draws) times sqrt(2), the two estimates being equally noisy.
            tolerance = 0.01 if args.noise == "philox" else 4 * math.sqrt(2) * errors["mvvae"]
            difference = values["mvvae"] - value
            ok = abs(difference) <= tolerance
            print(f"  difference (q as mvvae's) {difference:+.6f} nats: {'within' if ok else 'OUTSIDE'} {tolerance:.3f} "
                  f"({'same draws, float rounding only' if args.noise == 'philox' else 'independent draws'})")
            if family == "poe":
                same = abs(values["multivae"] - values["mvvae"]) <= 0.01
                print(f"  MVAE's own posterior on the same weights: {values['multivae'] - values['mvvae']:+.4f} nats "
                      f"from ours ({'the same q' if same else 'DIFFERENT q'})")
                ok &= same
    else:
        print(f"  no {evaluation}: run `mvvae evaluate --run {args.run} --no-classifiers --set data.testLimit={len(test[0])}` first")
        ok = False
    if args.mvvae:
        ok &= check_split(args.mvvae, args.run, cfg["seed"], args.data)
    print(f"check {'passed' if ok else 'FAILED'}")
    sys.exit(0 if ok else 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    common.add_argument("--test-limit", type=int, default=2000)
    common.add_argument("--noise", choices=["philox", "torch"], default="philox",
                        help="philox: mvvae's own evaluation draws; torch: independent ones")
    train = sub.add_parser("train", parents=[common])
    train.add_argument("--family", choices=["poe", "mopoe"], required=True)
    train.add_argument("--out", required=True)
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--batch", type=int, default=128)
    train.add_argument("--lr", type=float, default=1e-3)
    train.add_argument("--init", choices=["torch", "mvvae"], default="torch",
                       help="torch's default initialisation (a MultiVae user's) or mvvae's")
    train.add_argument("--flush-denormal", action="store_true", help="torch.set_flush_denormal(True) (FTZ/DAZ)")
    evaluate = sub.add_parser("evaluate", parents=[common])
    evaluate.add_argument("--family", choices=["poe", "mopoe"], required=True)
    evaluate.add_argument("--out", required=True)
    evaluate.add_argument("--draws", type=int, default=100)
    evaluate.add_argument("--seed", type=int, default=0, help="keys the draws (mvvae: the config's seed)")
    check = sub.add_parser("check", parents=[common])
    check.add_argument("--run", required=True)
    check.add_argument("--draws", type=int, default=0, help="default: the run's evaluation.importanceSamples")
    check.add_argument("--mvvae", help="the mvvae binary: also check the train/validation split")
    args = parser.parse_args()
    {"train": command_train, "evaluate": command_evaluate, "check": command_check}[args.command](args)


if __name__ == "__main__":
    main()
