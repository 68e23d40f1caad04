#!/usr/bin/env bash
# The linear-Gaussian table of RESULTS.md: every aggregator × bound config, seeds 0-2, trained then
# evaluated (exact log-likelihood gap to PPCA, MCC), then summarised.
#   scripts/aggregated-lineargaussian-results.sh [EPOCHS] [BINARY] [PARALLEL_JOBS] [LEARNING_RATE] [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-300}"
bin="${2:-.build/release/mvvae}"
jobs="${3:-1}"
lr="${4:-0.001}"
seeds="${5:-0 1 2}"
export OPENBLAS_NUM_THREADS=1 EPOCHS="$epochs" BIN="$bin" LR="$lr"
mkdir -p runs

one() {  # one() CONFIG_STEM SEED
  local run="runs/$1-e$EPOCHS-s$2"
  if [[ ! -f "$run/evaluation.json" ]]; then
    rm -rf "$run"
    "$BIN" train --config "configs/$1.yaml" --run "$run" --set seed="$2" --set training.epochs="$EPOCHS" --set training.learningRate="$LR" --progress lines \
      > "$run.train.log" 2>&1 || { echo "training $run failed (see $run.train.log)"; return 1; }
    # A run stopped by a signal also exits 0: evaluate only a run that finished.
    grep -q "^done:" "$run.train.log" || { echo "training $run did not finish (see $run.train.log)"; return 1; }
    "$BIN" evaluate --run "$run" > "$run.eval.log" 2>&1 || { echo "evaluating $run failed (see $run.eval.log)"; return 1; }
  fi
  echo "done: $run"
}
export -f one
for seed in $seeds; do
  for agg in poe sumpooling; do for bound in masked mixture elbo; do echo "aggregated-lineargaussian-$agg-$bound $seed"; done; done
done | xargs -P "$jobs" -L 1 bash -c 'one "$0" "$1"'
python3 scripts/summarize_lineargaussian.py runs/aggregated-lineargaussian-*-e"$epochs"-s*/evaluation.json
