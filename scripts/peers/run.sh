#!/usr/bin/env bash
# Side by side, back to back in one run: `mvvae bench` against its PyTorch peer (multivae_bench.py) for each
# configuration below, REPEATS interleaved rounds (ours, theirs, next configuration, …), one thread each,
# the same data, layer sizes, objective and batch on both sides. Families:
#   jnf    MultiVae's JNF, stages joint and unimodal      configs/jnf-fashion-quadrants.yaml
#   poe    MultiVae's MVAE without subsampling            configs/aggregated-fashion-halves-poe.yaml
#   mopoe  MultiVae's MoPoE                               configs/aggregated-fashion-halves-mopoe.yaml
#   jpvae  scripts/peers/jpvae_torch.py (fused Adam)      configs/jpvae-fashion-orthogonal.yaml
#   covae  scripts/peers/covae_torch.py (fused Adam),     configs/covae-fashion.yaml
#          stages train and pretrain
#   conv-poe    MultiVae's MVAE without subsampling, its   configs/polyfashion-conv-poe.yaml
#               PolyMNIST conv networks, 5 colour views     (ours with --set model.bound=elbo)
#   conv-mopoe  MultiVae's MoPoE, the same networks         configs/polyfashion-conv-mopoe.yaml
#                                                           (ours with --set model.bound=elbo)
# Prints a Markdown table with both samples/s and their ratio per round, then the medians, then both
# sides' parameter counts (trained of total; from round 1's `mvvae bench --header` and `--count`).
#   scripts/peers/run.sh [REPEATS] [FAMILY…]      (default 3 rounds, every family)
#   e.g. scripts/peers/run.sh 5; scripts/peers/run.sh 3 poe mopoe
# Environment: MVVAE_PEERS_VENV (default /tmp/mvvae-peers-venv), MVVAE_PEERS_STEPS (timed steps, default
# 300, after 30 untimed), MVVAE_PEERS_CONV_STEPS (the conv families' timed steps, default 40, after 5
# untimed: about a second a step), MVVAE_PEERS_BATCH (default 128), MVVAE_PEERS_BUILD=0 to use the release
# binary as it is instead of running `swift build -c release` first.
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats="${1:-3}"
shift || true
all=(jnf poe mopoe jpvae covae conv-poe conv-mopoe)
families=("$@")
((${#families[@]})) || families=("${all[@]}")
for family in "${families[@]}"; do
  [[ " ${all[*]} " == *" $family "* ]] || { echo "unknown family '$family' (${all[*]})" >&2; exit 2; }
done
venv=$(scripts/peers/setup.sh "${MVVAE_PEERS_VENV:-/tmp/mvvae-peers-venv}")
[[ "${MVVAE_PEERS_BUILD:-1}" == 0 ]] || swift build -c release --product mvvae >/dev/null
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
bin=.build/release/mvvae
steps="${MVVAE_PEERS_STEPS:-300}"
conv_steps="${MVVAE_PEERS_CONV_STEPS:-40}"
batch="${MVVAE_PEERS_BATCH:-128}"

# family | stage (`-`: the model's only stage) | mvvae config | optional `--set` for mvvae only (a
# variant of ours against the same peer; shown in the stage column)
specs=(
  "jnf|joint|configs/jnf-fashion-quadrants.yaml|"
  "jnf|unimodal|configs/jnf-fashion-quadrants.yaml|"
  "poe|-|configs/aggregated-fashion-halves-poe.yaml|"
  "mopoe|-|configs/aggregated-fashion-halves-mopoe.yaml|"
  "mopoe|-|configs/aggregated-fashion-halves-mopoe.yaml|model.mixtureSampling=everyComponent"
  "jpvae|-|configs/jpvae-fashion-orthogonal.yaml|"
  "covae|train|configs/covae-fashion.yaml|"
  "covae|pretrain|configs/covae-fashion.yaml|"
  "conv-poe|-|configs/polyfashion-conv-poe.yaml|model.bound=elbo"
  "conv-mopoe|-|configs/polyfashion-conv-mopoe.yaml|model.bound=elbo"
)

results=$(mktemp) counts=$(mktemp) errors=$(mktemp)
trap 'rm -f "$results" "$counts" "$errors"' EXIT
echo "measured $(date -u '+%Y-%m-%d %H:%M UTC'), batch $batch, $steps timed steps after 30 (conv families $conv_steps after 5), torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
echo
echo "| round | family | stage | mvvae samples/s | PyTorch samples/s | ratio |"
echo "|---|---|---|---|---|---|"
for ((round = 1; round <= repeats; round++)); do
  for spec in "${specs[@]}"; do
    IFS='|' read -r family stage config set <<< "$spec"
    [[ " ${families[*]} " == *" $family "* ]] || continue
    timing=(--steps "$steps" --warmup 30)
    [[ "$family" != conv-* ]] || timing=(--steps "$conv_steps" --warmup 5)
    ours_args=(--config "$config" --batch "$batch" "${timing[@]}")
    [[ -z "$set" ]] || ours_args+=(--set "$set")
    label="$stage${set:+ ($set)}"
    theirs_args=(--family "$family" --batch "$batch" "${timing[@]}")
    if [[ "$stage" != - ]]; then ours_args+=(--stage "$stage"); theirs_args+=(--stage "$stage"); fi
    if ((round == 1)); then ours_args+=(--header); theirs_args+=(--count); fi
    out=$("$bin" bench "${ours_args[@]}")
    ours=$(tail -n 1 <<< "$out" | awk -F'|' '{gsub(/ /, "", $4); print $4}')
    theirs=$("$venv/bin/python" scripts/peers/multivae_bench.py "${theirs_args[@]}" 2> "$errors" | awk '/^samples\/s/ {print $2}')
    grep -v '^parameters ' "$errors" >&2 || true
    if ((round == 1)); then
      mine=$(sed -n 's/.*: \([0-9]* of [0-9]*\) parameters trained.*/\1/p' <<< "$out")
      peer=$(sed -n 's/^parameters //p' "$errors")
      echo "$family|$label|$mine|$peer" >> "$counts"
    fi
    [[ -n "$ours" && -n "$theirs" ]] || { echo "no samples/s from $family/$stage (mvvae '$ours', PyTorch '$theirs')" >&2; exit 1; }
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2f", a / b}')
    echo "| $round | $family | $label | $ours | $theirs | $ratio× |"
    echo "$family|$label|$ours|$theirs|$ratio" >> "$results"
  done
done
echo
echo "| family | stage | median mvvae | median PyTorch | median ratio |"
echo "|---|---|---|---|---|"
for spec in "${specs[@]}"; do
  IFS='|' read -r family stage _ set <<< "$spec"
  label="$stage${set:+ ($set)}"
  rows() { awk -F'|' -v f="$family" -v l="$label" '$1 == f && $2 == l' "$results"; }
  [[ -n "$(rows)" ]] || continue
  median() { rows | cut -d'|' -f"$1" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
  echo "| $family | $label | $(median 3) | $(median 4) | $(median 5)× |"
done
echo
echo "| family | stage | mvvae parameters (trained of total) | PyTorch parameters (trained of total) |"
echo "|---|---|---|---|"
while IFS='|' read -r family stage mine peer; do
  echo "| $family | $stage | $mine | $peer$([[ "$mine" == "$peer" ]] || echo ' (differ)') |"
done < "$counts"
