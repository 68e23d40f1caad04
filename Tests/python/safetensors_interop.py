"""Interop helper for SafeTensorsInteropTests: the reference `safetensors` package reads what the
Swift writer wrote, and writes files the Swift reader must load.

  describe PATH   print {"metadata": {...}, "tensors": {name: {dtype, shape, sum, values}}} as JSON
  write PATH      write the fixed tensors below with metadata {"source": "python", "note": "é"}

Exit status 3 with a message when numpy or safetensors cannot be imported.
"""
import json
import sys

try:
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file
except ImportError as e:
    print(f"cannot import {e.name}: run launch/setup (it pip-installs numpy and safetensors)", file=sys.stderr)
    sys.exit(3)


def describe(path):
    tensors = load_file(path)
    with safe_open(path, framework="np") as f:
        metadata = f.metadata() or {}
    out = {}
    for name, arr in tensors.items():
        wide = arr.astype(np.float64)
        out[name] = {
            "dtype": str(arr.dtype),
            "shape": list(arr.shape),
            "sum": float(wide.sum()),
            # float64 holds every float32 exactly, so the Swift side can compare bit for bit.
            "values": wide.ravel().tolist(),
        }
    print(json.dumps({"metadata": metadata, "tensors": out}))


def write(path):
    tensors = {
        "weight": (np.arange(12, dtype=np.float32).reshape(3, 4) * 0.25 - 1.0),
        "bias": np.array([1.5, -2.25, 3e-8], dtype=np.float32),
        "scalar": np.array(7.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
        "double": np.array([[0.1, -0.2], [1e10, 2.0]], dtype=np.float64),
        "long": np.array([-3, 0, 1 << 40], dtype=np.int64),
        "int": np.array([-7, 9], dtype=np.int32),
        "byte": np.array([0, 1, 255], dtype=np.uint8),
    }
    save_file(tensors, path, metadata={"source": "python", "note": "\u00e9"})


if __name__ == "__main__":
    command, path = sys.argv[1], sys.argv[2]
    {"describe": describe, "write": write}[command](path)
