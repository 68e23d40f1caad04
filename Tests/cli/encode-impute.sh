#!/usr/bin/env bash
# mvvae encode and impute end to end: a user's two real-valued .npy views → train → embeddings of any subset of
# views, rows aligned with the input, for a Gaussian (JPVAE, PoE) and a mixture (MoE) posterior; bad
# input named. (That the numbers equal each model's encoder is Tests/MultiViewVAETests/EmbeddingTests.)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MVVAE_BIN:-$root/.build/debug/mvvae}"
work="$(mktemp -d /tmp/mvvae-encode-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
python3 - "$work" <<'PY'
import numpy as np, sys
w, rng = sys.argv[1], np.random.default_rng(0)
z = rng.normal(size=(300, 2))
np.save(f"{w}/a.npy", (z @ rng.normal(size=(2, 6)) + 0.1 * rng.normal(size=(300, 6))).astype(np.float32))
np.save(f"{w}/b.npy", (z @ rng.normal(size=(2, 8)) + 0.1 * rng.normal(size=(300, 8))).astype(np.float32))
np.save(f"{w}/a-first20.npy", np.load(f"{w}/a.npy")[:20])
np.save(f"{w}/b-first20.npy", np.load(f"{w}/b.npy")[:20])
bad = np.load(f"{w}/a.npy")[:20].copy(); bad[5, 2] = np.nan; np.save(f"{w}/a-nan.npy", bad)
PY
for model in "type: jpvae, latent: [2, 2]" "type: aggregated, aggregator: poe, latent: 2" "type: aggregated, aggregator: moe, latent: 2"; do
  name=$(echo "$model" | tr -cd 'a-z0-9')
  cat > "$work/$name.yaml" <<YAML
name: encode-$name
seed: 3
data: {source: npy, views: [$work/a.npy, $work/b.npy], validationSize: 30, testFraction: 0.1}
model: {$model, encoderHidden: [16], decoderHidden: [16], likelihood: gaussian}
training: {epochs: 2, batchSize: 30, validate: false, logEvery: 100}
YAML
  "$bin" train --config "$work/$name.yaml" --run "$work/$name" --progress lines > "$work/$name.train.log" 2>&1 || { cat "$work/$name.train.log"; fail "$name: train"; }
  "$bin" encode --run "$work/$name" --input "$work/a.npy" --input "$work/b.npy" --output "$work/$name/all" > /dev/null || fail "$name: encode both views"
  "$bin" encode --run "$work/$name" --given 2 --input "$work/b-first20.npy" --output "$work/$name/b20" > /dev/null || fail "$name: encode view 2"
  "$bin" encode --run "$work/$name" --given 2 --input "$work/b.npy" --output "$work/$name/b" > /dev/null || fail "$name: encode view 2"
  "$bin" encode --run "$work/$name" --split test --output "$work/$name/test" > /dev/null || fail "$name: encode the test split"
  # Imputation through the same one path for every family: the draws, their spread, the predictive score.
  "$bin" impute --run "$work/$name" --given 1 --input "$work/a-first20.npy" --truth "$work/b-first20.npy" --samples 6 --output "$work/$name/imputed-b.npy" > "$work/$name/impute.log" 2>&1 \
    || { cat "$work/$name/impute.log"; fail "$name: impute view 2 from view 1"; }
  grep -q "view 2: predictive −log p of the truth under the mixture of 6 decoded draws" "$work/$name/impute.log" || { cat "$work/$name/impute.log"; fail "$name: no predictive score"; }
  python3 - "$work/$name" <<'PY' || fail "$name: the imputed files"
import numpy as np, sys
d = sys.argv[1]
m, s, draws = np.load(f"{d}/imputed-b.npy"), np.load(f"{d}/imputed-b-std.npy"), np.load(f"{d}/imputed-b-draws.npy")
assert m.shape == (20, 8) and s.shape == (20, 8) and draws.shape == (6, 20, 8), (m.shape, s.shape, draws.shape)
assert np.allclose(draws.mean(0), m, atol=1e-4) and np.allclose(draws.std(0), s, atol=1e-3) and (s > 0).any()
PY
  python3 - "$work/$name" "$name" <<'PY' || fail "$name: the encoded files"
import numpy as np, os, sys
d, name = sys.argv[1], sys.argv[2]
mixture = "moe" in name
def load(stem):
    m = np.load(f"{d}/{stem}-mean.npy")
    second = np.load(f"{d}/{stem}-{'draw' if mixture else 'logvar'}.npy")
    assert not os.path.exists(f"{d}/{stem}-{'logvar' if mixture else 'draw'}.npy"), stem
    cols = open(f"{d}/{stem}-columns.txt").read().split()
    assert m.shape == second.shape and m.shape[1] == len(cols) and np.isfinite(m).all() and np.isfinite(second).all(), (stem, m.shape, second.shape, cols)
    return m, second, cols
m, s, cols = load("all")
assert m.shape[0] == 300, m.shape
assert cols == (["view1.z1", "view1.z2", "view2.z1", "view2.z2"] if "jpvae" in name else ["z1", "z2"]), cols
b, bs, bcols = load("b")
b20, bs20, _ = load("b20")
# Rows stay aligned: the first 20 rows encoded alone equal the first 20 of all 300.
assert np.allclose(b[:20], b20, atol=1e-5) and np.allclose(bs[:20], bs20, atol=1e-5), "first rows"
if "jpvae" in name:
    assert bcols == ["view2.z1", "view2.z2"] and np.allclose(m[:, 2:], b, atol=1e-5), "JPVAE: view 2's latent from view 2 alone"
else:
    assert not np.allclose(m, b, atol=1e-3), "one view and both views give different posteriors"
t, _, _ = load("test")
assert t.shape[0] == 30, t.shape  # testFraction 0.1 of 300
PY
done
# A trained run needs no data set for --input: its checkpoint records the views' sizes. The training
# files moved away, every model still encodes and imputes from files given on the command line.
mkdir "$work/moved" && mv "$work/a.npy" "$work/b.npy" "$work/moved/"
for name in typejpvaelatent22 typeaggregatedaggregatorpoelatent2 typeaggregatedaggregatormoelatent2; do
  grep -q '"views"' "$work/$name"/checkpoints/step-*/state.json || fail "$name: the checkpoint records no views"
  "$bin" encode --run "$work/$name" --input "$work/moved/a.npy" --input "$work/moved/b.npy" --output "$work/$name/moved" > /dev/null \
    || fail "$name: encode with the training data moved away"
  cmp -s "$work/$name/moved-mean.npy" "$work/$name/all-mean.npy" || fail "$name: a different embedding with the data moved away"
  set=(); [[ "$name" == typejpvae* ]] && set=(--set evaluation.imputation=priorSamples)
  "$bin" impute --run "$work/$name" --given 1 --input "$work/a-first20.npy" --samples 3 "${set[@]}" --output "$work/$name/moved-b.npy" > "$work/out" 2>&1 \
    || { cat "$work/out"; fail "$name: impute with the training data moved away"; }
done
expect_error() {
  local want="$1"; shift
  if "$@" > "$work/out" 2>&1; then cat "$work/out"; fail "accepted: $*"; fi
  grep -qF -- "$want" "$work/out" || { cat "$work/out"; fail "expected '$want' from: $*"; }
}
r="$work/typejpvaelatent22"
expect_error "view 1 has 8 features; this model's view 1 has 6" "$bin" encode --run "$r" --given 1 --input "$work/moved/b.npy" --output "$work/x"
expect_error "different numbers of rows: view 1: 300, view 2: 20" "$bin" encode --run "$r" --input "$work/moved/a.npy" --input "$work/b-first20.npy" --output "$work/x"
expect_error "--given names view 3; this run has views 1…2" "$bin" encode --run "$r" --given 3 --input "$work/moved/a.npy" --output "$work/x"
expect_error "row 5, column 2 is nan" "$bin" encode --run "$r" --given 1 --input "$work/a-nan.npy" --output "$work/x"
expect_error "row 5, column 2 is nan" "$bin" impute --run "$r" --given 1 --input "$work/a-nan.npy" --output "$work/x.npy"
expect_error "row 5, column 2 is nan" "$bin" impute --run "$r" --given 2 --input "$work/b-first20.npy" --truth "$work/a-nan.npy" --output "$work/x.npy"
expect_error "give either --input" "$bin" encode --run "$r" --output "$work/x"
expect_error "--split takes train, validation, test or all, got 'dev'" "$bin" encode --run "$r" --split dev --output "$work/x"
expect_error "one --input per --given view" "$bin" encode --run "$r" --given 1,2 --input "$work/moved/a.npy" --output "$work/x"
expect_error "no valid checkpoint" "$bin" encode --run "$work/nothing" --split test --output "$work/x"
# JPVAE's default imputation is fitted on the training split: without it, a clear way out.
expect_error "put the data back where the run's config says, or impute from the learnt prior's conditional with --set evaluation.imputation=priorMean" \
  "$bin" impute --run "$r" --given 1 --input "$work/a-first20.npy" --output "$work/x.npy"
expect_error "$work/a.npy: file not found" "$bin" encode --run "$r" --split test --output "$work/x"
[[ ! -e "$work/x-mean.npy" && ! -e "$work/x.npy" ]] || fail "a refused encode or impute wrote output"
# JNF on Fashion-MNIST quadrants: two observed quadrants go through Hamiltonian Monte Carlo; impute reports
# its acceptance rate and draws the whole images (observed quadrants as given); encode and evaluate work.
cat > "$work/jnf.yaml" <<YAML
name: encode-jnf
seed: 4
data: {source: fashion-mnist, imageViews: quadrants, validationSize: 50, trainLimit: 200, testLimit: 30}
model: {type: jnf, latent: 3, encoderHidden: [16], decoderHidden: [16], jointHidden: [16], flowHidden: [8], hmcSteps: 3, leapfrogSteps: 2}
training: {batchSize: 40, validate: false, logEvery: 100, stages: {joint: {epochs: 1}, unimodal: {epochs: 1}}}
evaluation: {importanceSamples: 4}
YAML
"$bin" train --config "$work/jnf.yaml" --run "$work/jnf" --progress lines > "$work/jnf.train.log" 2>&1 || { cat "$work/jnf.train.log"; fail "jnf: train"; }
"$bin" impute --run "$work/jnf" --given 1,2 --test 6 --samples 2 --output "$work/jnf/imp.npy" --png "$work/jnf/grid.png" > "$work/jnf/impute.log" 2>&1 \
  || { cat "$work/jnf/impute.log"; fail "jnf: impute quadrants 3 and 4 from 1 and 2"; }
grep -q "Hamiltonian Monte Carlo (3 steps of 2 leapfrogs, ε = 0.01): acceptance rate" "$work/jnf/impute.log" || { cat "$work/jnf/impute.log"; fail "jnf: no acceptance rate"; }
grep -q "wrote grid of 6 examples" "$work/jnf/impute.log" || { cat "$work/jnf/impute.log"; fail "jnf: no quadrant grid"; }
python3 - "$work/jnf" <<'PY' || fail "jnf: the imputed files"
import numpy as np, sys
d = sys.argv[1]
for v in (3, 4):
    assert np.load(f"{d}/imp-view{v}.npy").shape == (6, 196) and np.load(f"{d}/imp-view{v}-draws.npy").shape == (2, 6, 196), v
assert open(f"{d}/grid.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
PY
"$bin" encode --run "$work/jnf" --given 1,3 --split test --output "$work/jnf/emb" > /dev/null || fail "jnf: encode quadrants 1 and 3"
"$bin" evaluate --run "$work/jnf" --no-classifiers > "$work/jnf/eval.log" 2>&1 || { cat "$work/jnf/eval.log"; fail "jnf: evaluate"; }
grep -q "log p(x), every modality" "$work/jnf/eval.log" || { cat "$work/jnf/eval.log"; fail "jnf: no log-likelihood table"; }
# Three PolyFashion colour modalities (images of one size): --png draws one test row per grid row, the
# true views then the completed ones (view 1 as given), in RGB.
cat > "$work/poly.yaml" <<YAML
name: encode-poly
seed: 2
data: {source: polyfashion, modalities: 3, trainLimit: 60, validationSize: 20, testLimit: 10}
model: {type: aggregated, aggregator: poe, latent: 3, encoderHidden: [], featureSize: 8, decoderHidden: [],
        encoder: {type: conv, channels: [4]}, decoder: {type: conv, channels: [4]}, likelihood: gaussian, fixedLogScale: -1}
training: {epochs: 1, batchSize: 20, validate: false, logEvery: 100}
YAML
"$bin" train --config "$work/poly.yaml" --run "$work/poly" --progress lines > "$work/poly.train.log" 2>&1 || { cat "$work/poly.train.log"; fail "polyfashion: train"; }
"$bin" impute --run "$work/poly" --given 1 --test 4 --samples 2 --png "$work/poly/grid.png" --scale 1 > "$work/poly/impute.log" 2>&1 \
  || { cat "$work/poly/impute.log"; fail "polyfashion: impute views 2 and 3 from view 1"; }
grep -q "wrote grid of 4 examples" "$work/poly/impute.log" || { cat "$work/poly/impute.log"; fail "polyfashion: no grid"; }
python3 - "$work/poly" <<'PY' || fail "polyfashion: the grid's size, colour type and view 1 as given"
import struct, sys, zlib
raw = open(f"{sys.argv[1]}/grid.png", "rb").read()
width, height, depth, colour = struct.unpack(">IIBB", raw[16:26])
# 6 cells of 28 per grid row (3 true views, 3 completed), 4 grid rows, 2-pixel gaps; 8-bit RGB.
assert (width, height, depth, colour) == (6 * 28 + 7 * 2, 4 * 28 + 5 * 2, 8, 2), (width, height, depth, colour)
# View 1 as given: its true cell and its completed cell hold the same pixels (rows unfiltered as PNG says).
chunks, at = [], 8
while at < len(raw):
    length, kind = struct.unpack(">I4s", raw[at:at + 8])
    chunks += [raw[at + 8:at + 8 + length]] if kind == b"IDAT" else []
    at += 12 + length
data, stride, rows, prior = zlib.decompress(b"".join(chunks)), 3 * width, [], None
for y in range(height):
    kind, line, out = data[y * (stride + 1)], data[y * (stride + 1) + 1:(y + 1) * (stride + 1)], bytearray()
    up = prior or bytes(stride)
    for i, v in enumerate(line):
        a, b, c = (out[i - 3] if i >= 3 else 0), up[i], (up[i - 3] if i >= 3 else 0)
        p = a + b - c
        paeth = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else (b if abs(p - b) <= abs(p - c) else c)
        out.append((v + [0, a, b, (a + b) // 2, paeth][kind]) & 255)
    rows.append(bytes(out))
    prior = rows[-1]
for y in range(2, 30):
    assert rows[y][3 * 2:3 * 30] == rows[y][3 * (2 + 3 * 30):3 * (30 + 3 * 30)], y
PY
echo "encode and impute: JPVAE, PoE and MoE runs encode any subset of views with rows aligned and impute with draws, spread and a predictive score; JNF imputes quadrants by HMC, encodes and evaluates; PolyFashion grids in colour; bad input named: ok"
