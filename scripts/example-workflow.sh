#!/usr/bin/env bash
# The README's user workflow, end to end on a small real-valued two-view data set: the Wisconsin
# breast-cancer measurements that ship with scikit-learn (PyPI `scikit-learn`, Debian `python3-sklearn`;
# sklearn.datasets.load_breast_cancer, bundled, no download): 569 tumours, view 1 = the 10 mean
# cell-nucleus measurements, view 2 = the 10 "worst" (largest) ones, labels benign/malignant.
#   scripts/example-workflow.sh [WORKDIR (default runs/example)]
# Steps: .npy files → train → evaluate → encode → impute.
set -euo pipefail
cd "$(dirname "$0")/.."
work="${1:-runs/example}"
bin="${MVVAE_BIN:-.build/release/mvvae}"
[[ -x "$bin" ]] || swift build -c release -q --product mvvae
python3 -c 'import sklearn' 2>/dev/null || python3 -m pip install -q scikit-learn || python3 -m pip install -q --break-system-packages scikit-learn
mkdir -p "$work"

echo "== 1. the data as .npy files (standardised; rows aligned across views)"
python3 - "$work" <<'PY'
import numpy as np, sys
from sklearn.datasets import load_breast_cancer
w = sys.argv[1]
d = load_breast_cancer()
x = (d.data - d.data.mean(0)) / d.data.std(0)
np.save(f"{w}/mean.npy", x[:, :10].astype(np.float32))     # radius, texture, … (mean over nuclei)
np.save(f"{w}/worst.npy", x[:, 20:].astype(np.float32))    # the same 10 measurements, largest nuclei
np.save(f"{w}/diagnosis.npy", d.target.astype(np.int64))    # 0 malignant, 1 benign
print(f"{x.shape[0]} rows: {w}/mean.npy (10 features), {w}/worst.npy (10), {w}/diagnosis.npy")
PY
cat > "$work/config.yaml" <<YAML
name: breast-cancer
seed: 1
data: {source: npy, views: [$work/mean.npy, $work/worst.npy], labels: $work/diagnosis.npy, validationSize: 57, testFraction: 0.2}
model: {type: aggregated, aggregator: poe, latent: 4, encoderHidden: [64], decoderHidden: [64], likelihood: gaussian}
training: {epochs: 100, batchSize: 32, learningRate: 0.002, logEvery: 50}
YAML

echo "== 2. train"
rm -rf "$work/run"
"$bin" train --config "$work/config.yaml" --run "$work/run" --progress lines | tail -n 3

echo "== 3. evaluate (test split)"
"$bin" evaluate --run "$work/run" | tail -n 25

echo "== 4. encode: embeddings of every row, from both views and from view 1 alone"
"$bin" encode --run "$work/run" --input "$work/mean.npy" --input "$work/worst.npy" --output "$work/embedding/both"
"$bin" encode --run "$work/run" --given 1 --input "$work/mean.npy" --output "$work/embedding/mean-only"
python3 - "$work" <<'PY'
import numpy as np, sys
w = sys.argv[1]
z, y = np.load(f"{w}/embedding/both-mean.npy"), np.load(f"{w}/diagnosis.npy")
# A downstream use: how far apart the two diagnoses sit in the latent space (means per class).
gap = np.linalg.norm(z[y == 0].mean(0) - z[y == 1].mean(0)) / z.std(0).mean()
print(f"embedding {z.shape}: the class means are {gap:.2f} average standard deviations apart")
PY

echo "== 5. impute: the 'worst' view from the 'mean' view, with 50 draws and the truth scored"
"$bin" impute --run "$work/run" --given 1 --test 100 --samples 50 --output "$work/imputed/worst.npy"
python3 - "$work" <<'PY'
import numpy as np, sys
w = sys.argv[1]
m, s = np.load(f"{w}/imputed/worst.npy"), np.load(f"{w}/imputed/worst-std.npy")
print(f"imputed {m.shape}; per-feature standard deviation across draws: median {np.median(s):.3f} (data standardised to 1)")
PY
