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
# The shared-memory exchange (the default on one node) and the rings sum in the same rank order:
# bit-identical at two ranks (a + b = b + a), equal to rounding at three.
for np in 2 3; do
  run="$work/tiny-np$np-rings"
  MVVAE_EXCHANGE=rings mpi -np "$np" "$bin" train --config "$config" --run "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "rings at -np $np"; }
  grep -q "gradient exchange: rings" "$run.log" || fail "MVVAE_EXCHANGE=rings did not select the rings"
  grep -q "gradient exchange: shared memory" "$work/tiny-np$np.log" || fail "-np $np on one node did not use shared memory"
  echo -n "tiny np$np shared memory vs rings: "
  if ((np == 2)); then
    compare "$(newest "$work/tiny-np$np")" "$(newest "$run")" --exact || fail "shared memory and rings differ at -np 2"
  else
    compare "$(newest "$work/tiny-np$np")" "$(newest "$run")" --rtol 1e-6 || fail "shared memory and rings differ at -np 3"
  fi
done
echo "world-size invariance: ok"
