# Shared by the results drivers: train one config with a seed into runs/, evaluate it, skip runs that
# already have an evaluation. Source it, set EPOCHS, BIN (and optionally LR), then call
# `run_all JOBS < list`, where each input line is "CONFIG_STEM SEED [RUN_SUFFIX KEY=VALUE...]": the
# optional suffix names a variant of the config (runs/STEM-SUFFIX-e…), whose KEY=VALUE pairs go to --set.
set -euo pipefail
export OPENBLAS_NUM_THREADS=1
mkdir -p runs

one() {  # one CONFIG_STEM SEED [RUN_SUFFIX KEY=VALUE...]
  local stem="$1" seed="$2" run="runs/$1-e$EPOCHS-s$2"
  local extra=()
  if [[ $# -gt 2 ]]; then
    run="runs/$1-$3-e$EPOCHS-s$2"
    for kv in "${@:4}"; do extra+=(--set "$kv"); done
  fi
  if [[ ! -f "$run/evaluation.json" ]]; then
    rm -rf "$run"
    [[ -n "${LR:-}" ]] && extra+=(--set training.learningRate="$LR")
    "$BIN" train --config "configs/$stem.yaml" --run "$run" --set seed="$seed" --set training.epochs="$EPOCHS" "${extra[@]}" \
      --progress lines > "$run.train.log" 2>&1 || { echo "training $run failed (see $run.train.log)"; return 1; }
    # A run stopped by a signal also exits 0: evaluate only a run that finished.
    grep -q "^done:" "$run.train.log" || { echo "training $run did not finish (see $run.train.log)"; return 1; }
    "$BIN" evaluate --run "$run" > "$run.eval.log" 2>&1 || { echo "evaluating $run failed (see $run.eval.log)"; return 1; }
  fi
  echo "done: $run"
}
export -f one
export EPOCHS BIN LR

run_all() {  # run_all JOBS  (reads "CONFIG_STEM SEED" lines)
  xargs -P "$1" -L 1 bash -c 'one "$@"' one
}
