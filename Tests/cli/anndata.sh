#!/usr/bin/env bash
# A user's AnnData and MuData files end to end: views are arrays of one .h5ad (the CSR X, a dense obsm array),
# labels an obs column; train, evaluate and encode work, and every bad element or column is named before
# training. The file is written by the reference anndata package (Tests/python/anndata_files.py).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MVVAE_BIN:-$root/.build/debug/mvvae}"
work="$(mktemp -d /tmp/mvvae-anndata-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
python3 "$root/Tests/python/anndata_files.py" "$work" || fail "writing the .h5ad files (python3 needs anndata and h5py: run launch/setup)"

cat > "$work/run.yaml" <<YAML
name: anndata-poe
seed: 3
data: {source: anndata, file: $work/current.h5ad, views: [X, obsm/X_latent], labels: obs/cell_type,
       validationFraction: 0.2, testFraction: 0.2}
model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [8], featureSize: 8, decoderHidden: [8], likelihood: gaussian}
training: {epochs: 20, batchSize: 5, learningRate: 0.01, validate: false, logEvery: 1000}
evaluation: {importanceSamples: 4, classifierEpochs: 20}
YAML
"$bin" train --config "$work/run.yaml" --run "$work/run" --progress lines > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
grep -q "^done:" "$work/train.log" || { cat "$work/train.log"; fail "train did not finish"; }
# The loss falls over the 20 epochs (the mean training loss of the first three against the last three).
python3 - "$work/run/metrics.jsonl" <<'PY' || fail "the training loss did not fall"
import json, sys
losses = [json.loads(l)["trainLoss"] for l in open(sys.argv[1])]
assert len(losses) == 20 and sum(losses[-3:]) < sum(losses[:3]), losses
PY
"$bin" evaluate --run "$work/run" > "$work/eval.log" 2>&1 || { cat "$work/eval.log"; fail "evaluate"; }
grep -q "log p(x_M) per row" "$work/eval.log" || { cat "$work/eval.log"; fail "no log-likelihood in the evaluation"; }
"$bin" encode --run "$work/run" --split test --output "$work/emb" > /dev/null || fail "encode"
python3 -c "import numpy as np, sys; m = np.load(sys.argv[1]); assert m.shape[1] == 2 and m.shape[0] >= 3, m.shape" "$work/emb-mean.npy" \
  || fail "encode: the embedding's shape"

# Counts: the CSR count layer with a negative binomial (mean ℓ·softmax, learnt dispersion), its encoder
# reading log(1 + x), beside the dense obsm array; the loss falls and the evaluation scores the counts.
"$bin" train --config "$work/run.yaml" --run "$work/nb" --set 'data.views=[layers/counts, obsm/X_latent]' \
  --set 'model.likelihood=[negativeBinomial, gaussian]' --set 'model.encoder={input: [log1p, none]}' --progress lines > "$work/nb.log" 2>&1 || { cat "$work/nb.log"; fail "train nb"; }
python3 - "$work/nb/metrics.jsonl" <<'PY' || fail "the negative binomial's training loss did not fall"
import json, sys
losses = [json.loads(l)["trainLoss"] for l in open(sys.argv[1])]
assert len(losses) == 20 and sum(losses[-3:]) < sum(losses[:3]), losses
PY
"$bin" evaluate --run "$work/nb" > "$work/nb-eval.log" 2>&1 || { cat "$work/nb-eval.log"; fail "evaluate nb"; }
# CoVAE's joint encoder reads the views side by side: each through its own input transform.
cat > "$work/covae.yaml" <<YAML
name: anndata-covae
seed: 3
data: {source: anndata, file: $work/current.h5ad, views: [layers/counts, obsm/X_latent], validationFraction: 0.2, testFraction: 0.2}
model: {type: covae, latent: 2, encoderHidden: [8], decoderHidden: [8], jointHidden: [8], likelihood: [poisson, gaussian],
        encoder: {input: [log1p, none]}}
training: {batchSize: 5, learningRate: 0.01, validate: false, logEvery: 1000, stages: {pretrain: {epochs: 2}, train: {epochs: 8}}}
YAML
"$bin" train --config "$work/covae.yaml" --run "$work/covae" --progress lines > "$work/covae.log" 2>&1 || { cat "$work/covae.log"; fail "train covae"; }
grep -q "^done:" "$work/covae.log" || { cat "$work/covae.log"; fail "covae did not finish"; }
# MuData, partially paired (RNA for 20 of 23 cells, proteins for every third): a view a cell lacks is
# missing; PoE's masked bound trains on what each row has, with negative binomials on both count views.
cat > "$work/mudata.yaml" <<YAML
name: mudata-poe
seed: 5
data: {source: mudata, file: $work/paired.h5mu, views: [rna, prot], labels: obs/cell_type, validationFraction: 0, testFraction: 0.2}
model: {type: aggregated, aggregator: poe, bound: masked, latent: 2, encoderHidden: [8], featureSize: 8, decoderHidden: [8],
        likelihood: negativeBinomial, encoder: {input: log1p}}
training: {epochs: 20, batchSize: 4, learningRate: 0.01, validate: false, logEvery: 1000}
evaluation: {importanceSamples: 4, classifierEpochs: 20}
YAML
"$bin" train --config "$work/mudata.yaml" --run "$work/mu" --progress lines > "$work/mu.log" 2>&1 || { cat "$work/mu.log"; fail "train mudata"; }
python3 - "$work/mu/metrics.jsonl" <<'PY' || fail "the MuData run's training loss did not fall"
import json, sys
losses = [json.loads(l)["trainLoss"] for l in open(sys.argv[1])]
assert len(losses) == 20 and sum(losses[-3:]) < sum(losses[:3]), losses
PY
"$bin" evaluate --run "$work/mu" > "$work/mu-eval.log" 2>&1 || { cat "$work/mu-eval.log"; fail "evaluate mudata"; }

expect_error() {
  local want="$1"; shift
  if "$@" > "$work/out" 2>&1; then cat "$work/out"; fail "accepted: $*"; fi
  grep -qF -- "$want" "$work/out" || { cat "$work/out"; fail "expected '$want' from: $*"; }
}
expect_error "'layers/missing': not in the file" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set 'data.views=[X, layers/missing]'
expect_error "'obs': is a group of encoding 'dataframe', not a 2-D array" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set 'data.views=[X, obs]'
expect_error "'obs/nothing': not in the file" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set data.labels=obs/nothing
expect_error "$work/none.h5ad: file not found" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set data.file="$work/none.h5ad"
expect_error "not an HDF5 file" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set data.file="$work/counts.npy"
expect_error "anndata data needs the .h5ad file" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set data.file=null
expect_error "not a count (a non-negative integer), which the poisson likelihood needs" \
  "$bin" train --config "$work/run.yaml" --run "$work/bad" --set 'model.likelihood=[poisson, gaussian]'
expect_error "'obsmap/dna': not in the file" "$bin" train --config "$work/mudata.yaml" --run "$work/bad" --set 'data.views=[rna, dna]'
[[ ! -e "$work/bad/checkpoints" ]] || fail "a refused run wrote checkpoints"
echo "anndata: the CSR X and a dense obsm array of one .h5ad train, evaluate and encode; counts train with a negative binomial (PoE) and a Poisson (CoVAE) through log1p encoders; a partially paired .h5mu trains with missing views; bad elements, columns and counts named: ok"
