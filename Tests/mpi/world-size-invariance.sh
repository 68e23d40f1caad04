#!/usr/bin/env bash
# One epoch from one seed at world sizes 1, 2 and 3 (oversubscribed) ends with the same parameters, up to
# float summation order: for the JPVAE config and for an aggregated mixture-of-experts config.
source "$(dirname "$0")/lib.bash"
for cfg in "$config" "$here/tiny-aggregated.yaml"; do
  name="$(basename "$cfg" .yaml)"
  for np in 1 2 3; do
    run="$work/$name-np$np"
    mpi -np "$np" "$bin" train --config "$cfg" --run "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "$name: training at -np $np"; }
  done
  for np in 2 3; do
    echo -n "$name np1 vs np$np: "
    compare "$(newest "$work/$name-np1")" "$(newest "$work/$name-np$np")" --rtol 1e-4 || fail "$name: world size $np drifts from world size 1"
  done
done
echo "world-size invariance: ok"
