#!/usr/bin/env bash
# The CoVAE tables of RESULTS.md (the CoVAE paper's §3.1): for each ρ and seed, synthetic pairs decoded
# by the generator run, then CoVAE (prior from deep CCA, frozen), CoVAE with the prior learnt, and the
# shared-latent PoE and MoE (and, asked for, covae-dcor: pre-training by distance correlation), each trained then evaluated; then summarised (mean ± sd over seeds).
# Every model trains 25 epochs in all (CoVAE: 5 of deep CCA + 20). The data seed is the run's seed.
#   scripts/covae-correlated-results.sh [BINARY] [PARALLEL_JOBS] [SEEDS] [RHOS] [MODELS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-.build/release/mvvae}" EPOCHS=25
source scripts/train-and-evaluate.bash
if [[ ! -f runs/fashion-generator/checkpoints/step-000007820/state.json ]]; then
  echo "training the generator (configs/fashion-generator.yaml)"
  "$BIN" train --config configs/fashion-generator.yaml --run runs/fashion-generator --progress lines > runs/fashion-generator.train.log 2>&1
fi
for seed in ${3:-1 2 3}; do
  for rho in ${4:-0.05 0.3 0.6 0.9 0.99}; do
    for model in ${5:-covae covae-learnt poe moe}; do
      case "$model" in
        covae) echo "correlated-covae $seed r$rho data.correlation=$rho data.dataSeed=$seed training.epochs=20" ;;
        covae-learnt) echo "correlated-covae $seed learnt-r$rho data.correlation=$rho data.dataSeed=$seed training.epochs=20 model.priorCorrelations=learnt" ;;
        covae-dcor) echo "correlated-covae $seed dcor-r$rho data.correlation=$rho data.dataSeed=$seed training.epochs=20 model.pretraining=distanceCorrelation" ;;
        *) echo "correlated-$model $seed r$rho data.correlation=$rho data.dataSeed=$seed" ;;
      esac
    done
  done
done | run_all "${2:-2}"
python3 scripts/summarize_covae_correlated.py runs/correlated-*-e"$EPOCHS"-s*/evaluation.json
