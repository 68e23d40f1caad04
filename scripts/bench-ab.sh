#!/usr/bin/env bash
# Builds of mvvae side by side: `mvvae bench` of each family (one process, batch 128, 300 steps, the malloc
# counter preloaded) with every binary in turn, ROUNDS rounds; prints each run and, per family and binary,
# the median samples/s, the median over rounds of its ratio to the first binary, and the mallocs per step.
#   scripts/bench-ab.sh ROUNDS BIN_A BIN_B [BIN_C …]
# MVVAE_BENCH_NP=2 runs every bench under launch/mpi -np 2 (the shared-memory exchange; rank 0's row);
# MVVAE_BENCH_FAMILIES="jpvae poe" runs only those families.
# For a change to the code, build the commit before it beside this one, e.g.
#   git worktree add /tmp/before HEAD~1 && (cd /tmp/before && swift build -c release --product mvvae)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="$1"
shift
bins=("$@")
gcc -shared -fPIC -O2 -o /tmp/mvvae-malloc-counter.so scripts/malloc_counter.c
export OPENBLAS_NUM_THREADS=1
families=(
  "jpvae|configs/jpvae-fashion-orthogonal.yaml|"
  "poe|configs/aggregated-fashion-halves-poe.yaml|"
  "mopoe|configs/aggregated-fashion-halves-mopoe.yaml|"
  "covae|configs/covae-fashion.yaml|--stage train"
  "jnf|configs/jnf-fashion-quadrants.yaml|--stage joint"
)
np="${MVVAE_BENCH_NP:-1}"
launcher=()
((np > 1)) && launcher=(launch/mpi -np "$np")
wanted="${MVVAE_BENCH_FAMILIES:-}"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for ((r = 1; r <= rounds; r++)); do
  for spec in "${families[@]}"; do
    IFS='|' read -r name config extra <<< "$spec"
    [[ -z "$wanted" || " $wanted " == *" $name "* ]] || continue
    for i in "${!bins[@]}"; do
      # shellcheck disable=SC2086
      row=$(LD_PRELOAD=/tmp/mvvae-malloc-counter.so "${launcher[@]}" "${bins[$i]}" bench --config "$config" --batch 128 --steps 300 $extra | tail -n 1)
      rate=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $4); print $4 }')
      mallocs=$(echo "$row" | awk -F'|' '{ gsub(/ /, "", $(NF - 1)); print $(NF - 1) }')
      echo "$r $name $i $rate $mallocs" | tee -a "$out"
    done
  done
done
python3 - "$out" "${bins[@]}" <<'PY'
import sys, statistics as st, collections
rows = [l.split() for l in open(sys.argv[1])]
bins = sys.argv[2:]
rate = collections.defaultdict(dict); mallocs = collections.defaultdict(float)
for r, name, i, x, m in rows:
    rate[(name, int(i))][int(r)] = float(x)
    mallocs[(name, int(i))] = max(mallocs[(name, int(i))], float(m))
for i, b in enumerate(bins): print(f"binary {i}: {b}")
print("| family | binary | samples/s (median) | ratio to binary 0 (median over rounds) | per round | mallocs/step |")
print("|---|---|---|---|---|---|")
for name in dict.fromkeys(n for n, _ in rate):
    base = rate[(name, 0)]
    for i in range(len(bins)):
        mine = rate[(name, i)]
        ratios = [mine[r] / base[r] for r in sorted(base) if r in mine]
        print(f"| {name} | {i} | {st.median(mine.values()):.0f} | {st.median(ratios):.3f} | "
              f"{', '.join(f'{x:.2f}' for x in ratios)} | {mallocs[(name, i)]:g} |")
PY
