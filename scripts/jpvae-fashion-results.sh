#!/usr/bin/env bash
# Reproduces the JPVAE Fashion-MNIST table in RESULTS.md: C = zero, bounded, scaledOrthogonal,
# seeds 0-2, then `mvvae evaluate` on each run and a summary table.
#   scripts/jpvae-fashion-results.sh [EPOCHS] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-30}"
bin="${2:-.build/release/mvvae}"
export OPENBLAS_NUM_THREADS=1
mkdir -p runs
for seed in 0 1 2; do
  for c in zero bounded orthogonal; do
    run="runs/jpvae-fashion-$c-e$epochs-s$seed"
    if [[ ! -f "$run/evaluation.json" ]]; then
      rm -rf "$run"
      "$bin" train --config "configs/jpvae-fashion-$c.yaml" --run "$run" --set seed="$seed" --set training.epochs="$epochs" \
        > "$run.train.log" 2>&1 || { echo "training $run failed (see $run.train.log)"; exit 1; }
      "$bin" evaluate --run "$run" > "$run.eval.log" 2>&1 || { echo "evaluating $run failed (see $run.eval.log)"; exit 1; }
    fi
    echo "done: $run"
  done
done
python3 scripts/summarize_jpvae.py runs/jpvae-fashion-*-e"$epochs"-s*/evaluation.json
