#!/usr/bin/env bash
# Reproduces the JPVAE Fashion-MNIST tables in RESULTS.md: C = zero, bounded, scaledOrthogonal,
# seeds 0-2, each trained then evaluated with `mvvae evaluate`, then a summary.
#   scripts/jpvae-fashion-results.sh [EPOCHS] [BINARY] [PARALLEL_JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-30}"
bin="${2:-.build/release/mvvae}"
jobs="${3:-1}"
export OPENBLAS_NUM_THREADS=1 EPOCHS="$epochs" BIN="$bin"
mkdir -p runs

one() {  # one() CROSS SEED
  local run="runs/jpvae-fashion-$1-e$EPOCHS-s$2"
  if [[ ! -f "$run/evaluation.json" ]]; then
    rm -rf "$run"
    "$BIN" train --config "configs/jpvae-fashion-$1.yaml" --run "$run" --set seed="$2" --set training.epochs="$EPOCHS" \
      > "$run.train.log" 2>&1 || { echo "training $run failed (see $run.train.log)"; return 1; }
    # A run stopped by a signal also exits 0: evaluate only a run that finished.
    grep -q "^done:" "$run.train.log" || { echo "training $run did not finish (see $run.train.log)"; return 1; }
    "$BIN" evaluate --run "$run" > "$run.eval.log" 2>&1 || { echo "evaluating $run failed (see $run.eval.log)"; return 1; }
  fi
  echo "done: $run"
}
export -f one
for seed in 0 1 2; do for c in zero bounded orthogonal; do echo "$c $seed"; done; done |
  xargs -P "$jobs" -L 1 bash -c 'one "$0" "$1"'
python3 scripts/summarize_jpvae.py runs/jpvae-fashion-*-e"$epochs"-s*/evaluation.json
