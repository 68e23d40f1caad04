#!/usr/bin/env bash
# Issue 16's end-to-end view: `mvvae train` against MultiVae's own trainer (multivae_train.py: BaseTrainer,
# BaseTrainerConfig, MultimodalBaseDataset) for the same number of epochs, then the test log p(x1, x2) of
# both after those epochs, by the same estimator. Per family and seed, interleaved (ours, theirs, …), one
# thread each, the same data (Fashion-MNIST top/bottom halves binarised at 0.5, mvvae's 50 000 training and
# 10 000 validation rows, validated every epoch on both sides), layer sizes (multivae_bench.py's
# halves_model), batch 128, Adam at 1e-3:
#   poe    MultiVae's MVAE without subsampling    configs/aggregated-fashion-halves-poe.yaml
#   mopoe  MultiVae's MoPoE                       configs/aggregated-fashion-halves-mopoe.yaml, both of our
#                                                  estimators (model.mixtureSampling=everyComponent|onePerRow)
# Epoch time: the training loop of one epoch, without validation and checkpoints (ours: `seconds` in the
# run's metrics.jsonl; theirs: the trainer's hooks, on_train_step_begin to the last on_train_step_end).
# Total: the whole training command's wall time (start-up, data, every epoch with its validation, our
# per-epoch checkpoints, their best-model copies and final save), with its CPU time (user + sys) beside it:
# wall well above CPU means the host was busy. Test log p(x): `mvvae evaluate --no-classifiers --set
# data.testLimit=N` for ours, multivae_train.py evaluate for theirs: 100 draws from the model's own
# q(z | x1, x2) per row, log-mean-exp, mean over the first N test rows (default 2000), the draws keyed as
# mvvae's (Philox by seed, draw and row). After each of our evaluations `multivae_train.py check`
# re-estimates our checkpoint with the Python estimator that scores MultiVae's models (column "check"); it
# must equal mvvae's figure to float rounding (and, for the first run, checks our split is reproduced).
# Prints a Markdown table, then each run's per-epoch times (and MultiVae's Adam subnormal counts).
#   scripts/peers/end_to_end.sh [EPOCHS] [SEEDS…]      (default 5 epochs, seed 0)
#   e.g. scripts/peers/end_to_end.sh 5 0 1; MVVAE_E2E_FAMILIES=poe scripts/peers/end_to_end.sh 1
# Environment: MVVAE_PEERS_VENV (default /tmp/mvvae-peers-venv), MVVAE_E2E_TEST_LIMIT (default 2000),
# MVVAE_E2E_FAMILIES (default "poe mopoe"), MVVAE_E2E_DIR (the runs' folder, default a new /tmp/mvvae-e2e.*;
# kept), MVVAE_E2E_INIT (torch, the default: MultiVae users' initialisation, or mvvae), MVVAE_E2E_FLUSH=1
# (MultiVae with torch.set_flush_denormal(True): its Adam moments turn subnormal after ~700 steps and slow
# its steps, see multivae_train.py), MVVAE_PEERS_BUILD=1 to run `swift build -c release` first (otherwise
# only when the release binary is missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
epochs="${1:-5}"
shift || true
seeds=("$@")
((${#seeds[@]})) || seeds=(0)
read -r -a families <<< "${MVVAE_E2E_FAMILIES:-poe mopoe}"
for family in "${families[@]}"; do
  [[ "$family" == poe || "$family" == mopoe ]] || { echo "unknown family '$family' (poe mopoe)" >&2; exit 2; }
done
venv=$(scripts/peers/setup.sh "${MVVAE_PEERS_VENV:-/tmp/mvvae-peers-venv}")
py="$venv/bin/python"
bin=.build/release/mvvae
if [[ "${MVVAE_PEERS_BUILD:-0}" == 1 || ! -x "$bin" ]]; then swift build -c release --product mvvae >/dev/null; fi
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 VECLIB_MAXIMUM_THREADS=1
limit="${MVVAE_E2E_TEST_LIMIT:-2000}"
init="${MVVAE_E2E_INIT:-torch}"
work="${MVVAE_E2E_DIR:-$(mktemp -d /tmp/mvvae-e2e.XXXXXX)}"
mkdir -p "$work"
peer=scripts/peers/multivae_train.py
results="$work/results.txt" details="$work/details.txt"
: > "$results"; : > "$details"
log() { echo "[$(date -u '+%H:%M:%S')] $*" >&2; }

# Runs "$@" with its output in $1's log; sets `wall` and `cpu` (user + sys seconds of the command).
timed() {
  local logfile="$1" user sys; shift
  if ! /usr/bin/time -f '%e %U %S' -o "$logfile.time" "$@" > "$logfile" 2>&1; then
    echo "failed: $* (see $logfile)" >&2; tail -n 20 "$logfile" >&2; exit 1
  fi
  read -r wall user sys < "$logfile.time"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.1f", u + s}')
}

# first|median|sum of the epoch seconds given as arguments.
summary() { "$py" -c 'import statistics, sys; t = [float(v) for v in sys.argv[1:]]; print(f"{t[0]:.2f}|{statistics.median(t):.2f}|{sum(t):.1f}")' "$@"; }

ours() {   # family seed config set label
  local family=$1 seed=$2 config=$3 set=$4 label=$5 run="$work/$1${4:+-${4#*=}}-seed$2"
  rm -rf "$run"
  local args=(--config "$config" --run "$run" --set "training.epochs=$epochs" --set "seed=$seed" --progress lines)
  [[ -z "$set" ]] || args+=(--set "$set")
  log "mvvae train $family ${set:-} seed $seed"
  timed "$run.train.log" "$bin" train "${args[@]}"
  local train_wall=$wall train_cpu=$cpu
  local times
  times=$("$py" -c 'import json, sys; print(" ".join(str(json.loads(l)["seconds"]) for l in open(sys.argv[1]) if l.strip()))' "$run/metrics.jsonl")
  log "mvvae evaluate $family ${set:-} seed $seed"
  timed "$run.evaluate.log" "$bin" evaluate --run "$run" --no-classifiers --set "data.testLimit=$limit"
  local ll check_args=(check --run "$run" --test-limit "$limit")
  ll=$("$py" -c 'import json, sys; print("%.2f" % json.load(open(sys.argv[1]))["logLikelihood"])' "$run/evaluation.json")
  ((checked)) || check_args+=(--mvvae "$bin")
  log "multivae_train.py check on $run"
  "$py" "$peer" "${check_args[@]}" > "$run.check.log" 2>&1 || { cat "$run.check.log" >&2; echo "estimator check failed" >&2; exit 1; }
  checked=1
  local same
  same=$(sed -n 's/.*q as mvvae defines it: log p(x) \(-*[0-9.]*\).*/\1/p' "$run.check.log" | awk '{printf "%.2f", $1}')
  echo "$family|$label|$seed|$(summary $times)|$train_wall ($train_cpu)|$ll|$same" >> "$results"
  echo "$family $label seed $seed: epoch seconds $(awk '{for (i = 1; i <= NF; i++) printf "%.2f ", $i}' <<< "$times")" >> "$details"
}

theirs() {   # family seed
  local family=$1 seed=$2 out="$work/$1-multivae-seed$2"
  rm -rf "$out"
  log "MultiVae trainer $family seed $seed"
  local flush=()
  [[ "${MVVAE_E2E_FLUSH:-0}" != 1 ]] || flush=(--flush-denormal)
  timed "$out.train.log" "$py" "$peer" train --family "$family" --epochs "$epochs" --seed "$seed" --init "$init" \
    "${flush[@]}" --out "$out"
  local train_wall=$wall train_cpu=$cpu
  log "MultiVae model evaluate $family seed $seed"
  "$py" "$peer" evaluate --family "$family" --out "$out" --test-limit "$limit" --seed "$seed" > "$out.evaluate.log" 2>&1 \
    || { tail -n 20 "$out.evaluate.log" >&2; exit 1; }
  local row
  row=$("$py" - "$out" <<'EOF'
import json, statistics, sys
out = sys.argv[1]
train = json.load(open(f"{out}/train.json"))
ll = json.load(open(f"{out}/evaluation.json"))["logLikelihood"]
t = [e["train_seconds"] for e in train["epochs"]]
print(f"{t[0]:.2f}|{statistics.median(t):.2f}|{sum(t):.1f}|{ll:.2f}")
with open(f"{out}/details.line", "w") as f:
    f.write("epoch seconds " + " ".join(f"{v:.2f}" for v in t)
            + "; whole epochs with validation " + " ".join(f"{e['epoch_seconds']:.2f}" for e in train["epochs"])
            + "; Adam subnormal entries after each epoch " + " ".join(str(e["adam_subnormal"]) for e in train["epochs"])
            + f" of {train['epochs'][-1]['adam_entries']}; ms per step, each 100 steps: "
            + " ".join(f"{v:.0f}" for v in train["step_ms_per_100"]) + "\n")
EOF
)
  IFS='|' read -r first median total ll <<< "$row"
  echo "$family|MultiVae|$seed|$first|$median|$total|$train_wall ($train_cpu)|$ll|–" >> "$results"
  echo "$family MultiVae seed $seed: $(cat "$out/details.line")" >> "$details"
}

checked=0
echo "measured $(date -u '+%Y-%m-%d %H:%M UTC'), $epochs epochs, batch 128, lr 1e-3, one thread, test log p(x) on $limit test rows" \
     "(100 draws from q(z | x1, x2)), torch $("$py" -c 'import torch; print(torch.__version__)'), MultiVae init: $init," \
     "flush denormals: ${MVVAE_E2E_FLUSH:-0}, runs in $work"
for seed in "${seeds[@]}"; do
  for family in "${families[@]}"; do
    if [[ "$family" == poe ]]; then
      ours poe "$seed" configs/aggregated-fashion-halves-poe.yaml "" "mvvae"
      theirs poe "$seed"
    else
      ours mopoe "$seed" configs/aggregated-fashion-halves-mopoe.yaml model.mixtureSampling=everyComponent "mvvae everyComponent"
      theirs mopoe "$seed"
      ours mopoe "$seed" configs/aggregated-fashion-halves-mopoe.yaml model.mixtureSampling=onePerRow "mvvae onePerRow"
    fi
  done
done
echo
echo "| family | side | seed | epoch 1 s | median epoch s | sum of epochs s | total training s (CPU s) | test log p(x) | check |"
echo "|---|---|---|---|---|---|---|---|---|"
while IFS='|' read -r family side seed first median total wallcpu ll same; do
  echo "| $family | $side | $seed | $first | $median | $total | $wallcpu | $ll | $same |"
done < "$results"
echo
echo "check: multivae_train.py's estimator (the one that scores MultiVae's models) on our checkpoint, which must"
echo "equal mvvae evaluate's figure (it stops the script otherwise). Per run, the training loop's seconds per epoch:"
sed 's/^/- /' "$details"
