#!/usr/bin/env bash
# The linear-Gaussian tables of RESULTS.md: every aggregator × bound config on the 5-modality simulation
# of App. J and on its bi-modal version (suffix k2: data.modalities=2), trained then evaluated (exact
# log-likelihood gap to PPCA, MCC), then summarised.
#   scripts/aggregated-lineargaussian-results.sh [EPOCHS] [BINARY] [PARALLEL_JOBS] [LEARNING_RATE] [SEEDS] [AGGREGATORS] [BOUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-1000}" BIN="${2:-.build/release/mvvae}" LR="${4:-0.001}"
source scripts/train-and-evaluate.bash
for seed in ${5:-0 1 2}; do
  for agg in ${6:-poe moe sumpooling selfattention}; do for bound in ${7:-masked mixture}; do
    echo "aggregated-lineargaussian-$agg-$bound $seed k2 data.modalities=2"
    echo "aggregated-lineargaussian-$agg-$bound $seed"
  done; done
done | run_all "${3:-1}"
python3 scripts/summarize_lineargaussian.py runs/aggregated-lineargaussian-*-e"$EPOCHS"-s*/evaluation.json
