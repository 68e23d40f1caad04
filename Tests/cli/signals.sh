#!/usr/bin/env bash
# Signals and pipes (issue 29): a stop signal while the data still load ends the process at once (nothing to save
# yet); SIGHUP during training stops it cleanly with a checkpoint, as SIGTERM does; `mvvae train | head` keeps
# training after the reader has gone and finishes.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MVVAE_BIN:-$root/.build/debug/mvvae}"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"   # absolute: the test works in its own folder
work="$(mktemp -d /tmp/mvvae-signals-test.XXXXXX)"
trap 'pkill -KILL -f -- "--run $work/" 2>/dev/null || true; sleep 0.2; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$work"
# Generating 3 million simulated rows takes seconds (20 s in a debug build): the start-up to interrupt.
cat > slow.yaml <<'YAML'
name: slow
data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [8, 8], samples: 3000000}
model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [4], featureSize: 4, decoderHidden: [4], likelihood: gaussian}
training: {epochs: 1, batchSize: 100000, validate: false}
YAML
for sig in TERM HUP INT; do
  (ulimit -v 4000000; exec timeout -s KILL 60 "$bin" train --config slow.yaml --run "$work/slow-$sig") > "slow-$sig.log" 2>&1 &
  pid=$!
  sleep 1.5
  start=$(date +%s%N)
  pkill "-$sig" -f -- "--run $work/slow-$sig" || fail "nothing to signal ($sig)"
  set +e; wait "$pid"; code=$?; set -e
  took=$(( ($(date +%s%N) - start) / 1000000 ))
  grep -q "stop signal before training started; nothing to save, exiting" "slow-$sig.log" || { cat "slow-$sig.log"; fail "SIG$sig in start-up: no message"; }
  ((code > 128 && code != 137)) || { cat "slow-$sig.log"; fail "SIG$sig in start-up: exit $code (137: it had to be killed)"; }
  ((took < 5000)) || fail "SIG$sig in start-up took $took ms to end the process"
done
# SIGHUP during training: a clean stop at a step boundary, with a checkpoint that resumes.
cat > long.yaml <<'YAML'
name: long
data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [4, 3], samples: 400}
model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [8], featureSize: 8, decoderHidden: [8], likelihood: gaussian}
training: {epochs: 100000, batchSize: 8, learningRate: 0.001, validate: false, logEvery: 20}
YAML
timeout -s KILL 120 "$bin" train --config long.yaml --run "$work/hup" --progress lines > hup.log 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q "^step " hup.log && break; sleep 0.1; done
grep -q "^step " hup.log || { cat hup.log; fail "the long run made no progress"; }
kill -HUP "$pid"
set +e; wait "$pid"; code=$?; set -e
((code == 0)) || { cat hup.log; fail "SIGHUP during training: exit $code, expected a clean stop (0)"; }
grep -q "^stopped at step" hup.log || { cat hup.log; fail "SIGHUP during training: no clean stop"; }
ls hup/checkpoints | grep -q step- || fail "SIGHUP during training: no checkpoint"
# A pipe closed early: head takes the first line and leaves; the run goes on to the end.
cat > short.yaml <<'YAML'
name: short
data: {source: linear-gaussian, modalities: 2, latentDimension: 2, dimensions: [4, 3], samples: 400}
model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [8], featureSize: 8, decoderHidden: [8], likelihood: gaussian}
training: {epochs: 20, batchSize: 8, learningRate: 0.001, validate: false, logEvery: 5}
YAML
set +e
timeout -s KILL 120 "$bin" train --config short.yaml --run "$work/piped" --progress lines | head -n 1 > /dev/null
codes=("${PIPESTATUS[@]}")
set -e
((codes[0] == 0)) || fail "train | head: mvvae exited ${codes[0]} once head had gone"
[[ $(wc -l < piped/metrics.jsonl) == 20 ]] || { ls piped/checkpoints; fail "train | head: the run did not finish its 20 epochs"; }
echo "signals: SIGTERM, SIGHUP or SIGINT in start-up end it at once; SIGHUP in training stops it cleanly; a closed pipe does not stop it: ok"
