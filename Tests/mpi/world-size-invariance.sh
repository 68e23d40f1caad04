#!/usr/bin/env bash
# 20 steps from one seed at world sizes 1, 2 and 3 (oversubscribed) end with the same parameters,
# up to float summation order.
source "$(dirname "$0")/lib.bash"
for np in 1 2 3; do
  mpi -np "$np" "$bin" train --config "$config" --run "$work/np$np" > "$work/np$np.log" 2>&1 || { cat "$work/np$np.log"; fail "training at -np $np"; }
done
for np in 2 3; do
  echo -n "np1 vs np$np: "
  compare "$(newest "$work/np1")" "$(newest "$work/np$np")" --rtol 1e-4 || fail "world size $np drifts from world size 1"
done
echo "world-size invariance: ok"
