#!/usr/bin/env bash
# Exact resume: 10 steps, stop, resume, 30 more at the same world size equals 40 uninterrupted steps
# bit for bit. Elastic: the checkpoint saved at -np 2 resumes at -np 1 and -np 3 and lands within
# the world-size tolerance of the uninterrupted run.
source "$(dirname "$0")/lib.bash"
set2=(--set training.epochs=2)
mpi -np 2 "$bin" train --config "$config" --run "$work/full" "${set2[@]}" > "$work/full.log" 2>&1 || { cat "$work/full.log"; fail "uninterrupted run"; }
mpi -np 2 "$bin" train --config "$config" --run "$work/part" "${set2[@]}" --max-steps 10 > "$work/part.log" 2>&1 || { cat "$work/part.log"; fail "first half"; }
[[ "$(basename "$(newest "$work/part")")" == step-000000010 ]] || fail "expected a checkpoint at step 10, found $(newest "$work/part")"
for np in 1 3; do cp -r "$work/part" "$work/elastic$np"; done
mpi -np 2 "$bin" train --config "$config" --run "$work/part" "${set2[@]}" --resume auto > "$work/resume.log" 2>&1 || { cat "$work/resume.log"; fail "resume"; }
grep -q "resume: from" "$work/resume.log" || fail "the resumed run did not load the checkpoint"
echo -n "exact resume at -np 2: "
compare "$(newest "$work/full")" "$(newest "$work/part")" --exact || fail "resume is not bit-exact"
for np in 1 3; do
  mpi -np "$np" "$bin" train --config "$config" --run "$work/elastic$np" "${set2[@]}" --resume auto > "$work/elastic$np.log" 2>&1 || { cat "$work/elastic$np.log"; fail "elastic resume at -np $np"; }
  grep -q "saved by 2 rank" "$work/elastic$np.log" || fail "elastic run did not report the saving world size"
  echo -n "saved at -np 2, resumed at -np $np: "
  compare "$(newest "$work/full")" "$(newest "$work/elastic$np")" --rtol 1e-4 || fail "elastic resume at -np $np drifts"
done
# The same at -np 4 as 2 nodes x 2 ranks (shared moments within a node, rings between nodes).
export MVVAE_RANKS_PER_NODE=2
mpi -np 4 "$bin" train --config "$config" --run "$work/full4" "${set2[@]}" > "$work/full4.log" 2>&1 || { cat "$work/full4.log"; fail "uninterrupted run, 2 nodes"; }
mpi -np 4 "$bin" train --config "$config" --run "$work/part4" "${set2[@]}" --max-steps 10 > "$work/part4.log" 2>&1 || { cat "$work/part4.log"; fail "first half, 2 nodes"; }
[[ "$(basename "$(newest "$work/part4")")" == step-000000010 ]] || fail "expected a checkpoint at step 10 (2 nodes), found $(newest "$work/part4")"
mpi -np 4 "$bin" train --config "$config" --run "$work/part4" "${set2[@]}" --resume auto > "$work/resume4.log" 2>&1 || { cat "$work/resume4.log"; fail "resume, 2 nodes"; }
grep -q "resume: from" "$work/resume4.log" || fail "the -np 4 resumed run did not load the checkpoint"
grep -q "shared memory on 2 nodes" "$work/resume4.log" || fail "the -np 4 resume did not use the two-level exchange"
echo -n "exact resume at -np 4 as 2 nodes x 2 ranks: "
compare "$(newest "$work/full4")" "$(newest "$work/part4")" --exact || fail "resume over 2 nodes is not bit-exact"
unset MVVAE_RANKS_PER_NODE
echo "resume: ok"
