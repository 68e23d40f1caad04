#!/usr/bin/env bash
# RESULTS.md's PolyFashion table (issue 26): PoE, MoE, MoPoE (masked bound), JNF and JNF-Shared on
# PolyFashion (5 colour modalities of 28×28×3), each with MultiVae's PolyMNIST convolutional networks
# (configs/polyfashion-conv-*.yaml) and with MLPs of one hidden layer of 256 in their place, trained on the
# first TRAIN_ROWS training rows (0: all 55 000) for EPOCHS epochs (JNF: every stage; JNF-Shared's projectors half that),
# evaluated on the first 300 test rows: importance-sampled joint and conditional log-likelihoods, coherence
# from 1 … 4 observed modalities and joint coherence (classifiers MLP 2 352 → 256 → 10 per modality, fitted
# on the first 10 000 training rows), JNF's HMC acceptance; no ridge yardstick (minutes per modality on 9 408
# pixels). Then summarised (mean ± sd over seeds).
#   scripts/polyfashion-results.sh [BINARY] [PARALLEL_JOBS] [SEEDS] [MODELS] [EPOCHS] [NETWORKS] [TRAIN_ROWS]
# e.g. scripts/polyfashion-results.sh .build/release/mvvae 2 "1 2 3" "poe moe mopoe jnf jnf-shared" 3 "conv mlp" 0
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-.build/release/mvvae}" EPOCHS="${5:-3}" rows="${7:-0}"
source scripts/train-and-evaluate.bash
# HMC (JNF, 2 … 4 observed modalities) shortened to 30 transitions of 5 leapfrog steps: the defaults'
# 100 × 10 gradient passes through conv decoders for 25 subsets would take hours per run on 2 cores.
common="data.trainLimit=$rows data.testLimit=300 evaluation.trainLimit=10000 evaluation.ridge=false"
hmc="model.hmcSteps=30 model.leapfrogSteps=5"
mlp="'model.encoder={type: mlp}' 'model.decoder={type: mlp}' model.decoderHidden=[256]"
for network in ${6:-conv mlp}; do
  for model in ${4:-poe moe mopoe jnf jnf-shared}; do
    for seed in ${3:-1 2 3}; do
      stages="training.stages.joint.epochs=$EPOCHS training.stages.unimodal.epochs=$EPOCHS $hmc"
      case "$network/$model" in
        conv/jnf) echo "polyfashion-conv-jnf $seed jnf-conv $stages $common" ;;
        conv/jnf-shared) echo "polyfashion-conv-jnf $seed jnfshared-conv model.variant=shared $stages training.stages.projectors.epochs=$((EPOCHS / 2 > 0 ? EPOCHS / 2 : 1)) $common" ;;
        mlp/jnf) echo "polyfashion-conv-jnf $seed jnf-mlp $stages $common $mlp model.encoderHidden=[256,64]" ;;
        mlp/jnf-shared) echo "polyfashion-conv-jnf $seed jnfshared-mlp model.variant=shared $stages training.stages.projectors.epochs=$((EPOCHS / 2 > 0 ? EPOCHS / 2 : 1)) $common $mlp model.encoderHidden=[256,64]" ;;
        conv/*) echo "polyfashion-conv-mopoe $seed $model-conv model.aggregator=$model $common" ;;
        mlp/*) echo "polyfashion-conv-mopoe $seed $model-mlp model.aggregator=$model $common $mlp model.encoderHidden=[256]" ;;
      esac
    done
  done
done | run_all "${2:-2}"
python3 scripts/summarize_coherence.py runs/polyfashion-*-e"$EPOCHS"-s*/evaluation.json
