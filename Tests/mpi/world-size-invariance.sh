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
# MoPoE with one mixture component per row (model.mixtureSampling: onePerRow; each row's component from
# its own stream): -np 1, 2 and 3 agree, and a resume mid-epoch at -np 2 is bit-exact.
one=(--set model.aggregator=mopoe --set model.mixtureSampling=onePerRow)
for np in 1 2 3; do
  run="$work/onePerRow-np$np"
  mpi -np "$np" "$bin" train --config "$here/tiny-aggregated.yaml" --run "$run" "${one[@]}" > "$run.log" 2>&1 || { cat "$run.log"; fail "onePerRow: training at -np $np"; }
done
for np in 2 3; do
  echo -n "onePerRow np1 vs np$np: "
  compare "$(newest "$work/onePerRow-np1")" "$(newest "$work/onePerRow-np$np")" --rtol 1e-4 || fail "onePerRow: world size $np drifts from world size 1"
done
run="$work/onePerRow-cut"
mpi -np 2 "$bin" train --config "$here/tiny-aggregated.yaml" --run "$run" "${one[@]}" --max-steps 7 > "$run.log" 2>&1 || { cat "$run.log"; fail "onePerRow: first part"; }
mpi -np 2 "$bin" train --config "$here/tiny-aggregated.yaml" --run "$run" "${one[@]}" --resume auto > "$run-resume.log" 2>&1 || { cat "$run-resume.log"; fail "onePerRow: resume"; }
echo -n "onePerRow resumed at step 7, -np 2: "
compare "$(newest "$work/onePerRow-np2")" "$(newest "$run")" --exact || fail "onePerRow: resume at step 7 is not bit-exact"
# The shared-memory exchange (the default on one node) sums in rank order, the rings in a fixed cyclic
# order: bit-identical at two ranks (a + b = b + a), equal to rounding at three.
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
# Several nodes (MVVAE_RANKS_PER_NODE groups consecutive ranks as nodes): shared memory within each,
# rings between them; nodes of unequal size fall back to the rings.
run="$work/tiny-np4-2nodes"
MVVAE_RANKS_PER_NODE=2 mpi -np 4 "$bin" train --config "$config" --run "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "2 nodes x 2 ranks"; }
grep -q "gradient exchange: shared memory on 2 nodes of 2 ranks" "$run.log" || { cat "$run.log"; fail "-np 4 as 2 nodes did not use the two-level exchange"; }
echo -n "tiny np1 vs np4 as 2 nodes x 2 ranks: "
compare "$(newest "$work/tiny-np1")" "$(newest "$run")" --rtol 1e-4 || fail "2 nodes x 2 ranks drift from world size 1"
run="$work/tiny-np3-uneven"
MVVAE_RANKS_PER_NODE=2 mpi -np 3 "$bin" train --config "$config" --run "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "nodes of 2 and 1 ranks"; }
grep -q "gradient exchange: rings" "$run.log" || fail "nodes of unequal size did not fall back to the rings"
echo -n "tiny np3 shared memory vs nodes of 2 + 1 ranks (rings): "
compare "$(newest "$work/tiny-np3")" "$(newest "$run")" --rtol 1e-6 || fail "fallback to the rings drifts"
echo "world-size invariance: ok"
