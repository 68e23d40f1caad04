#!/usr/bin/env bash
# A throwaway virtualenv with PyTorch's CPU build and MultiVae 1.0.3, for the side-by-side benchmarks only
# (nothing of the product imports it; the JPVAE and CoVAE peers, jpvae_torch.py and covae_torch.py, need torch alone).
# `pip install multivae` would replace the CPU torch with a CUDA one, so torch goes in
# first and MultiVae without its dependencies, then those it needs around torch.
# torchvision is left out: its PyPI wheels do not load against the CPU torch, and multivae_bench.py puts
# a stand-in in its place (MultiVae uses it only for data sets, FID and image grids).
#   scripts/peers/setup.sh [VENV]       (default: /tmp/mvvae-peers-venv; prints the folder)
set -euo pipefail
venv="${1:-/tmp/mvvae-peers-venv}"
if [[ ! -x "$venv/bin/python" ]]; then python3 -m venv "$venv"; fi
py="$venv/bin/python"
if ! "$py" -c 'import torch, sys; sys.exit(0 if torch.__version__.startswith("2.13.0") else 1)' 2>/dev/null; then
  wheel=$(ls /opt/wheels/torch-2.13.0+cpu-*.whl 2>/dev/null | head -n 1 || true)
  "$py" -m pip install -q "${wheel:-torch==2.13.0+cpu}" >&2
fi
if ! "$py" -c 'import multivae' 2>/dev/null; then
  "$py" -m pip install -q --no-deps multivae==1.0.3 >&2
  "$py" -m pip install -q pythae cloudpickle 'pydantic>=2' scikit-learn scipy tqdm pandas nltk torchmetrics matplotlib numpy >&2
fi
"$py" -c 'import torch; assert "+cpu" in torch.__version__, f"torch {torch.__version__} is not the CPU build"' >&2
echo "$venv"
