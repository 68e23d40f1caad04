#!/usr/bin/env bash
# kill -9 at random moments of a training run that checkpoints every epoch (issue 14's fault suite):
# each trial starts the run, kills it with SIGKILL after a random delay (during data loading, a step,
# a checkpoint write or pruning), then resumes with --resume auto until it finishes; the result must be
# bit-identical to an uninterrupted run, and every checkpoint left behind must pass its checksums.
#   Tests/faults/kill9.sh [TRIALS (default 8; the issue's matrix: 50)] [SEED]
source "$(dirname "$0")/../mpi/lib.bash"
trials="${1:-${MVVAE_FAULT_TRIALS:-8}}"
RANDOM="${2:-7}"
run=(--config "$config" --set training.epochs=6 --set training.keepCheckpoints=3 --progress lines)   # 120 steps, a checkpoint each 20
"$bin" train "${run[@]}" --run "$work/full" > "$work/full.log" 2>&1 || { cat "$work/full.log"; fail "uninterrupted run"; }
start=$(date +%s%N); "$bin" train "${run[@]}" --run "$work/timing" > /dev/null 2>&1; span=$(( ($(date +%s%N) - start) / 1000000 ))
killed_during=0
for trial in $(seq 1 "$trials"); do
  dir="$work/trial$trial"
  delay_ms=$(( RANDOM % (span + 200) ))
  "$bin" train "${run[@]}" --run "$dir" > "$dir.log" 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then killed_during=$((killed_during + 1)); fi
  wait "$pid" 2>/dev/null || true
  # Every checkpoint folder that exists is whole: both checksums hold.
  python3 - "$dir" <<'PY' || fail "trial $trial: a checkpoint left by kill -9 is damaged"
import json, os, sys, zlib
root = os.path.join(sys.argv[1], "checkpoints")
for name in sorted(os.listdir(root)) if os.path.isdir(root) else []:
    if not name.startswith("step-") or "." in name:
        continue
    folder = os.path.join(root, name)
    raw = open(os.path.join(folder, "state.json"), "rb").read()
    assert int(open(os.path.join(folder, "state.json.crc32")).read(), 16) == zlib.crc32(raw), f"{folder}: state.json"
    state = json.loads(raw)
    assert zlib.crc32(open(os.path.join(folder, state["tensorFile"]), "rb").read()) == state["tensorCRC32"], f"{folder}: tensors"
PY
  for attempt in 1 2 3; do
    "$bin" train "${run[@]}" --run "$dir" --resume auto > "$dir.resume.log" 2>&1 && break
    [[ $attempt -lt 3 ]] || { cat "$dir.resume.log"; fail "trial $trial: resume after kill -9 at ${delay_ms} ms"; }
  done
  grep -q "^done: 120 steps" "$dir.resume.log" || { cat "$dir.resume.log"; fail "trial $trial: the resumed run did not finish"; }
  compare "$(newest "$work/full")" "$(newest "$dir")" --exact > /dev/null || fail "trial $trial (kill -9 at ${delay_ms} ms): the resumed run differs from the uninterrupted one"
  leftovers=$(find "$dir/checkpoints" -maxdepth 1 -name '.*' | wc -l)
  [[ $leftovers -eq 0 ]] || fail "trial $trial: $leftovers unfinished save(s) left in checkpoints/"
done
echo "kill -9: $trials trials ($killed_during killed mid-run, over a ${span} ms run), every resume bit-identical, every checkpoint whole: ok"
