#!/usr/bin/env bash
# The fuzz suite's short form for launch/test: every reader's fuzz target built with libFuzzer and
# AddressSanitizer and run over its seeds plus a few thousand mutations. The full run (10^6 executions
# per reader) is scripts/fuzz.sh with no arguments.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
exec "$root/scripts/fuzz.sh" "${MVVAE_FUZZ_RUNS:-3000}"
