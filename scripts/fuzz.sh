#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer + AddressSanitizer) of the readers of files users give:
# .npy, IDX/gzip, safetensors, a checkpoint's state.json, the YAML config with --set overrides, and AnnData/MuData
# files through the HDF5 C library.
#   scripts/fuzz.sh [RUNS (default 1000000)] [READER ...]   (readers: npy idx safetensors state yaml hdf5)
# Each reader starts from its committed seeds (Fuzz/corpus/READER) and grows a working corpus in
# SCRATCH/corpus/READER; a finding (crash, sanitizer report, leak, hang, runaway memory) is saved in
# SCRATCH/findings/ and fails the script. Thrown errors are correct refusals, not findings.
# SCRATCH is Fuzz/.build, or $MVVAE_FUZZ_SCRATCH (so that a long run and a smoke run can go side by side).
# MVVAE_FUZZ_JOBS=J splits each reader's RUNS over J parallel libFuzzer jobs sharing one corpus.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"
runs="${1:-1000000}"
shift || true
readers=("$@")
# hdf5 runs only when named: its first 1 000 mutations found a hang inside Debian's HDF5 1.10.8 (H5Aread of a
# string attribute on a corrupted global heap loops in H5C_protect), which no code of ours can interrupt, so it
# would stop the smoke run in launch/test at once. Its crashes and sanitizer reports in our code are looked for
# with `scripts/fuzz.sh RUNS hdf5`; its hangs are the library's.
((${#readers[@]})) || readers=(npy idx safetensors state yaml)

# -sanitize=fuzzer would link libFuzzer's main over SwiftPM's entry point, so instrument for coverage
# and link the runtime without its main; FuzzDriver calls LLVMFuzzerRunDriver. The C targets (libyaml
# inside Yams among them) are instrumented as well.
runtime="$(dirname "$(dirname "$(readlink -f "$(command -v swiftc)")")")/lib/clang"
fuzzer_lib=$(find "$runtime" -name 'libclang_rt.fuzzer_no_main-x86_64.a' -o -name 'libclang_rt.fuzzer_no_main.a' | head -n 1)
[[ -n "$fuzzer_lib" ]] || { echo "scripts/fuzz.sh: libFuzzer's runtime (libclang_rt.fuzzer_no_main) is not in the Swift toolchain at $runtime" >&2; exit 1; }
echo "== build (libFuzzer coverage + AddressSanitizer)"
scratch="$(realpath -m "${MVVAE_FUZZ_SCRATCH:-$PWD/.build}")"
swift build -q --scratch-path "$scratch" \
  -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
  -Xcc -fsanitize=fuzzer-no-link,address \
  -Xlinker "$fuzzer_lib" -Xlinker -lstdc++ 2>&1 | { grep -v "Cannot export local symbol" || true; }
bin=$(swift build --scratch-path "$scratch" --show-bin-path)

mkdir -p "$scratch/findings"
export SWIFT_BACKTRACE=enable=no   # let libFuzzer catch a trap and save the input (the backtracer would hang)
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
# (HDF5's own blocks: see Fuzz/lsan-hdf5.supp.)
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$PWD/lsan-hdf5.supp}"
status=0
for reader in "${readers[@]}"; do
  [[ -d "corpus/$reader" ]] || { echo "scripts/fuzz.sh: no reader '$reader' (readers: npy idx safetensors state yaml hdf5)" >&2; exit 2; }
  work="$scratch/corpus/$reader" seeds="$PWD/corpus/$reader"
  mkdir -p "$work"
  log="$scratch/findings/$reader.log"
  echo "== fuzz-$reader: $runs executions"
  start=$(date +%s)
  jobs="${MVVAE_FUZZ_JOBS:-1}"
  # (HDF5 files start at a few KB of superblock and headers: the AnnData seeds are up to 54 KB.)
  flags=(-max_len=$([[ $reader == hdf5 ]] && echo 65536 || echo 16384) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
         -artifact_prefix="$scratch/findings/$reader-")
  if ((jobs > 1)); then
    rm -f "$scratch"/findings/fuzz-*.log
    flags+=(-runs=$((runs / jobs)) -jobs="$jobs" -workers="$jobs")
  else
    flags+=(-runs="$runs")
  fi
  # (run from findings/: with -jobs libFuzzer writes a fuzz-N.log per job into the working folder)
  if (cd "$scratch/findings" && TMPDIR="${TMPDIR:-/tmp}" "$bin/fuzz-$reader" "${flags[@]}" "$work" "$seeds" > "$log" 2>&1) \
     && ! grep -q -E "ERROR: libFuzzer|Fatal error|ERROR: AddressSanitizer" "$log"; then
    # (with -jobs the jobs' logs are echoed into $log too)
    done_runs=$(grep -o -E "stat::number_of_executed_units: *[0-9]+" "$log" | grep -o -E "[0-9]+$" | awk '{ n += $1 } END { print n }')
    cov=$(grep -E "^#[0-9]+[[:space:]]+DONE" "$log" | grep -o -E "cov: [0-9]+" | sort -t' ' -k2 -n | tail -n 1 || true)
    echo "fuzz-$reader: ${done_runs:-?} executions in $(( $(date +%s) - start )) s ($jobs job(s)), ${cov:-cov: ?}, corpus $(ls "$work" | wc -l) inputs, no findings"
  else
    status=1
    echo "fuzz-$reader: FINDING (log $log):"
    grep -E "ERROR|SUMMARY|Fatal error|Test unit written|timeout|out-of-memory" "$log" | head -n 20
  fi
done
exit $status
