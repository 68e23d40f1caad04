#!/usr/bin/env bash
# The BENCHMARKS.md training-throughput table: `mvvae bench` at -np 1 and -np 2 (shared-memory exchange,
# then MVVAE_EXCHANGE=rings), batch 128 and 32, each configuration run REPEATS times (default 5) with the
# malloc counter preloaded; prints the run with the median samples/s of each configuration (whole rows,
# so every column comes from the same run). The rings rows say "2, rings" in the ranks column.
#   scripts/bench.sh [REPEATS] [extra mvvae bench options…]
set -euo pipefail
cd "$(dirname "$0")/.."
repeats="${1:-5}"
shift || true
swift build -c release --product mvvae >/dev/null
gcc -shared -fPIC -O2 -o .build/malloc_counter.so scripts/malloc_counter.c
export OPENBLAS_NUM_THREADS=1 LD_PRELOAD="$PWD/.build/malloc_counter.so"
bin=.build/release/mvvae
first=1
for spec in 1 2 2:rings; do
  np="${spec%%:*}"
  exchange=""
  [[ "$spec" == *:rings ]] && exchange=rings
  for batch in 128 32; do
    steps=$((batch == 128 ? 400 : 800))
    rows=$(mktemp)
    for ((i = 0; i < repeats; i++)); do
      if ((np == 1)); then out=$("$bin" bench --batch "$batch" --steps "$steps" --header "$@")
      elif [[ -n "$exchange" ]]; then out=$(MVVAE_EXCHANGE=rings launch/mpi -np "$np" "$bin" bench --batch "$batch" --steps "$steps" --header "$@")
      else out=$(launch/mpi -np "$np" "$bin" bench --batch "$batch" --steps "$steps" --header "$@"); fi
      if ((first)); then echo "$out" | head -n 3; first=0; fi
      echo "$out" | tail -n 1 >> "$rows"
    done
    # Column 4 of "| ranks | batch | samples/s | …" is samples/s; take the median row.
    row=$(sort -t '|' -k4,4n "$rows" | sed -n "$(((repeats + 1) / 2))p")
    if [[ -n "$exchange" ]]; then echo "${row/| $np |/| $np, rings |}"; else echo "$row"; fi
    rm -f "$rows"
  done
done
