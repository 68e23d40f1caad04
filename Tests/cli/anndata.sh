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
# loss_falls RUN: 20 epochs logged, the mean training loss of the last three below that of the first three.
loss_falls() {
  python3 - "$1/metrics.jsonl" <<'PY'
import json, sys
losses = [json.loads(l)["trainLoss"] for l in open(sys.argv[1])]
assert len(losses) == 20 and sum(losses[-3:]) < sum(losses[:3]), losses
PY
}
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
loss_falls "$work/run" || fail "the training loss did not fall"
"$bin" evaluate --run "$work/run" > "$work/eval.log" 2>&1 || { cat "$work/eval.log"; fail "evaluate"; }
grep -q "log p(x_M) per row" "$work/eval.log" || { cat "$work/eval.log"; fail "no log-likelihood in the evaluation"; }
"$bin" encode --run "$work/run" --split test --output "$work/emb" > /dev/null || fail "encode"
python3 -c "import numpy as np, sys; m = np.load(sys.argv[1]); assert m.shape[1] == 2 and m.shape[0] >= 3, m.shape" "$work/emb-mean.npy" \
  || fail "encode: the embedding's shape"

# Embeddings back as AnnData: every cell (--split all) and the test split, obs carried over (names, the
# categorical and integer columns), obsm equal to the .npy outputs; anndata reads them.
"$bin" encode --run "$work/run" --split test --output "$work/emb.h5ad" > /dev/null || fail "encode --output .h5ad"
"$bin" encode --run "$work/run" --split all --output "$work/all.h5ad" > /dev/null || fail "encode --split all --output .h5ad"
"$bin" encode --run "$work/run" --split all --output "$work/all" > /dev/null || fail "encode --split all"
python3 - "$work" <<'PY' || fail "encode --output .h5ad: not the embedding and the cells' obs"
import sys, anndata, numpy as np, pandas as pd
w = sys.argv[1]
source = anndata.read_h5ad(f"{w}/current.h5ad")
a, t = anndata.read_h5ad(f"{w}/all.h5ad"), anndata.read_h5ad(f"{w}/emb.h5ad")
assert a.shape == (23, 0) and list(a.obs_names) == list(source.obs_names), (a.shape, list(a.obs_names))
assert isinstance(a.obs["cell_type"].dtype, pd.CategoricalDtype) and (a.obs["cell_type"] == source.obs["cell_type"]).all()
assert (a.obs["batch"] == source.obs["batch"]).all()
assert np.array_equal(a.obsm["X_mvvae"], np.load(f"{w}/all-mean.npy")), "obsm['X_mvvae'] differs from -mean.npy"
assert np.allclose(np.log(a.obsm["X_mvvae_var"]), np.load(f"{w}/all-logvar.npy"), atol=1e-5), "obsm['X_mvvae_var']"
assert list(a.uns["mvvae_columns"]) == ["z1", "z2"] and list(a.uns["mvvae_views"]) == ["X", "X_latent"], a.uns
assert np.array_equal(t.obsm["X_mvvae"], np.load(f"{w}/emb-mean.npy")) and set(t.obs_names) <= set(source.obs_names)
rows = [list(source.obs_names).index(c) for c in t.obs_names]
assert np.array_equal(t.obsm["X_mvvae"], a.obsm["X_mvvae"][rows]), "the test split's cells are not the rows encoded"
PY

# Counts: the CSR count layer with a negative binomial (mean ℓ·softmax, learnt dispersion), its encoder
# reading log(1 + x), beside the dense obsm array; the loss falls and the evaluation scores the counts.
"$bin" train --config "$work/run.yaml" --run "$work/nb" --set 'data.views=[layers/counts, obsm/X_latent]' \
  --set 'model.likelihood=[negativeBinomial, gaussian]' --set 'model.encoder={input: [log1p, none]}' --progress lines > "$work/nb.log" 2>&1 || { cat "$work/nb.log"; fail "train nb"; }
loss_falls "$work/nb" || fail "the negative binomial's training loss did not fall"
"$bin" evaluate --run "$work/nb" > "$work/nb-eval.log" 2>&1 || { cat "$work/nb-eval.log"; fail "evaluate nb"; }
# The zero-inflated negative binomial (a learnt chance of an extra zero per gene) trains and evaluates the same way.
"$bin" train --config "$work/run.yaml" --run "$work/zinb" --set 'data.views=[layers/counts, obsm/X_latent]' \
  --set 'model.likelihood=[zeroInflatedNegativeBinomial, gaussian]' --set 'model.encoder={input: [log1p, none]}' --progress lines > "$work/zinb.log" 2>&1 || { cat "$work/zinb.log"; fail "train zinb"; }
loss_falls "$work/zinb" || fail "the zero-inflated negative binomial's training loss did not fall"
"$bin" evaluate --run "$work/zinb" > "$work/zinb-eval.log" 2>&1 || { cat "$work/zinb-eval.log"; fail "evaluate zinb"; }
# The count layer imputed from proteins, back as AnnData: X the mean, layers['std'], the file's var (gene names and
# columns), the test cells' obs; equal to the .npy outputs.
"$bin" impute --run "$work/nb" --given 2 --test 3 --output "$work/imputed.h5ad" > /dev/null || fail "impute --output .h5ad"
"$bin" impute --run "$work/nb" --given 2 --test 3 --output "$work/imputed.npy" > /dev/null || fail "impute --output .npy"
python3 - "$work" <<'PY' || fail "impute --output .h5ad: not the imputed view with the file's var"
import sys, anndata, numpy as np
w = sys.argv[1]
a = anndata.read_h5ad(f"{w}/imputed.h5ad")
assert a.shape == (3, 11) and list(a.var_names) == [f"g{j}" for j in range(11)], (a.shape, list(a.var_names))
assert a.var.columns.tolist() == ["mean"] and np.array_equal(a.var["mean"], np.arange(11) / 2.0), a.var  # booleans are not carried
assert np.array_equal(a.X, np.load(f"{w}/imputed.npy")) and np.array_equal(a.layers["std"], np.load(f"{w}/imputed-std.npy"))
assert set(a.obs_names) <= {f"c{i}" for i in range(23)} and "cell_type" in a.obs
PY
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
loss_falls "$work/mu" || fail "the MuData run's training loss did not fall"
"$bin" evaluate --run "$work/mu" > "$work/mu-eval.log" 2>&1 || { cat "$work/mu-eval.log"; fail "evaluate mudata"; }
# Every kept cell encoded from the view all of them have is refused when some lack it, naming the view; proteins
# imputed from RNA come back with the global obs names, and are not scored where the cells lack proteins.
"$bin" impute --run "$work/mu" --given 1 --test 4 --output "$work/mu-imputed.h5ad" > "$work/mu-impute.log" || fail "impute mudata"
python3 -c "
import anndata, sys; a = anndata.read_h5ad(sys.argv[1]); assert a.shape[1] == 4 and all(c.startswith('c') for c in a.obs_names), a
" "$work/mu-imputed.h5ad" || fail "impute mudata --output .h5ad"

# Tables as pandas writes them (an index column, named or default column names, .csv and .tsv) train like .npy views.
python3 - "$work" <<'PY' || fail "writing the tables"
import sys, numpy as np, pandas as pd
w = sys.argv[1]
latent = np.load(f"{w}/latent.npy")
pd.DataFrame(np.load(f"{w}/normalised.npy"), index=[f"c{i}" for i in range(23)], columns=[f"g{j}" for j in range(11)]).to_csv(f"{w}/rna.csv")
pd.DataFrame(latent).to_csv(f"{w}/latent.tsv", sep="\t", index=False)
PY
cat > "$work/tables.yaml" <<YAML
name: tables
seed: 3
data: {source: npy, views: [$work/rna.csv, $work/latent.tsv], validationFraction: 0.2, testFraction: 0.2}
model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [8], featureSize: 8, decoderHidden: [8], likelihood: gaussian}
training: {epochs: 20, batchSize: 5, learningRate: 0.01, validate: false, logEvery: 1000}
YAML
"$bin" train --config "$work/tables.yaml" --run "$work/tables" --progress lines > "$work/tables.log" 2>&1 || { cat "$work/tables.log"; fail "train on .csv/.tsv views"; }
loss_falls "$work/tables" || fail "the loss on .csv/.tsv views did not fall"
printf ',a,b\nc0,1,NA\n' > "$work/holes.csv"

expect_error() {
  local want="$1"; shift
  if "$@" > "$work/out" 2>&1; then cat "$work/out"; fail "accepted: $*"; fi
  grep -qF -- "$want" "$work/out" || { cat "$work/out"; fail "expected '$want' from: $*"; }
}
expect_error "holes.csv, line 2: column 3 ('b') holds 'NA', not a finite number" \
  "$bin" train --config "$work/tables.yaml" --run "$work/bad" --set "data.views=[$work/holes.csv, $work/latent.tsv]"
expect_error "'layers/missing': not in the file" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set 'data.views=[X, layers/missing]'
expect_error "'obs': is a group of encoding 'dataframe', not a 2-D array" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set 'data.views=[X, obs]'
expect_error "'obs/nothing': not in the file" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set data.labels=obs/nothing
expect_error "$work/none.h5ad: file not found" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set data.file="$work/none.h5ad"
expect_error "not an HDF5 file" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set data.file="$work/counts.npy"
expect_error "anndata data needs the .h5ad file" "$bin" train --config "$work/run.yaml" --run "$work/bad" --set data.file=null
expect_error "not a count (a non-negative integer), which the poisson likelihood needs" \
  "$bin" train --config "$work/run.yaml" --run "$work/bad" --set 'model.likelihood=[poisson, gaussian]'
expect_error "'obsmap/dna': not in the file" "$bin" train --config "$work/mudata.yaml" --run "$work/bad" --set 'data.views=[rna, dna]'
# Raw protein counts (up to ~500) into an encoder without log1p overflow at the first step: the error names the view.
expect_error "likely cause: view(s) 'prot' (values up to" "$bin" train --config "$work/mudata.yaml" --run "$work/bad" --set 'model.encoder={input: none}'
expect_error "view 1 ('rna') is missing in" "$bin" encode --run "$work/mu" --split all --given 1 --output "$work/mu.h5ad"
[[ ! -e "$work/mu.h5ad" ]] || fail "a refused encode wrote its output"
[[ ! -e "$work/bad/checkpoints" ]] || fail "a refused run wrote checkpoints"
echo "anndata: the CSR X and a dense obsm array of one .h5ad train, evaluate and encode; counts train with a negative binomial and its zero-inflated form (PoE) and a Poisson (CoVAE) through log1p encoders; a partially paired .h5mu trains with missing views; .csv/.tsv tables train; embeddings and imputations back as .h5ad; bad elements, columns and counts named: ok"
