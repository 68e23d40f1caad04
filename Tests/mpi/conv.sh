#!/usr/bin/env bash
# Convolutional networks keep the multi-process properties: one epoch of a conv PoE on PolyFashion (colour
# images computed as batches read them) at world sizes 1, 2
# and 3 ends with the same parameters (to float summation order), a resume mid-epoch at -np 2 is
# bit-exact, and a resume of that checkpoint at -np 3 (elastic) continues to the same parameters; a conv
# JPVAE, a CoVAE with ResNet networks through both stages (deep CCA folded into the encoders' last layers) and a conv
# JNF-Shared through its three stages (conv projectors) agree at -np 1 and 2.
source "$(dirname "$0")/lib.bash"
cfg="$here/tiny-conv.yaml"
for np in 1 2 3; do
  run="$work/conv-np$np"
  mpi -np "$np" "$bin" train --config "$cfg" --run "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "conv: training at -np $np"; }
done
for np in 2 3; do
  echo -n "conv np1 vs np$np: "
  compare "$(newest "$work/conv-np1")" "$(newest "$work/conv-np$np")" --rtol 1e-4 || fail "conv: world size $np drifts from world size 1"
done
run="$work/conv-cut"
mpi -np 2 "$bin" train --config "$cfg" --run "$run" --max-steps 6 > "$run.log" 2>&1 || { cat "$run.log"; fail "conv: first part"; }
cp -r "$run" "$work/conv-elastic"
mpi -np 2 "$bin" train --config "$cfg" --run "$run" --resume auto > "$run-resume.log" 2>&1 || { cat "$run-resume.log"; fail "conv: resume"; }
echo -n "conv resumed at step 6, -np 2: "
compare "$(newest "$work/conv-np2")" "$(newest "$run")" --exact || fail "conv: resume at step 6 is not bit-exact"
mpi -np 3 "$bin" train --config "$cfg" --run "$work/conv-elastic" --resume auto > "$work/conv-elastic.log" 2>&1 || {
  cat "$work/conv-elastic.log"
  fail "conv: elastic resume at -np 3"
}
echo -n "conv resumed at step 6 on 3 ranks (saved by 2): "
compare "$(newest "$work/conv-np2")" "$(newest "$work/conv-elastic")" --rtol 1e-4 || fail "conv: elastic resume drifts"
for np in 1 2; do
  run="$work/conv-jpvae-np$np"
  mpi -np "$np" "$bin" train --config "$here/tiny-conv-jpvae.yaml" --run "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "conv jpvae at -np $np"; }
done
echo -n "conv jpvae np1 vs np2: "
compare "$(newest "$work/conv-jpvae-np1")" "$(newest "$work/conv-jpvae-np2")" --rtol 1e-4 || fail "conv jpvae: world size 2 drifts"
# CoVAE with the ResNet networks of its App. D (residual blocks on the smallest maps).
resnet=(--set model.encoder.type=resnet --set "model.encoder.channels=[4, 8]" --set model.encoder.residualChannels=2
  --set model.decoder.type=resnet --set "model.decoder.channels=[8, 4]" --set model.decoder.residualChannels=2)
for np in 1 2; do
  run="$work/conv-covae-np$np"
  mpi -np "$np" "$bin" train --config "$here/tiny-covae.yaml" --run "$run" "${resnet[@]}" > "$run.log" 2>&1 || { cat "$run.log"; fail "resnet covae at -np $np"; }
done
echo -n "resnet covae np1 vs np2: "
compare "$(newest "$work/conv-covae-np1")" "$(newest "$work/conv-covae-np2")" --rtol 1e-4 || fail "conv covae: world size 2 drifts"
for np in 1 2; do
  run="$work/conv-jnf-np$np"
  conv=(--set model.encoder.type=conv --set "model.encoder.channels=[4, 8]" --set model.decoder.type=conv --set "model.decoder.channels=[8, 4]")
  mpi -np "$np" "$bin" train --config "$here/tiny-jnf.yaml" --run "$run" "${conv[@]}" --set model.variant=shared \
    --set training.stages.projectors.epochs=1 > "$run.log" 2>&1 || { cat "$run.log"; fail "conv jnf at -np $np"; }
done
echo -n "conv jnf-shared np1 vs np2: "
compare "$(newest "$work/conv-jnf-np1")" "$(newest "$work/conv-jnf-np2")" --rtol 1e-4 || fail "conv jnf: world size 2 drifts"
echo "conv networks across world sizes: ok"
