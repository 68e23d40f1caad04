#!/usr/bin/env bash
# A two-stage recipe (Tests/mpi/tiny-staged.yaml) across world sizes and resumes: -np 1, 2 and 3 agree
# within the invariance tolerance across the stage boundary, and on the end-of-stage statistic; the
# frozen encoder is bit-identical through stage B; resuming mid-stage A and mid-stage B is bit-exact at
# the same world size and within tolerance at another; --resume auto lands in the right stage; a
# stage that has not finished may be lengthened on resume, a finished one not changed.
source "$(dirname "$0")/lib.bash"
cfg="$here/tiny-staged.yaml"
for np in 1 2 3; do
  run="$work/np$np"
  mpi -np "$np" "$bin" train --config "$cfg" --run "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "training at -np $np"; }
  grep -q "stage 1/2 'encoder': 2 epoch(s)" "$run.log" || { cat "$run.log"; fail "-np $np: no line for stage 1"; }
  grep -q "stage 2/2 'head': 2 epoch(s), training 1960 parameters, optimizer restarted" "$run.log" || { cat "$run.log"; fail "-np $np: no line for stage 2"; }
  grep -q "set from the training split: statistics.mean, statistics.inverseDeviation" "$run.log" || fail "-np $np: the statistic was not reported"
  echo -n "-np $np: encoder at the boundary (step 20) vs the end (step 40): "
  compare "$(ckpt "$run" 20)" "$(ckpt "$run" 40)" --exact --only encoder. || fail "-np $np: stage B changed the frozen encoder"
done
[[ "$(cut -d, -f1,2 "$work/np1/metrics.csv" | tr '\n' ' ')" == "stage,stage_epoch encoder,1 encoder,2 head,1 head,2 " ]] \
  || { cat "$work/np1/metrics.csv"; fail "metrics.csv rows do not carry the stage"; }
for np in 2 3; do
  echo -n "statistic, np1 vs np$np: "
  compare "$(ckpt "$work/np1" 40)" "$(ckpt "$work/np$np" 40)" --only statistics. --rtol 1e-5 || fail "the end-of-stage statistic differs at -np $np"
  echo -n "np1 vs np$np after both stages: "
  compare "$(ckpt "$work/np1" 40)" "$(ckpt "$work/np$np" 40)" --rtol 1e-4 || fail "world size $np drifts from world size 1"
done
# The same recipe over the rings (bit-identical to shared memory at two ranks) and over two pretend nodes.
MVVAE_EXCHANGE=rings mpi -np 2 "$bin" train --config "$cfg" --run "$work/rings" > "$work/rings.log" 2>&1 || { cat "$work/rings.log"; fail "rings at -np 2"; }
echo -n "-np 2 rings vs shared memory: "
compare "$(ckpt "$work/np2" 40)" "$(ckpt "$work/rings" 40)" --exact || fail "the rings differ from shared memory across stages"
MVVAE_RANKS_PER_NODE=2 mpi -np 4 "$bin" train --config "$cfg" --run "$work/nodes" > "$work/nodes.log" 2>&1 || { cat "$work/nodes.log"; fail "2 nodes x 2 ranks"; }
grep -q "shared memory on 2 nodes of 2 ranks" "$work/nodes.log" || fail "-np 4 as 2 nodes did not use the two-level exchange"
echo -n "np1 vs np4 as 2 nodes x 2 ranks: "
compare "$(ckpt "$work/np1" 40)" "$(ckpt "$work/nodes" 40)" --rtol 1e-4 || fail "2 nodes x 2 ranks drift from world size 1"
# Resume mid-stage A (step 7) and mid-stage B (step 27), at the same world size and at others.
for cut in 7 27; do
  part="$work/cut$cut"
  mpi -np 2 "$bin" train --config "$cfg" --run "$part" --max-steps "$cut" > "$part.log" 2>&1 || { cat "$part.log"; fail "first part to step $cut"; }
  for np in 1 3; do cp -r "$part" "$part-np$np"; done
  mpi -np 2 "$bin" train --config "$cfg" --run "$part" --resume auto > "$part-resume.log" 2>&1 || { cat "$part-resume.log"; fail "resume from step $cut"; }
  stage=$([[ $cut == 7 ]] && echo "1/2 'encoder'" || echo "2/2 'head'")
  # The first stage the resumed run announces is the one it lands in.
  first=$(grep -m1 -o "stage [0-9]/2 '[a-z]*'" "$part-resume.log" || true)
  [[ "$first" == "stage $stage" ]] || { cat "$part-resume.log"; fail "resume from step $cut landed in '$first', not stage $stage"; }
  echo -n "resumed at step $cut, -np 2: "
  compare "$(ckpt "$work/np2" 40)" "$(ckpt "$part" 40)" --exact || fail "resume from step $cut is not bit-exact"
  for np in 1 3; do
    mpi -np "$np" "$bin" train --config "$cfg" --run "$part-np$np" --resume auto > "$part-np$np.log" 2>&1 || { cat "$part-np$np.log"; fail "elastic resume at -np $np"; }
    echo -n "saved at -np 2 (step $cut), resumed at -np $np: "
    compare "$(ckpt "$work/np2" 40)" "$(ckpt "$part-np$np" 40)" --rtol 1e-4 || fail "elastic resume from step $cut at -np $np drifts"
  done
done
# Lengthen the unfinished stage B on resume; refuse to change the finished stage A.
set +e
mpi -np 2 "$bin" train --config "$cfg" --run "$work/cut27" --resume "$(ckpt "$work/cut27" 30)" --set training.stages.encoder.epochs=3 > "$work/bad.log" 2>&1
code=$?
set -e
((code != 0)) || fail "changing a finished stage's length on resume should fail"
grep -q "cannot change on resume" "$work/bad.log" || { cat "$work/bad.log"; fail "no message about the finished stage"; }
mpi -np 2 "$bin" train --config "$cfg" --run "$work/cut27" --resume "$(ckpt "$work/cut27" 30)" --set training.stages.head.epochs=3 > "$work/longer.log" 2>&1 \
  || { cat "$work/longer.log"; fail "lengthening stage B"; }
[[ -d "$(ckpt "$work/cut27" 50)" ]] || fail "stage B lengthened to 3 epochs should end at step 50"
echo "stages: ok"
