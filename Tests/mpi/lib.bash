# Shared by the multi-process tests: paths, the tiny config, and small assertions.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${MVVAE_BIN:-$root/.build/debug/mvvae}"
config="$here/tiny.yaml"
work="$(mktemp -d /tmp/mvvae-mpi-test.XXXXXX)"
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$work"' EXIT
export OPENBLAS_NUM_THREADS=1

mpi() { "$root/launch/mpi" "$@"; }
newest() { ls -d "$1"/checkpoints/step-* | sort | tail -n 1; }
compare() { python3 "$here/compare_checkpoints.py" "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ckpt() { echo "$1/checkpoints/step-$(printf %09d "$2")"; }  # ckpt RUN STEP: that step's checkpoint folder
