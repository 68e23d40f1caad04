"""Counts from a known negative-binomial latent model, for the dispersion-recovery test (Python only in tests).

  python3 nb_simulation.py FOLDER [ROWS]    writes FOLDER/rna.npy, FOLDER/protein.npy (float32 counts) and
                                           FOLDER/theta_rna.npy, FOLDER/theta_protein.npy (the true θ per feature)
  python3 nb_simulation.py check RUN FOLDER
                                           compares the θ a run learnt (its newest checkpoint) with the truth and
                                           exits 1 with the numbers when it misses the tolerance below

z ~ N(0, I_2); each view's shares softmax(z A + b); its library size ℓ uniform on 200…800 (RNA) or
500…1500 (proteins); x_j ~ NB(mean ℓ·share_j, dispersion θ_j) drawn as Poisson(Gamma(θ_j, ℓ·share_j / θ_j)),
θ_j cycling through 0.5, 2 and 8. Seeded: the same files on every machine."""
import glob
import json
import struct
import sys

import numpy as np


def learnt(run, name):
    """A parameter of the run's newest checkpoint (safetensors: 8-byte header size, JSON header, data)."""
    path = sorted(glob.glob(f"{run}/checkpoints/step-*/model.safetensors"))[-1]
    raw = open(path, "rb").read()
    size = struct.unpack("<Q", raw[:8])[0]
    start, end = json.loads(raw[8:8 + size])[name]["data_offsets"]
    return np.frombuffer(raw[8 + size + start:8 + size + end], dtype=np.float32)


def check(run, folder):
    """Tolerances, measured (2 000 cells, PoE, latent 2, 100 epochs): genes of θ 0.5 and 2 come back within a
    factor e^0.35 in the RNA view; near-Poisson genes (θ 8) are underestimated — the sampled latent's
    spread reads as extra variance — so for every view only the order of the three groups is asked for."""
    failures = []
    for v, name in [(1, "rna"), (2, "protein")]:
        est = np.exp(learnt(run, f"view{v}.likelihood.logDispersion").astype(np.float64))
        true = np.load(f"{folder}/theta_{name}.npy")
        error = np.log(est / true)
        groups = [np.log(est[true == t]).mean() for t in (0.5, 2.0, 8.0)]
        print(f"{name}: learnt θ {np.round(est, 2).tolist()}, log(learnt / true) {np.round(error, 2).tolist()}")
        if not groups[0] < groups[1] < groups[2]:
            failures.append(f"{name}: the groups' mean log θ {np.round(groups, 2).tolist()} are not in the order of the truth")
        if name == "rna" and np.abs(error[true < 8]).max() > 0.35:
            failures.append(f"rna: θ of 0.5 and 2 off by more than e^0.35: {np.round(error[true < 8], 2).tolist()}")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if sys.argv[1] == "check":
    check(sys.argv[2], sys.argv[3])
    sys.exit(0)
folder, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000
rng = np.random.default_rng(11)
z = rng.normal(size=(n, 2))
for name, genes, low, high in [("rna", 12, 200, 800), ("protein", 6, 500, 1500)]:
    a = rng.normal(scale=0.8, size=(2, genes))
    b = rng.normal(scale=0.3, size=genes)
    logits = z @ a + b
    shares = np.exp(logits - logits.max(1, keepdims=True))
    shares /= shares.sum(1, keepdims=True)
    library = rng.integers(low, high, size=(n, 1))
    theta = np.array([0.5, 2.0, 8.0] * (genes // 3))
    mu = library * shares
    counts = rng.poisson(rng.gamma(theta, mu / theta))
    np.save(f"{folder}/{name}.npy", counts.astype(np.float32))
    np.save(f"{folder}/theta_{name}.npy", theta)
