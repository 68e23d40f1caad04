#!/usr/bin/env bash
# Sparse count data from a MuData file keeps the multi-process properties: a PoE with negative binomials
# (log1p encoders) on a partially paired .h5mu (a CSR RNA view of 300 genes at 5 % held sparse, whose first
# layer takes the sparse path, a dense protein view, views missing for some cells) ends with the same parameters at world sizes 1, 2 and 3 (to float summation order),
# a resume mid-run at -np 2 is bit-exact, and that checkpoint resumed at -np 3 (elastic) agrees.
source "$(dirname "$0")/lib.bash"
python3 "$here/../python/anndata_files.py" "$work" || fail "writing the .h5mu file (python3 needs anndata, h5py and mudata: run launch/setup)"
cat > "$work/counts.yaml" <<YAML
name: mpi-counts
seed: 9
data: {source: mudata, file: $work/wide.h5mu, views: [rna, prot], validationFraction: 0, testFraction: 0.2}
model: {type: aggregated, aggregator: poe, bound: masked, latent: 2, encoderHidden: [6], featureSize: 6, decoderHidden: [6],
        likelihood: negativeBinomial, encoder: {input: log1p}}
training: {epochs: 3, batchSize: 4, learningRate: 0.01, validate: false, logEvery: 1000, checkpointEveryEpochs: 1, keepCheckpoints: 5}
YAML
cfg="$work/counts.yaml"
for np in 1 2 3; do
  run="$work/counts-np$np"
  mpi -np "$np" "$bin" train --config "$cfg" --run "$run" > "$run.log" 2>&1 || { cat "$run.log"; fail "counts: training at -np $np"; }
done
for np in 2 3; do
  echo -n "counts np1 vs np$np: "
  compare "$(newest "$work/counts-np1")" "$(newest "$work/counts-np$np")" --rtol 1e-4 || fail "counts: world size $np drifts from world size 1"
done
run="$work/counts-cut"
mpi -np 2 "$bin" train --config "$cfg" --run "$run" --max-steps 5 > "$run.log" 2>&1 || { cat "$run.log"; fail "counts: first part"; }
cp -r "$run" "$work/counts-elastic"
mpi -np 2 "$bin" train --config "$cfg" --run "$run" --resume auto > "$run-resume.log" 2>&1 || { cat "$run-resume.log"; fail "counts: resume"; }
echo -n "counts resumed at step 5, -np 2: "
compare "$(newest "$work/counts-np2")" "$(newest "$run")" --exact || fail "counts: resume at step 5 is not bit-exact"
mpi -np 3 "$bin" train --config "$cfg" --run "$work/counts-elastic" --resume auto > "$work/counts-elastic.log" 2>&1 || {
  cat "$work/counts-elastic.log"
  fail "counts: elastic resume at -np 3"
}
echo -n "counts resumed at step 5 on 3 ranks (saved by 2): "
compare "$(newest "$work/counts-np2")" "$(newest "$work/counts-elastic")" --rtol 1e-4 || fail "counts: elastic resume drifts"
echo "sparse counts from a MuData file across world sizes: ok"
