#!/usr/bin/env bash
# The checkpoint corruption matrix (issue 14's fault suite): the newest of a run's checkpoints is damaged
# one way at a time — truncated, a byte or a bit flipped in either file, a header edited with every CRC
# made consistent again, a dtype or a shape changed, non-finite weights, a file missing — and each time
# `--resume PATH` refuses it naming the file, and `--resume auto` names it, skips it, falls back to the
# previous checkpoint and ends bit-identical to an uninterrupted run.
source "$(dirname "$0")/../mpi/lib.bash"
run=(--config "$config" --set training.epochs=3 --set training.keepCheckpoints=3 --progress lines)   # 60 steps, a checkpoint each 20
"$bin" train "${run[@]}" --run "$work/full" > "$work/full.log" 2>&1 || { cat "$work/full.log"; fail "uninterrupted run"; }
"$bin" train "${run[@]}" --run "$work/base" --max-steps 40 > /dev/null 2>&1 || fail "the run to damage"
checkpoints=("$work"/base/checkpoints/step-*)
[[ ${#checkpoints[@]} -eq 2 ]] || fail "expected checkpoints at steps 20 and 40, found ${checkpoints[*]}"
older=$(basename "${checkpoints[0]}") newer=$(basename "${checkpoints[1]}")

# damage KIND FOLDER: one edit of the checkpoint in FOLDER. The "consistent" edits rewrite the CRCs,
# so that only the model-fit checks can catch them.
damage() {
  python3 - "$1" "$2" <<'PY'
import json, os, struct, sys, zlib
kind, folder = sys.argv[1], sys.argv[2]
tensors, state_path, crc_path = (os.path.join(folder, n) for n in ("model.safetensors", "state.json", "state.json.crc32"))
def read(p): return open(p, "rb").read()
def write(p, b): open(p, "wb").write(b)
def flip(p, offset, mask):
    b = bytearray(read(p)); b[offset] ^= mask; write(p, bytes(b))
def rewrite_tensors(edit):
    # Parse the header, let `edit` change it (and the data), write both back with every CRC consistent.
    b = read(tensors); n = struct.unpack("<Q", b[:8])[0]
    header, data = json.loads(b[8:8 + n]), bytearray(b[8 + n:])
    edit(header, data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    blob = struct.pack("<Q", len(text)) + text + bytes(data)
    write(tensors, blob)
    state = json.loads(read(state_path)); state["tensorCRC32"] = zlib.crc32(blob)
    raw = json.dumps(state).encode(); write(state_path, raw); write(crc_path, b"%08x\n" % zlib.crc32(raw))
def first(header): return next(k for k in header if k != "__metadata__")
size = os.path.getsize(tensors)
if kind == "tensors-truncated": write(tensors, read(tensors)[: size // 2])
elif kind == "tensors-empty": write(tensors, b"")
elif kind == "tensors-byte-flip": flip(tensors, size - 1000, 0xFF)
elif kind == "tensors-bit-flip-header": flip(tensors, 20, 0x04)
elif kind == "tensors-missing": os.remove(tensors)
elif kind == "state-truncated": write(state_path, read(state_path)[:100])
elif kind == "state-byte-flip": flip(state_path, 50, 0x5A)
elif kind == "state-bit-flip": flip(state_path, len(read(state_path)) // 2, 0x01)
elif kind == "state-missing": os.remove(state_path)
elif kind == "state-crc-missing": os.remove(crc_path)
elif kind == "state-crc-edited": write(crc_path, b"%08x\n" % (int(read(crc_path), 16) ^ 1))
elif kind == "header-renamed":
    def edit(h, d): h["renamed.weight"] = h.pop(first(h))
    rewrite_tensors(edit)
elif kind == "header-dtype-i32":
    def edit(h, d): h[first(h)]["dtype"] = "I32"
    rewrite_tensors(edit)
elif kind == "header-shape":
    def edit(h, d):  # the same bytes seen as one long vector
        t = h[first(h)]; n = 1
        for s in t["shape"]: n *= s
        t["shape"] = [n]
    rewrite_tensors(edit)
elif kind == "header-offsets":
    def edit(h, d): h[first(h)]["data_offsets"][1] += 4
    rewrite_tensors(edit)
elif kind == "weights-nan":
    def edit(h, d):
        begin = h[first(h)]["data_offsets"][0]; d[begin:begin + 4] = struct.pack("<f", float("nan"))
    rewrite_tensors(edit)
elif kind == "weights-inf":
    def edit(h, d):
        begin = h[first(h)]["data_offsets"][0]; d[begin + 4:begin + 8] = struct.pack("<f", float("inf"))
    rewrite_tensors(edit)
else: sys.exit(f"unknown damage {kind}")
PY
}

kinds=(tensors-truncated tensors-empty tensors-byte-flip tensors-bit-flip-header tensors-missing
       state-truncated state-byte-flip state-bit-flip state-missing state-crc-missing state-crc-edited
       header-renamed header-dtype-i32 header-shape header-offsets weights-nan weights-inf)
for kind in "${kinds[@]}"; do
  dir="$work/$kind"
  cp -r "$work/base" "$dir"
  bad="$dir/checkpoints/$newer"
  damage "$kind" "$bad" || fail "$kind: could not apply the damage"
  # Asked for by path, the damaged checkpoint is refused with its folder or file named; nothing moves.
  if "$bin" train "${run[@]}" --run "$dir" --resume "$bad" > "$dir.path.log" 2>&1; then
    cat "$dir.path.log"; fail "$kind: --resume PATH accepted the damaged checkpoint"
  fi
  grep -q "$bad" "$dir.path.log" || { cat "$dir.path.log"; fail "$kind: the error does not name the damaged checkpoint"; }
  grep -q "Fatal error\|Swift runtime failure\|Backtrace" "$dir.path.log" && { cat "$dir.path.log"; fail "$kind: a crash instead of an error"; }
  [[ -d "$dir/checkpoints/$older" && -d "$bad" ]] || fail "$kind: a refused resume moved checkpoints"
  # --resume auto names it, skips it, resumes from step 20 and ends where the uninterrupted run ends.
  "$bin" train "${run[@]}" --run "$dir" --resume auto > "$dir.auto.log" 2>&1 || { cat "$dir.auto.log"; fail "$kind: --resume auto did not fall back"; }
  grep -q "resume: skipping $bad" "$dir.auto.log" || { cat "$dir.auto.log"; fail "$kind: --resume auto did not name the damaged checkpoint"; }
  grep -q "resum.*$older" "$dir.auto.log" || { cat "$dir.auto.log"; fail "$kind: --resume auto did not resume from $older"; }
  grep -q "^done: 60 steps" "$dir.auto.log" || { cat "$dir.auto.log"; fail "$kind: the resumed run did not finish"; }
  compare "$(newest "$work/full")" "$(newest "$dir")" --exact > /dev/null || fail "$kind: the fallen-back run differs from the uninterrupted one"
done
echo "checkpoint corruption matrix: ${#kinds[@]} kinds of damage, each refused by --resume PATH with the file named and skipped by --resume auto, every fallback bit-identical: ok"
