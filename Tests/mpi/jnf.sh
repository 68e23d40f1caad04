#!/usr/bin/env bash
# JNF's recipe (Tests/mpi/tiny-jnf.yaml: stage `joint` 2 epochs, then `unimodal` 2 epochs, 11 steps an
# epoch) across world sizes and resumes: -np 1, 2 and 3 agree within the invariance tolerance; the
# frozen joint model is bit-identical through stage `unimodal`; resuming mid-`joint`, at the boundary and
# mid-`unimodal` is bit-exact at the same world size, and elastic (saved at -np 2, resumed at -np 3).
# Then the same for JNF-Shared's three stages.
source "$(dirname "$0")/lib.bash"
cfg="$here/tiny-jnf.yaml"
for np in 1 2 3; do
  run="$work/np$np"
  mpi -np "$np" "$bin" train --config "$cfg" --run "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "training at -np $np"; }
  grep -q "stage 2/2 'unimodal': 2 epoch(s)" "$run.log" || { cat "$run.log"; fail "-np $np: no line for stage 'unimodal'"; }
  echo -n "-np $np: the joint model at the boundary (step 22) vs the end (step 44): "
  compare "$(ckpt "$run" 22)" "$(ckpt "$run" 44)" --exact --only joint. || fail "-np $np: stage 'unimodal' changed the frozen joint model"
done
for np in 2 3; do
  echo -n "np1 vs np$np after both stages: "
  compare "$(ckpt "$work/np1" 44)" "$(ckpt "$work/np$np" 44)" --rtol 1e-4 || fail "world size $np drifts from world size 1"
done
for cut in 7 22 27; do
  part="$work/cut$cut"
  mpi -np 2 "$bin" train --config "$cfg" --run "$part" --max-steps "$cut" > "$part.log" 2>&1 || { cat "$part.log"; fail "first part to step $cut"; }
  [[ $cut == 22 ]] && cp -r "$part" "$part-np3"
  mpi -np 2 "$bin" train --config "$cfg" --run "$part" --resume auto > "$part-resume.log" 2>&1 || { cat "$part-resume.log"; fail "resume from step $cut"; }
  echo -n "resumed at step $cut, -np 2: "
  compare "$(ckpt "$work/np2" 44)" "$(ckpt "$part" 44)" --exact || fail "resume from step $cut is not bit-exact"
done
mpi -np 3 "$bin" train --config "$cfg" --run "$work/cut22-np3" --resume auto > "$work/cut22-np3.log" 2>&1 || { cat "$work/cut22-np3.log"; fail "elastic resume at -np 3"; }
grep -q "stage 2/2 'unimodal'" "$work/cut22-np3.log" || { cat "$work/cut22-np3.log"; fail "the resume at the boundary did not enter stage 'unimodal'"; }
echo -n "saved at -np 2 at the boundary (step 22), resumed at -np 3: "
compare "$(ckpt "$work/np2" 44)" "$(ckpt "$work/cut22-np3" 44)" --rtol 1e-4 || fail "elastic resume across the boundary drifts"

# JNF-Shared: stage `projectors` (deep CCA over the global batch, 1 epoch: steps 23–33) between the two.
# -np 1, 2 and 3 agree after all three stages; the projectors are bit-identical through `unimodal`;
# resumes at its start, mid-`projectors` and at its end are bit-exact at -np 2, the last also elastic at -np 3.
shared=(--set model.variant=shared --set training.stages.projectors.epochs=1)
for np in 1 2 3; do
  run="$work/shared-np$np"
  mpi -np "$np" "$bin" train --config "$cfg" --run "$run" "${shared[@]}" > "$run.log" 2>&1 || { cat "$run.log"; fail "JNF-Shared at -np $np"; }
  grep -q "stage 2/3 'projectors'" "$run.log" || { cat "$run.log"; fail "-np $np: no line for stage 'projectors'"; }
  echo -n "JNF-Shared -np $np: the projectors at their end (step 33) vs the end (step 55): "
  compare "$(ckpt "$run" 33)" "$(ckpt "$run" 55)" --exact --only projectors. || fail "-np $np: stage 'unimodal' changed the frozen projectors"
done
for np in 2 3; do
  echo -n "JNF-Shared np1 vs np$np after the three stages: "
  compare "$(ckpt "$work/shared-np1" 55)" "$(ckpt "$work/shared-np$np" 55)" --rtol 1e-4 || fail "JNF-Shared: world size $np drifts from world size 1"
done
for cut in 22 27 33; do
  part="$work/shared-cut$cut"
  mpi -np 2 "$bin" train --config "$cfg" --run "$part" "${shared[@]}" --max-steps "$cut" > "$part.log" 2>&1 || { cat "$part.log"; fail "JNF-Shared to step $cut"; }
  [[ $cut == 33 ]] && cp -r "$part" "$part-np3"
  mpi -np 2 "$bin" train --config "$cfg" --run "$part" "${shared[@]}" --resume auto > "$part-resume.log" 2>&1 || { cat "$part-resume.log"; fail "JNF-Shared resume from step $cut"; }
  echo -n "JNF-Shared resumed at step $cut, -np 2: "
  compare "$(ckpt "$work/shared-np2" 55)" "$(ckpt "$part" 55)" --exact || fail "JNF-Shared resume from step $cut is not bit-exact"
done
mpi -np 3 "$bin" train --config "$cfg" --run "$work/shared-cut33-np3" "${shared[@]}" --resume auto > "$work/shared-cut33-np3.log" 2>&1 \
  || { cat "$work/shared-cut33-np3.log"; fail "JNF-Shared elastic resume at -np 3"; }
echo -n "JNF-Shared saved at -np 2 after the projectors (step 33), resumed at -np 3: "
compare "$(ckpt "$work/shared-np2" 55)" "$(ckpt "$work/shared-cut33-np3" 55)" --rtol 1e-4 || fail "JNF-Shared elastic resume drifts"
echo "jnf: ok"
