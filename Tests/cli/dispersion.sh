#!/usr/bin/env bash
# The negative binomial's dispersions are learnt: counts simulated from a known NB latent model
# (Tests/python/nb_simulation.py: 2 000 cells, RNA-like and protein-like views from a 2-d latent, θ 0.5 / 2 / 8
# per gene) trained with PoE; the learnt θ match the truth within the tolerance nb_simulation.py states.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MVVAE_BIN:-$root/.build/debug/mvvae}"
work="$(mktemp -d /tmp/mvvae-dispersion-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
python3 "$root/Tests/python/nb_simulation.py" "$work" || fail "simulating the counts (python3 needs numpy)"
cat > "$work/nb.yaml" <<YAML
name: nb-recovery
seed: 4
data: {source: npy, views: [$work/rna.npy, $work/protein.npy], validationFraction: 0, testFraction: 0.1}
model: {type: aggregated, aggregator: poe, latent: 2, encoderHidden: [32], featureSize: 16, decoderHidden: [32],
        likelihood: negativeBinomial, encoder: {input: log1p}}
training: {epochs: 100, batchSize: 100, learningRate: 0.01, validate: false, logEvery: 100000}
YAML
"$bin" train --config "$work/nb.yaml" --run "$work/run" --progress lines > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
python3 "$root/Tests/python/nb_simulation.py" check "$work/run" "$work" || fail "the learnt dispersions are not the simulated ones"
echo "dispersion: a negative binomial trained on counts simulated with θ 0.5 / 2 / 8 learns them back (nb_simulation.py's tolerance): ok"
