#!/usr/bin/env bash
# Bad input on every command-line path gets a clear error, a non-zero exit, and loses nothing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MVVAE_BIN:-$root/.build/debug/mvvae}"
work="$(mktemp -d /tmp/mvvae-cli-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
config="$root/Tests/mpi/tiny.yaml"
checks=0

# expect_error "what the message must contain" command…
expect_error() {
  local want="$1"; shift
  set +e; "$@" > "$work/out" 2> "$work/err"; local code=$?; set -e
  if ((code == 0)); then echo "FAIL: expected an error from: $*" >&2; cat "$work/out" >&2; exit 1; fi
  if ! grep -q -F -- "$want" "$work/err"; then
    echo "FAIL: error from '$*' does not mention '$want':" >&2; cat "$work/err" >&2; exit 1
  fi
  checks=$((checks + 1))
}

expect_error "no such file" "$bin" train --config "$work/missing.yaml"
# Configs past the YAML bounds (issue 29) are refused before the parser sees them, quickly and in little memory:
# an alias bomb (10⁷ expansions), nesting 5 000 deep (a stack overflow in Yams), through --set too, and 2 MB.
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
bomb = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]" for i in range(1, 8)]
open(f"{w}/bomb.yaml", "w").write("\n".join(bomb) + "\nmodel: {type: jpvae}\n")
open(f"{w}/deep.yaml", "w").write("model: " + "[" * 5000 + "]" * 5000 + "\n")
open(f"{w}/huge.yaml", "w").write("name: x\nevaluation: {classifierHidden: [" + ", ".join(["8"] * 700000) + "]}\n")
PY
bounded() { (ulimit -v 2000000; exec timeout -s KILL 20 "$@"); }
expect_error "uses 70 aliases (*name); a config may use at most 64" bounded "$bin" train --config "$work/bomb.yaml"
expect_error "nests 5001 levels deep; a config may nest at most 64" bounded "$bin" train --config "$work/deep.yaml"
expect_error "bytes; a config may be at most 1048576 (1 MiB)" bounded "$bin" train --config "$work/huge.yaml"
expect_error "its value nests 3001 levels deep" bounded "$bin" train --config "$config" --set "model.latent=$(printf '[%.0s' $(seq 1 3000))"
printf 'model: {type: jpvae, latnet: 3}\n' > "$work/typo.yaml"
expect_error "unknown config key 'model.latnet'" "$bin" train --config "$work/typo.yaml"
printf 'model: {type: jpvae\n' > "$work/syntax.yaml"
expect_error "is not valid YAML" "$bin" train --config "$work/syntax.yaml"
expect_error "config key 'training.batchSize'" "$bin" train --config "$config" --set training.batchSize=-4
expect_error "bad --set" "$bin" train --config "$config" --set training.epochs
expect_error "--max-steps must be" "$bin" train --config "$config" --max-steps 0

# A batch far beyond the data (and beyond any allocation) trains with the rows there are.
"$bin" train --config "$config" --run "$work/huge-batch" --set training.batchSize=4611686018427387904 --max-steps 1 > "$work/out" 2>&1 \
  || { cat "$work/out"; echo "FAIL: a huge batchSize should train on the rows there are" >&2; exit 1; }
checks=$((checks + 1))
# A checkpoint whose state.json holds an impossible position (CRC-protected tensors intact): refused,
# named, and nothing is moved.
"$bin" train --config "$config" --run "$work/pos" --set training.checkpointEveryEpochs=1 --set training.epochs=2 > "$work/out" 2>&1
newest=$(ls -d "$work/pos/checkpoints"/step-* | sort | tail -n 1)
python3 - "$newest/state.json" <<'PY'
import json, sys, zlib
p = sys.argv[1]; s = json.load(open(p)); s["training"]["batchInEpoch"] = -3; json.dump(s, open(p, "w"))
open(p + ".crc32", "w").write("%08x\n" % zlib.crc32(open(p, "rb").read()))  # a consistent edit, not corruption
PY
expect_error "the saved training position is impossible" "$bin" train --config "$config" --run "$work/pos" --resume "$newest" --set training.epochs=3
[[ -d "$newest" && $(ls -d "$work/pos/checkpoints"/step-* | wc -l) == 2 ]] || { echo "FAIL: a refused resume moved checkpoints" >&2; exit 1; }

# One flipped bit in the newest state.json (issue 14, item 6): --resume PATH names the file and its CRC,
# --resume auto skips it for the older checkpoint.
"$bin" train --config "$config" --run "$work/flip" --set training.checkpointEveryEpochs=1 --set training.epochs=2 > "$work/out" 2>&1
newest=$(ls -d "$work/flip/checkpoints"/step-* | sort | tail -n 1)
python3 - "$newest/state.json" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); i = b.index(b'"epoch"') + 2; b[i] ^= 0x04; open(p, "wb").write(b)
PY
expect_error "state.json': CRC-32" "$bin" train --config "$config" --run "$work/flip" --resume "$newest" --set training.epochs=3
"$bin" train --config "$config" --run "$work/flip" --resume auto --set training.epochs=3 > "$work/out" 2>&1 || { cat "$work/out"; echo "FAIL: --resume auto should skip a flipped state.json" >&2; exit 1; }
grep -q "skipping $newest" "$work/out" || { cat "$work/out"; echo "FAIL: the flipped state.json was not named" >&2; exit 1; }
checks=$((checks + 1))

# A newest checkpoint that passes its CRC but does not fit (a NaN weight; a tensor stored as I32):
# --resume PATH and evaluate refuse it naming the tensor, --resume auto skips it for the older one.
"$bin" train --config "$config" --run "$work/fit" --set training.epochs=2 > "$work/out" 2>&1
for damage in nan i32; do
  rm -rf "$work/fit-$damage"; cp -r "$work/fit" "$work/fit-$damage"
  newest=$(ls -d "$work/fit-$damage/checkpoints"/step-* | sort | tail -n 1)
  python3 - "$newest" "$damage" <<'PY'
import json, sys, zlib
import numpy as np
from safetensors.numpy import load_file, save_file
folder, damage = sys.argv[1], sys.argv[2]
t = load_file(f"{folder}/model.safetensors")
name = "view1.encoder.layer0.weight"
if damage == "nan":
    t[name] = t[name].copy(); t[name][0, 0] = np.nan
else:
    t[name] = t[name].view(np.int32)
save_file(t, f"{folder}/model.safetensors", metadata={"format": "mvvae-checkpoint"})
s = json.load(open(f"{folder}/state.json"))
s["tensorCRC32"] = zlib.crc32(open(f"{folder}/model.safetensors", "rb").read())
json.dump(s, open(f"{folder}/state.json", "w"))
open(f"{folder}/state.json.crc32", "w").write("%08x\n" % zlib.crc32(open(f"{folder}/state.json", "rb").read()))
PY
  want=$([[ $damage == nan ]] && echo "holds nan at element 0" || echo "is I32, checkpoints hold F32")
  expect_error "$want" "$bin" train --config "$config" --run "$work/fit-$damage" --resume "$newest" --set training.epochs=3
  expect_error "$want" "$bin" evaluate --run "$work/fit-$damage" --checkpoint "$newest" --no-classifiers
  "$bin" train --config "$config" --run "$work/fit-$damage" --resume auto --set training.epochs=3 > "$work/out" 2>&1 || { cat "$work/out"; echo "FAIL: --resume auto should fall back ($damage)" >&2; exit 1; }
  grep -q "skipping $newest: it does not fit this model" "$work/out" || { cat "$work/out"; echo "FAIL: the unfit checkpoint was not named ($damage)" >&2; exit 1; }
  grep -q "resume: from .*step-000000020" "$work/out" || { cat "$work/out"; echo "FAIL: did not resume from the older checkpoint ($damage)" >&2; exit 1; }
done

# npy data: a view file that is not .npy, and views with different row counts.
python3 - "$work" <<'PY'
import sys, numpy as np
w = sys.argv[1]
np.save(f"{w}/a.npy", np.random.rand(50, 6).astype(np.float32))
np.save(f"{w}/b.npy", np.random.rand(40, 4).astype(np.float32))
open(f"{w}/bad.npy", "wb").write(b"not numpy at all")
np.save(f"{w}/empty.npy", np.zeros((50, 0), dtype=np.float32))
PY
cat > "$work/empty-view.yaml" <<YAML
model: {type: jpvae, latent: 2, encoderHidden: [4], decoderHidden: [4], likelihood: gaussian}
data: {source: npy, views: [$work/a.npy, $work/empty.npy]}
YAML
cat > "$work/npy.yaml" <<YAML
model: {type: jpvae, latent: 2, encoderHidden: [4], decoderHidden: [4], likelihood: gaussian}
data: {source: npy, views: [$work/a.npy, $work/bad.npy]}
YAML
expect_error "$work/bad.npy" "$bin" train --config "$work/npy.yaml" --run "$work/r0"
sed -i "s|$work/bad.npy|$work/b.npy|" "$work/npy.yaml"
expect_error "$work/b.npy" "$bin" train --config "$work/npy.yaml" --run "$work/r0"

# Values a model cannot read: NaN in an observed row (named by file, row and column; the same NaN in a
# row whose view the mask marks missing is fine), and bytes 0–255 under the Bernoulli likelihood.
python3 - "$work" <<'PY'
import sys, numpy as np
w = sys.argv[1]
x = np.random.rand(50, 6).astype(np.float32); x[17, 4] = np.nan
np.save(f"{w}/nan.npy", x)
mask = np.ones((50, 2), dtype=np.float32); mask[17, 0] = 0
np.save(f"{w}/mask.npy", mask)
np.save(f"{w}/bytes.npy", (np.random.rand(50, 6) * 255).round().astype(np.uint8))
PY
cat > "$work/nan.yaml" <<YAML
model: {type: jpvae, latent: 2, encoderHidden: [4], decoderHidden: [4], likelihood: gaussian}
data: {source: npy, views: [$work/nan.npy, $work/a.npy]}
training: {epochs: 1}
YAML
expect_error "$work/nan.npy): the value at row 17, column 4 is nan: not finite" "$bin" train --config "$work/nan.yaml" --run "$work/r-nan"
"$bin" train --config "$work/nan.yaml" --run "$work/r-nan-masked" --set "data.mask=$work/mask.npy" > "$work/out" 2>&1 \
  || { cat "$work/out"; echo "FAIL: a NaN in a row marked missing should be ignored" >&2; exit 1; }
checks=$((checks + 1))
cat > "$work/bytes.yaml" <<YAML
model: {type: jpvae, latent: 2, encoderHidden: [4], decoderHidden: [4], likelihood: bernoulli}
data: {source: npy, views: [$work/bytes.npy, $work/a.npy]}
YAML
expect_error "outside [0, 1], which the Bernoulli likelihood needs" "$bin" train --config "$work/bytes.yaml" --run "$work/r-bytes"

# Masks that cannot train (issue 14, item 11): a row observing no view, a view never observed; and a
# row-count mismatch names both files, whichever is the wrong one.
python3 - "$work" <<'PY'
import sys, numpy as np
w = sys.argv[1]
m = np.ones((50, 2), dtype=np.float32); m[9] = 0; np.save(f"{w}/mask-empty-row.npy", m)
m = np.ones((50, 2), dtype=np.float32); m[:, 1] = 0; m[:, 0] = 1; np.save(f"{w}/mask-no-view.npy", m)
np.save(f"{w}/short.npy", np.random.rand(40, 6).astype(np.float32))
PY
expect_error "mask-empty-row.npy): row 9 observes no view" "$bin" train --config "$work/nan.yaml" --run "$work/r-m1" --set "data.views=[$work/a.npy, $work/a.npy]" --set "data.mask=$work/mask-empty-row.npy"
expect_error "column 1) is never observed" "$bin" train --config "$work/nan.yaml" --run "$work/r-m2" --set "data.views=[$work/a.npy, $work/a.npy]" --set "data.mask=$work/mask-no-view.npy"
expect_error "($work/short.npy) has 40" "$bin" train --config "$work/nan.yaml" --run "$work/r-m3" --set "data.views=[$work/short.npy, $work/a.npy]"

# Config values and command lines (issue 14, item 12): the key, the value given and what is allowed.
expect_error "'training.epochs': expected a whole number, got 'abc'" "$bin" train --config "$config" --run "$work/t1" --set training.epochs=abc
expect_error "'training.epochs': expected a whole number, got '2.5'" "$bin" train --config "$config" --run "$work/t1" --set training.epochs=2.5
expect_error "'training.validate': expected true or false, got 'maybe'" "$bin" train --config "$config" --run "$work/t1" --set training.validate=maybe
expect_error "'seed': expected a whole number ≥ 0, got '-1'" "$bin" train --config "$config" --run "$work/t1" --set seed=-1
expect_error "'name': names the default run folder checkpoints/<name>-<time>" "$bin" train --config "$config" --set name=../escape
! compgen -G "escape-*" > /dev/null || { echo "FAIL: a refused name made a folder outside checkpoints/" >&2; exit 1; }
expect_error "from: bernoulli, gaussian, laplace, categorical, poisson, negativeBinomial" "$bin" train --config "$config" --run "$work/t1" --set model.likelihood=binomial
for kv in training.beta=.nan training.weightDecay=.nan model.fixedLogScale=.nan training.learningRate=.inf; do
  expect_error "'${kv%%=*}': must be a finite number" "$bin" train --config "$config" --run "$work/t1" --set "$kv"
done
printf 'seed: 1\nmodel: {type: jpvae}\nseed: 2\n' > "$work/dup.yaml"
expect_error "key 'seed' is given twice (line 3)" "$bin" train --config "$work/dup.yaml" --run "$work/t1"
expect_error "'model.type': 'foo' is not one of: jpvae, aggregated, covae" "$bin" train --config "$config" --run "$work/t1" --set model.type=foo
expect_error "'training.optimizer': 'sgd' is not one of: adam, adamw" "$bin" train --config "$config" --run "$work/t1" --set training.optimizer=sgd
expect_error "'model.pretraining': 'foo' is not one of: cca, distanceCorrelation" "$bin" train --config "$root/Tests/mpi/tiny-covae.yaml" --run "$work/t1" --set model.pretraining=foo
expect_error "'model.mixtureSampling': 'fewer' is not one of: everyComponent, onePerRow" "$bin" train --config "$root/Tests/mpi/tiny-aggregated.yaml" --run "$work/t1" --set model.mixtureSampling=fewer
expect_error "mixtureSampling apply to model.type aggregated only" "$bin" train --config "$root/Tests/mpi/tiny-covae.yaml" --run "$work/t1" --set model.mixtureSampling=onePerRow
# Found by fuzzing (scripts/fuzz.sh): a list used as a key made the YAML library trap.
printf 'name: a\nmodel: {type: jpvae, latent: 54 ,[]}\n' > "$work/listkey.yaml"
expect_error "a key in 'model' (line 2) is a list, not a name" "$bin" train --config "$work/listkey.yaml" --run "$work/t1"
expect_error "bad --set 'model.latent=[2,3]: x': a key in 'model.latent' (line 1) is a list" "$bin" train --config "$config" --run "$work/t1" --set 'model.latent=[2,3]: x'
expect_error "it is a folder; give a YAML file" "$bin" train --config "$work" --run "$work/t1"
touch "$work/a-file"
expect_error "is a file; the run needs a folder" "$bin" train --config "$config" --run "$work/a-file"
expect_error "--max-steps must be ≥ 1, got -1" "$bin" train --config "$config" --run "$work/t1" --max-steps -1

# A run folder with checkpoints is not overwritten without --resume.
"$bin" train --config "$config" --run "$work/run" --max-steps 3 > /dev/null
before=$(ls "$work/run/checkpoints")
expect_error "already holds checkpoints" "$bin" train --config "$config" --run "$work/run"
[[ "$(ls "$work/run/checkpoints")" == "$before" ]] || { echo "FAIL: checkpoints changed" >&2; exit 1; }

# A corrupted checkpoint is named; an explicit --resume of it fails, auto skips it.
ck="$work/run/checkpoints/$before"
printf 'X' | dd of="$ck/model.safetensors" bs=1 seek=200 conv=notrunc 2> /dev/null
expect_error "model.safetensors" "$bin" train --config "$config" --run "$work/run" --resume "$ck"
"$bin" train --config "$config" --run "$work/run" --resume auto --max-steps 2 > "$work/auto.out"
grep -q "skipping $ck" "$work/auto.out" || { echo "FAIL: --resume auto did not name the corrupt checkpoint" >&2; exit 1; }
expect_error "would change the resumed run" "$bin" train --config "$config" --run "$work/run" --resume auto --set training.batchSize=8
# A resume never destroys (issue 29): another config on the run is refused naming what differs; a run whose data
# changed shape, so that no checkpoint fits, is refused instead of started afresh over its checkpoints.
sed 's/latent: \[4, 5\]/latent: [3, 5]/' "$config" > "$work/other.yaml"
expect_error "is not the configuration $work/run was trained with (its model differ)" \
  "$bin" train --config "$work/other.yaml" --run "$work/run" --resume auto
python3 -c "
import numpy as np, sys; w = sys.argv[1]
np.save(f'{w}/left.npy', np.random.rand(60, 5).astype(np.float32)); np.save(f'{w}/right.npy', np.random.rand(60, 4).astype(np.float32))" "$work"
cat > "$work/npy.yaml" <<YAML
name: shapes
data: {source: npy, views: [$work/left.npy, $work/right.npy]}
model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [4], featureSize: 4, decoderHidden: [4], likelihood: gaussian}
training: {epochs: 2, batchSize: 10, validate: false}
YAML
"$bin" train --config "$work/npy.yaml" --run "$work/shapes" > /dev/null
before=$(ls -R "$work/shapes/checkpoints" | md5sum)
python3 -c "import numpy as np, sys; np.save(sys.argv[1], np.random.rand(60, 7).astype(np.float32))" "$work/right.npy"
expect_error "no checkpoint of $work/shapes fits this model" "$bin" train --config "$work/npy.yaml" --run "$work/shapes" --resume auto --set training.epochs=4
[[ "$(ls -R "$work/shapes/checkpoints" | md5sum)" == "$before" ]] || { echo "FAIL: a refused resume changed the checkpoints" >&2; exit 1; }
expect_error "no features" "$bin" train --config "$work/empty-view.yaml" --run "$work/r1"
expect_error "evaluation.classifierHidden" "$bin" train --config "$config" --set 'evaluation.classifierHidden=[0]'
expect_error "no valid checkpoint" "$bin" evaluate --run "$work/empty"
expect_error "--grid-images must be" "$bin" evaluate --run "$work/run" --grid-images=-1
expect_error "data.missingRate" "$bin" train --config "$config" --set data.missingRate=0.9
expect_error "evaluation.importanceSamples" "$bin" train --config "$config" --set evaluation.importanceSamples=0
expect_error "--given must be 1 or 2" "$bin" impute --run "$work/run" --given 3 --test 4 --output "$work/x.npy"
expect_error "exactly one of" "$bin" impute --run "$work/run" --output "$work/x.npy"
# Results never lost at the end (issue 29): a read-only report folder gets the tables printed, then a plain error;
# a NaN setting is refused at load; --resume given a run folder says what it takes.
# (A "folder" that is a file: unwritable for root too, as a read-only or full disk is.)
touch "$work/not-a-folder"
set +e; "$bin" evaluate --run "$work/run" --no-classifiers --output "$work/not-a-folder/e.json" > "$work/ro.out" 2> "$work/ro.err"; code=$?; set -e
((code != 0)) && grep -q "the report is printed above but could not be written" "$work/ro.err" && grep -q "^|" "$work/ro.out" \
  || { cat "$work/ro.out" "$work/ro.err"; echo "FAIL: evaluate into an unwritable folder" >&2; exit 1; }
expect_error "config key 'evaluation.activeUnitThreshold': must be a finite number" "$bin" train --config "$config" --set evaluation.activeUnitThreshold=.nan
expect_error "is a run folder: give --run $work/run --resume auto" "$bin" train --config "$config" --run "$work/run" --resume "$work/run"
# Draws that could not fit in memory are refused before any is made (it grew 30 MB/s without output).
expect_error "floats of draws (over a quarter of this machine's" \
  bash -c "ulimit -v 4000000; exec timeout -s KILL 30 '$bin' impute --run '$work/run' --given 1 --test 4 --samples 100000000 --output '$work/x.npy'"
expect_error "Unknown option" "$bin" train --config "$config" --bogus
# The Slurm template outside Slurm: a wrong launcher or a missing binary is named before anything runs.
expect_error "MVVAE_LAUNCHER must be mpirun or srun, got 'mpiexec'" env MVVAE_BIN="$bin" MVVAE_LAUNCHER=mpiexec MVVAE_RUN="$work/slurm-run" bash "$root/launch/slurm.sbatch" "$root/Tests/mpi/tiny.yaml"
expect_error "no binary at $work/none" env MVVAE_BIN="$work/none" MVVAE_RUN="$work/slurm-run" bash "$root/launch/slurm.sbatch" "$root/Tests/mpi/tiny.yaml"
expect_error "usage: sbatch launch/slurm.sbatch CONFIG" bash "$root/launch/slurm.sbatch"
[[ ! -e "$work/slurm-run" ]] || { echo "FAIL: a refused template run created its run folder" >&2; exit 1; }
echo "bad input: $checks checks ok"
