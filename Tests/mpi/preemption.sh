#!/usr/bin/env bash
# SIGTERM sent to the MPI launcher (launch/mpi, around mpirun) mid-epoch: every rank finishes its
# step, rank 0 checkpoints, the job exits 0;
# the resumed run then ends equal (bit for bit, same world size) to an uninterrupted one.
source "$(dirname "$0")/lib.bash"
long=(--set training.epochs=6 --set data.trainLimit=960)   # 40 steps an epoch, 240 in all
mpi -np 2 "$bin" train --config "$config" --run "$work/full" "${long[@]}" > "$work/full.log" 2>&1 || { cat "$work/full.log"; fail "uninterrupted run"; }

"$root/launch/mpi" -np 2 "$bin" train --config "$config" --run "$work/cut" "${long[@]}" > "$work/cut.log" 2>&1 &  # $! is launch/mpi, which relays the signal to mpirun
launcher=$!
# Wait until training is under way (a progress line past step 20), then preempt.
for _ in $(seq 1 600); do
  grep -q -E "^step (2[5-9]|[3-9][0-9]|[0-9]{3})/" "$work/cut.log" 2>/dev/null && break
  kill -0 "$launcher" 2>/dev/null || break
  sleep 0.1
done
kill -TERM "$launcher" 2>/dev/null || fail "the run ended before it could be preempted (make it longer)"
set +e; wait "$launcher"; code=$?; set -e
cat "$work/cut.log" | grep -E "stopping|stopped at|checkpoint" || true
[[ $code -eq 0 ]] || { cat "$work/cut.log"; fail "preempted job exited $code, expected 0"; }
grep -q "stopped at step" "$work/cut.log" || fail "the job did not report a clean stop"
stopped=$(basename "$(newest "$work/cut")")
[[ "$stopped" != step-000000240 ]] || fail "the run finished before the signal arrived"
mpi -np 2 "$bin" train --config "$config" --run "$work/cut" "${long[@]}" --resume auto > "$work/resume.log" 2>&1 || { cat "$work/resume.log"; fail "resume after preemption"; }
echo -n "preempted at $stopped, resumed: "
compare "$(newest "$work/full")" "$(newest "$work/cut")" --exact || fail "resumed run differs from the uninterrupted one"

# A scheduler signals every process of the job at once (launcher, mpirun and each rank): still one
# clean stop with a valid checkpoint, not an abort. (mpirun itself then exits 1: OpenMPI 4.1 treats a
# SIGTERM of its own as a job abort even though every rank stopped cleanly; nothing is lost.)
"$root/launch/mpi" -np 2 "$bin" train --config "$config" --run "$work/all" "${long[@]}" > "$work/all.log" 2>&1 &
launcher=$!
for _ in $(seq 1 600); do
  grep -q -E "^step (2[5-9]|[3-9][0-9]|[0-9]{3})/" "$work/all.log" 2>/dev/null && break
  sleep 0.1
done
pids=$(pgrep -f -- "--run $work/all" || true)
kill -TERM $pids 2>/dev/null || fail "nothing to signal"
set +e; wait "$launcher"; code=$?; set -e
grep -q "stopped at step" "$work/all.log" || { cat "$work/all.log"; fail "no clean stop when every process was signalled"; }
grep -q "exiting now without saving" "$work/all.log" && fail "a repeated signal was taken as a second one"
saved=$(basename "$(newest "$work/all")")
"$bin" train --config "$config" --run "$work/all" "${long[@]}" --resume auto --max-steps 241 > "$work/all-resume.log" 2>&1 ||
  { cat "$work/all-resume.log"; fail "the checkpoint of the signalled job does not resume"; }
echo "signal to every process: clean stop at $saved (mpirun exit code $code), resumes"
echo "preemption: ok"
