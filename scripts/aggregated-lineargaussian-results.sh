#!/usr/bin/env bash
# The linear-Gaussian table of RESULTS.md: every aggregator × bound config, trained then evaluated
# (exact log-likelihood gap to PPCA, MCC), then summarised.
#   scripts/aggregated-lineargaussian-results.sh [EPOCHS] [BINARY] [PARALLEL_JOBS] [LEARNING_RATE] [SEEDS]
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-1000}" BIN="${2:-.build/release/mvvae}" LR="${4:-0.001}"
source scripts/train-and-evaluate.bash
for seed in ${5:-0 1 2}; do
  for agg in poe sumpooling; do for bound in masked mixture elbo; do echo "aggregated-lineargaussian-$agg-$bound $seed"; done; done
done | run_all "${3:-1}"
python3 scripts/summarize_lineargaussian.py runs/aggregated-lineargaussian-*-e"$EPOCHS"-s*/evaluation.json
