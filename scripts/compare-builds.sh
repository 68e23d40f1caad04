#!/usr/bin/env bash
# Two builds of mvvae must train alike: each trains the multi-process tests' tiny configs (every family,
# stages included) and three mixture configs with missing views at batch 8 (components skipped in many
# steps), at -np 1 and -np 2, and the final checkpoints' parameters and Adam moments are compared bit for
# bit. For a refactor that must not change a trajectory; BENCHMARKS.md ("The library in layers") used it.
#   scripts/compare-builds.sh OLD_BIN NEW_BIN
# Tensors are matched by name; a name the old build lacks is looked up under its former name from before
# every family named its views view<k> (modality<k-1> in aggregated runs, modality<k> in CoVAE and JNF).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
old="$1" new="$2"
work="$(mktemp -d /tmp/mvvae-compare-builds.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1
for variant in "mopoe-missing|mopoe|masked|everyComponent" "mopoe-oneperrow|mopoe|masked|onePerRow" "moe-mixture|moe|mixture|everyComponent"; do
  IFS='|' read -r name aggregator bound sampling <<< "$variant"
  cat > "$work/$name.yaml" <<YAML
name: compare-$name
seed: 41
data: {source: linear-gaussian, modalities: 3, latentDimension: 2, dimensions: [6, 5, 4], samples: 400, missingRate: 0.4}
model: {type: aggregated, aggregator: $aggregator, bound: $bound, mixtureSampling: $sampling, latent: 2, encoderHidden: [8], featureSize: 8, decoderHidden: [], likelihood: gaussian}
training: {epochs: 2, batchSize: 8, learningRate: 0.003, validate: true, logEvery: 100}
YAML
done
configs=()
for c in tiny tiny-aggregated tiny-covae tiny-jnf tiny-staged; do configs+=("$root/Tests/mpi/$c.yaml"); done
configs+=("$work/mopoe-missing.yaml" "$work/mopoe-oneperrow.yaml" "$work/moe-mixture.yaml")
for config in "${configs[@]}"; do
  base=$(basename "$config" .yaml)
  for side in old new; do
    bin=$old; [[ $side == new ]] && bin=$new
    "$bin" train --config "$config" --run "$work/$base-$side-1" --progress lines > "$work/$base-$side-1.log" 2>&1 \
      || { cat "$work/$base-$side-1.log"; echo "FAIL: $side build, $base, -np 1" >&2; exit 1; }
    "$root/launch/mpi" -np 2 "$bin" train --config "$config" --run "$work/$base-$side-2" --progress lines > "$work/$base-$side-2.log" 2>&1 \
      || { cat "$work/$base-$side-2.log"; echo "FAIL: $side build, $base, -np 2" >&2; exit 1; }
  done
done
python3 - "$work" "${configs[@]}" <<'PY'
import glob, json, os, re, struct, sys
import numpy as np
work, configs = sys.argv[1], sys.argv[2:]
def load(run):
    path = sorted(glob.glob(f"{run}/checkpoints/step-*"))[-1]
    data = open(f"{path}/model.safetensors", "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    return os.path.basename(path), {k: np.frombuffer(data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], np.uint32)
                                    for k, v in header.items() if k != "__metadata__"}
def former(name, zero_based):
    """The name before views were named alike: aggregated runs counted modalities from 0, CoVAE and JNF from 1."""
    prefix = next((p for p in ("adam.m.", "adam.v.") if name.startswith(p)), "")
    rest = name[len(prefix):]
    if not zero_based:
        return prefix + ".".join(re.sub(r"^view(\d+)$", r"modality\1", p) for p in rest.split("."))
    m = re.match(r"view(\d+)(\..*)", rest)
    if m: return prefix + f"modality{int(m[1]) - 1}{m[2]}"
    m = re.match(r"aggregator\.view(\d+)\.(expert|element|embedding)(.*)", rest)
    if m: return prefix + f"aggregator.{m[2]}{int(m[1]) - 1}{m[3]}"
    return prefix + rest
failed = False
for config in configs:
    base = os.path.basename(config)[:-5]
    for np_ in ("1", "2"):
        (so, old), (sn, new) = load(f"{work}/{base}-old-{np_}"), load(f"{work}/{base}-new-{np_}")
        differing, unmatched = 0, []
        zero_based = any(re.match(r"(adam\.[mv]\.)?modality0\.", k) for k in old)
        for name, v in new.items():
            o = old.get(name if name in old else former(name, zero_based))
            o = o if o is not None and o.shape == v.shape else None
            if o is None: unmatched.append(name); continue
            differing += int((o != v).sum())
        ok = differing == 0 and not unmatched and so == sn and len(old) == len(new)
        failed |= not ok
        print(f"{base} -np {np_}: {len(new)} tensors, {len(unmatched)} unmatched, {differing} coordinates of other bits, "
              f"checkpoint {sn} (old {so}): {'same' if ok else 'DIFFERENT'}")
sys.exit(1 if failed else 0)
PY
