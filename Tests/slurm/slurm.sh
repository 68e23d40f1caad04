#!/usr/bin/env bash
# The Slurm launch paths against a real (throwaway, one-node) Slurm cluster, started here and removed at
# the end whatever happens (Tests/slurm/cluster.bash):
#   1. sbatch launch/slurm.sbatch with 2 tasks ends bit-identical to launch/mpi -np 2;
#   2. srun -n 2 --mpi=pmix mvvae train is detected as one MPI job of 2 ranks, same bits; srun without an
#      MPI plugin OpenMPI understands is refused with the fix named, before anything is written;
#   3. the template's time-limit path (scancel --signal=TERM --batch = --signal=B:TERM) with each launcher:
#      a clean stop with a checkpoint, the job requeued by the template and resumed with --resume auto,
#      ending bit-identical to an uninterrupted -np 2 run.
# Needs slurm-wlm and munge (launch/setup installs them); skipped with a message when they are missing.
source "$(dirname "$0")/../mpi/lib.bash"
source "$here/../slurm/cluster.bash"
if ! slurm_can_run; then
  echo "SKIP: slurm-wlm / munge are not installed (launch/setup installs them)"
  exit 0
fi
trap 'slurm_stop; [[ -n "${KEEP:-}" ]] || rm -rf "$work"' EXIT
slurm_start || fail "could not start a one-node Slurm cluster"
cd "$root"   # sbatch runs the template from the submitting folder
export MVVAE_BIN="$bin"
[[ $(id -u) -ne 0 ]] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
one_node=(--nodes=1 --ntasks=2 --ntasks-per-node=2)

submit() {  # submit RUN [sbatch options…] -- [train options…]: prints the job id
  local run="$1"; shift
  local opts=()
  while (($#)) && [[ "$1" != -- ]]; do opts+=("$1"); shift; done
  shift
  MVVAE_RUN="$run" sbatch --parsable "${one_node[@]}" --output="$run.out" "${opts[@]}" launch/slurm.sbatch "$config" "$@"
}

# 1. sbatch against launch/mpi -np 2.
mpi -np 2 "$bin" train --config "$config" --run "$work/mpirun" > "$work/mpirun.log" 2>&1 || { cat "$work/mpirun.log"; fail "launch/mpi -np 2"; }
job=$(submit "$work/sbatch" --)
slurm_wait "$job" "COMPLETED|FAILED|CANCELLED|TIMEOUT" 120 || { cat "$work/sbatch.out"; fail "sbatch job $job did not finish"; }
[[ "$(slurm_state "$job")" == COMPLETED ]] || { cat "$work/sbatch.out"; fail "sbatch job $job ended $(slurm_state "$job")"; }
grep -q "2 rank(s)" "$work/sbatch.out" || { cat "$work/sbatch.out"; fail "the sbatch job did not train on 2 ranks"; }
echo -n "sbatch launch/slurm.sbatch (2 tasks) vs launch/mpi -np 2: "
compare "$(newest "$work/mpirun")" "$(newest "$work/sbatch")" --exact || fail "the sbatch run differs from mpirun -np 2"

# 2. srun directly, with and without PMIx.
srun "${one_node[@]}" --mpi=pmix "$bin" train --config "$config" --run "$work/srun" > "$work/srun.log" 2>&1 || { cat "$work/srun.log"; fail "srun --mpi=pmix"; }
grep -q "2 rank(s)" "$work/srun.log" || { cat "$work/srun.log"; fail "srun's tasks did not form one MPI world of 2"; }
echo -n "srun -n 2 --mpi=pmix vs launch/mpi -np 2: "
compare "$(newest "$work/mpirun")" "$(newest "$work/srun")" --exact || fail "the srun run differs from mpirun -np 2"
if srun "${one_node[@]}" --mpi=none "$bin" train --config "$config" --run "$work/nompi" > "$work/nompi.log" 2>&1; then
  cat "$work/nompi.log"; fail "srun without an MPI plugin trained (two separate copies into one folder)"
fi
grep -q "srun started 2 tasks (no --mpi plugin) but MPI sees each as a world of 1" "$work/nompi.log" || { cat "$work/nompi.log"; fail "no clear error for srun --mpi=none"; }
[[ ! -e "$work/nompi" ]] || fail "the refused srun launch created its run folder"
echo "srun --mpi=none: refused, naming --mpi=pmix"

# 3. Time limit / preemption: signal, clean stop, requeue, resume.
long=(--set training.epochs=6 --set data.trainLimit=960)   # 40 steps an epoch, 240 in all
mpi -np 2 "$bin" train --config "$config" --run "$work/full" "${long[@]}" > "$work/full.log" 2>&1 || { cat "$work/full.log"; fail "uninterrupted run"; }
for launcher in mpirun srun; do
  run="$work/cut-$launcher"
  job=$(MVVAE_LAUNCHER=$launcher submit "$run" -- "${long[@]}")
  for _ in $(seq 1 600); do
    grep -q -E "^step (2[5-9]|[3-9][0-9]|[0-9]{3})/" "$run.out" 2>/dev/null && break
    sleep 0.1
  done
  scancel --signal=TERM --batch "$job" || fail "scancel --signal=TERM $job"
  # The template requeues the job; Slurm holds it until the old credential expires (cred_expire, 5 s here).
  slurm_wait "$job" "PENDING" 60 || { cat "$run.out"; fail "$launcher: the signalled job was not requeued"; }
  grep -q "stopped at step" "$run.out" || { cat "$run.out"; fail "$launcher: no clean stop before the requeue"; }
  stopped=$(basename "$(newest "$run")")
  [[ "$stopped" != step-000000240 ]] || fail "$launcher: the run finished before the signal arrived"
  slurm_wait "$job" "COMPLETED|FAILED|CANCELLED" 120 || { cat "$run.out"; fail "$launcher: the requeued job did not finish"; }
  [[ "$(slurm_state "$job")" == COMPLETED ]] || { cat "$run.out"; fail "$launcher: the requeued job ended $(slurm_state "$job")"; }
  grep -q "restart 1" "$run.out" || { cat "$run.out"; fail "$launcher: the log does not show the requeued start"; }
  grep -q "resume: from .*$stopped" "$run.out" || { cat "$run.out"; fail "$launcher: the requeued job did not resume from $stopped"; }
  echo -n "$launcher launcher: stopped at $stopped by SIGTERM, requeued, resumed: "
  compare "$(newest "$work/full")" "$(newest "$run")" --exact || fail "$launcher: the requeued run differs from the uninterrupted one"
done
echo "slurm: ok"
