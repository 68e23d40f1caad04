#!/usr/bin/env bash
# TensorBoard event files and curves.png: a tiny run writes <run>/tensorboard/events.out.tfevents.*, and Python's
# `tensorboard` package (test-only, installed by launch/setup) reads every scalar back with the values
# of metrics.csv; a resumed run adds a second file, read together with the first.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MVVAE_BIN:-$root/.build/debug/mvvae}"
work="$(mktemp -d /tmp/mvvae-tensorboard-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT
run=(--config "$root/Tests/mpi/tiny.yaml" --set training.epochs=3 --set training.validate=true --progress lines)
"$bin" train "${run[@]}" --run "$work/run" --max-steps 30 > /dev/null
"$bin" train "${run[@]}" --run "$work/run" --resume auto > /dev/null
python3 - "$work/run" <<'PY'
import csv, glob, sys
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
run = sys.argv[1]
files = sorted(glob.glob(f"{run}/tensorboard/events.out.tfevents.*"))
assert len(files) == 2, files
acc = EventAccumulator(f"{run}/tensorboard"); acc.Reload()
tags = set(acc.Tags()["scalars"])
want = {"train/loss", "train/reconstruction", "train/kl", "validation/loss", "validation/reconstruction", "validation/kl",
        "beta", "learning_rate", "samples_per_second", "exchange_share", "stage", "epoch", "step/loss", "step/samples_per_second"}
assert want <= tags, want - tags
rows = list(csv.DictReader(open(f"{run}/metrics.csv")))
assert len(rows) == 3, rows
for column, tag in [("train_loss", "train/loss"), ("train_kl", "train/kl"), ("validation_loss", "validation/loss"), ("beta", "beta")]:
    got = {e.step: e.value for e in acc.Scalars(tag)}
    for r in rows:
        step, value = int(r["step"]), float(r[column])
        assert step in got, (tag, step, sorted(got))
        assert abs(got[step] - value) <= 1e-4 * max(1, abs(value)), (tag, step, got[step], value)
steps = [e.step for e in acc.Scalars("step/loss")]
assert steps == sorted(steps) and steps[0] == 5 and steps[-1] == 60, steps
# curves.png, written when training stops: a valid greyscale PNG of 640×400 with dark curve pixels.
import struct, zlib
png = open(f"{run}/curves.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
w, h, depth, colour = struct.unpack(">IIBB", png[16:26])
assert (w, h, depth, colour) == (640, 400, 8, 0), (w, h, depth, colour)
pos, idat = 8, b""
while pos < len(png):
    n, kind = struct.unpack(">I4s", png[pos:pos + 8])
    assert zlib.crc32(png[pos + 4:pos + 8 + n]) == struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0], kind
    if kind == b"IDAT": idat += png[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
assert len(raw) == h * (w + 1), len(raw)
dark = sum(1 for i, b in enumerate(raw) if i % (w + 1) and b < 64)
assert dark > 1000, dark
print(f"tensorboard: {len(tags)} scalar tags read back by the tensorboard package, equal to metrics.csv over {len(rows)} epochs, two files after a resume; curves.png valid: ok")
PY
