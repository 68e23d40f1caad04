#!/usr/bin/env bash
# Side by side, back to back in one run: `mvvae bench` against its PyTorch peer (multivae_bench.py) for each
# configuration below, REPEATS interleaved rounds (ours, theirs, next configuration, …), one thread each.
# Prints a Markdown table with both samples/s and their ratio per round, then the medians.
#   scripts/peers/run.sh [REPEATS] [FAMILY…]      (default 3 rounds, every family)
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats="${1:-3}"
shift || true
families=("$@")
((${#families[@]})) || families=(jnf)
venv=$(scripts/peers/setup.sh "${MVVAE_PEERS_VENV:-/tmp/mvvae-peers-venv}")
swift build -c release --product mvvae >/dev/null
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
bin=.build/release/mvvae
steps="${MVVAE_PEERS_STEPS:-300}"

# family | stage | mvvae config
specs=(
  "jnf|joint|configs/jnf-fashion-quadrants.yaml"
  "jnf|unimodal|configs/jnf-fashion-quadrants.yaml"
)

results=$(mktemp)
trap 'rm -f "$results"' EXIT
echo "measured $(date -u '+%Y-%m-%d %H:%M UTC'), batch 128, $steps timed steps after 30, torch $("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
echo
echo "| round | family | stage | mvvae samples/s | MultiVae samples/s | ratio |"
echo "|---|---|---|---|---|---|"
for ((round = 1; round <= repeats; round++)); do
  for spec in "${specs[@]}"; do
    IFS='|' read -r family stage config <<< "$spec"
    [[ " ${families[*]} " == *" $family "* ]] || continue
    ours=$("$bin" bench --config "$config" --stage "$stage" --steps "$steps" | tail -n 1 | awk -F'|' '{gsub(/ /, "", $4); print $4}')
    theirs=$("$venv/bin/python" scripts/peers/multivae_bench.py --family "$family" --stage "$stage" --steps "$steps" | awk '/^samples\/s/ {print $2}')
    ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN {printf "%.2f", a / b}')
    echo "| $round | $family | $stage | $ours | $theirs | $ratio× |"
    echo "$family|$stage|$ours|$theirs|$ratio" >> "$results"
  done
done
echo
echo "| family | stage | median mvvae | median MultiVae | median ratio |"
echo "|---|---|---|---|---|"
for spec in "${specs[@]}"; do
  IFS='|' read -r family stage _ <<< "$spec"
  grep -q "^$family|$stage|" "$results" || continue
  median() { grep "^$family|$stage|" "$results" | cut -d'|' -f"$1" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
  echo "| $family | $stage | $(median 3) | $(median 4) | $(median 5)× |"
done
