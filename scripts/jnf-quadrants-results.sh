#!/usr/bin/env bash
# RESULTS.md's JNF table (issue 13): Fashion-MNIST as 4 quadrant modalities (binarised), JNF and JNF-Shared
# against PoE, MoE and MoPoE with the same per-modality networks (196→256 features, latent 16,
# 16→256→196 Bernoulli decoders), every model and every stage EPOCHS epochs (JNF-Shared's projectors
# half that), complete rows only, evaluated on the first 1 000 test rows: importance-sampled joint and
# conditional log-likelihoods, coherence, HMC acceptance. Then summarised (mean ± sd over seeds).
#   scripts/jnf-quadrants-results.sh [BINARY] [PARALLEL_JOBS] [SEEDS] [MODELS] [EPOCHS]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-.build/release/mvvae}" EPOCHS="${5:-10}"
source scripts/train-and-evaluate.bash
common="data.missingRate=0 data.testLimit=1000 training.validate=false evaluation.importanceSamples=50 evaluation.trainLimit=20000 evaluation.classifierLearningRate=0.001"
same="model.encoderHidden=[] model.featureSize=256 model.latent=16 model.decoderHidden=[256]"
stages="training.stages.joint.epochs=$EPOCHS training.stages.unimodal.epochs=$EPOCHS"
for model in ${4:-mopoe moe poe jnf jnf-shared}; do
  for seed in ${3:-1 2 3}; do
    case "$model" in
      jnf) echo "jnf-fashion-quadrants $seed plain $stages $common" ;;
      jnf-shared) echo "jnf-fashion-quadrants $seed shared model.variant=shared $stages training.stages.projectors.epochs=$((EPOCHS / 2)) $common" ;;
      # everyComponent: the estimator RESULTS.md's MoE and MoPoE runs used (the default before onePerRow)
      *) echo "aggregated-fashion-quadrants-poe $seed $model model.aggregator=$model model.mixtureSampling=everyComponent $same $common" ;;
    esac
  done
done | run_all "${2:-2}"
python3 scripts/summarize_coherence.py runs/*-fashion-quadrants-*-e"$EPOCHS"-s*/evaluation.json
# README's grids: test images completed from 1, 2 and 3 observed quadrants by the seed-1 JNF run.
jnf="runs/jnf-fashion-quadrants-plain-e$EPOCHS-s1"
if [[ -f "$jnf/evaluation.json" ]]; then
  for given in 1 1,2 1,2,3; do
    "$BIN" impute --run "$jnf" --given "$given" --test 12 --samples 10 --png "docs/jnf-from-${given//,/}.png" --columns 6 --scale 2 | tail -n 2
  done
fi
