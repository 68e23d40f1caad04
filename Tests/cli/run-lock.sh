#!/usr/bin/env bash
# A run folder has one owner (issue 29): a second `mvvae train` on a folder in use is refused naming the holder,
# and changes nothing; the owner trains on; after the owner is killed with SIGKILL the kernel has released the lock
# and a resume takes the folder; runs started in the same second without --run get folders of their own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MVVAE_BIN:-$root/.build/debug/mvvae}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"   # absolute: the test works in its own folder
work="$(mktemp -d /tmp/mvvae-lock-test.XXXXXX)"
owner=""
trap '[[ -n "$owner" ]] && { kill -9 "$owner" 2>/dev/null; wait "$owner" 2>/dev/null; }; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cat > "$work/long.yaml" <<'YAML'
name: lock
seed: 2
data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [4, 3], samples: 400}
model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [8], featureSize: 8, decoderHidden: [8], likelihood: gaussian}
training: {epochs: 100000, batchSize: 8, learningRate: 0.001, validate: false, logEvery: 50, checkpointEveryEpochs: 1}
YAML
cd "$work"
# The owner: a run that would go on for hours, in the background (killed by the test, or by the trap on exit).
"$bin" train --config long.yaml --run run --progress lines > owner.log 2>&1 &
owner=$!
for _ in $(seq 1 600); do
  [[ -d run/checkpoints ]] && ls run/checkpoints | grep -q step- && break
  kill -0 "$owner" 2>/dev/null || { cat owner.log; fail "the owner stopped"; }
  sleep 0.1
done
ls run/checkpoints | grep -q step- || fail "the owner wrote no checkpoint in 60 s"
for args in "--resume auto" ""; do
  if timeout -s KILL 60 "$bin" train --config long.yaml --run run $args --max-steps 3 > second.log 2>&1; then
    cat second.log; fail "a second run on a folder in use was accepted ($args)"
  fi
  grep -q "run folder run is in use by another mvvae train (pid $owner on " second.log || { cat second.log; fail "the refusal does not name the holder"; }
done
kill -0 "$owner" 2>/dev/null || { cat owner.log; fail "the owner died when a second run was refused"; }
# SIGKILL: no clean-up code runs; the kernel drops the lock with the process.
kill -9 "$owner"
wait "$owner" 2>/dev/null || true
owner=""
timeout -s KILL 120 "$bin" train --config long.yaml --run run --resume auto --max-steps 3 > third.log 2>&1 || { cat third.log; fail "no resume after the owner was killed"; }
grep -q "resum" third.log || { cat third.log; fail "the third run did not resume the folder"; }
# Three runs without --run started together: three folders, every run finished.
cat > "$work/short.yaml" <<'YAML'
name: sweep
data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [4, 3], samples: 100}
model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [4], featureSize: 4, decoderHidden: [4], likelihood: gaussian}
training: {epochs: 1, batchSize: 20, learningRate: 0.001, validate: false}
YAML
pids=()
for seed in 1 2 3; do
  timeout -s KILL 120 "$bin" train --config short.yaml --set seed=$seed --progress lines > "sweep$seed.log" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || fail "a sweep run failed: $(cat sweep*.log)"; done
[[ $(ls checkpoints | grep -c '^sweep-') == 3 ]] || { ls checkpoints; fail "three runs did not get three folders"; }
for d in checkpoints/sweep-*; do ls "$d/checkpoints" | grep -q step- || fail "$d has no checkpoint"; done
echo "run lock: a folder in use is refused naming its holder; SIGKILL releases it; a parallel sweep gets a folder per run: ok"
