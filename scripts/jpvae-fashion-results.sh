#!/usr/bin/env bash
# Reproduces the JPVAE Fashion-MNIST tables in RESULTS.md: C = zero, bounded, scaledOrthogonal,
# seeds 0-2, each trained then evaluated with `mvvae evaluate`, then a summary.
#   scripts/jpvae-fashion-results.sh [EPOCHS] [BINARY] [PARALLEL_JOBS]
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-30}" BIN="${2:-.build/release/mvvae}" LR=""
source scripts/train-and-evaluate.bash
for seed in 0 1 2; do for c in zero bounded orthogonal; do echo "jpvae-fashion-$c $seed"; done; done | run_all "${3:-1}"
python3 scripts/summarize_jpvae.py runs/jpvae-fashion-*-e"$EPOCHS"-s*/evaluation.json
