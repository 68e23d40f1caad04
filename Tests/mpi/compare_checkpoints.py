#!/usr/bin/env python3
"""Compares the parameters of two checkpoints (model.safetensors files or checkpoint folders).

  compare_checkpoints.py A B --exact          every tensor bit-identical
  compare_checkpoints.py A B --rtol 1e-4      max |a-b| / max|a| over all parameters ≤ rtol
  --only PREFIX                               compare only the tensors whose names start with PREFIX
Prints the measured difference; exits 1 when the check fails. Adam moments are skipped.
"""
import argparse
import os
import sys

import numpy as np
from safetensors.numpy import load_file


def load(path, only):
    if os.path.isdir(path):
        path = os.path.join(path, "model.safetensors")
    return {k: v for k, v in load_file(path).items() if not k.startswith("adam.") and k.startswith(only)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--exact", action="store_true")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    a, b = load(args.a, args.only), load(args.b, args.only)
    if not a:
        print(f"no tensors named {args.only}*")
        return 1
    if sorted(a) != sorted(b):
        print(f"different tensors: {sorted(set(a) ^ set(b))}")
        return 1
    if args.exact:
        bad = [k for k in a if a[k].shape != b[k].shape or not np.array_equal(a[k].view(np.uint32), b[k].view(np.uint32))]
        print(f"bit-identical tensors: {len(a) - len(bad)}/{len(a)}" + (f"; differing: {bad[:5]}" if bad else ""))
        return 1 if bad else 0
    diff = max(float(np.max(np.abs(a[k].astype(np.float64) - b[k]))) for k in a)
    scale = max(float(np.max(np.abs(a[k]))) for k in a)
    rel = diff / scale if scale > 0 else diff
    print(f"max |a-b| = {diff:.3e}, max |a| = {scale:.3e}, relative = {rel:.3e} (tolerance {args.rtol:.1e})")
    return 0 if rel <= args.rtol else 1


if __name__ == "__main__":
    sys.exit(main())
