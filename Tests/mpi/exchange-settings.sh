#!/usr/bin/env bash
# Bad gradient-exchange settings stop a multi-rank run at the start with a message naming the variable,
# and a run resumed with one leaves its checkpoints as they were.
source "$(dirname "$0")/lib.bash"
expect_failure() {  # expect_failure "message" ENV=VALUE
  local want="$1" setting="$2" run="$work/bad-$RANDOM"
  set +e; env "$setting" "$root/launch/mpi" -np 2 "$bin" train --config "$config" --run "$run" > "$run.log" 2>&1; local code=$?; set -e
  ((code != 0)) || { cat "$run.log"; fail "$setting: expected a non-zero exit"; }
  grep -q -F -- "$want" "$run.log" || { cat "$run.log"; fail "$setting: no message mentioning '$want'"; }
}
expect_failure "MVVAE_EXCHANGE must be 'shared' (the default) or 'rings', got 'ring'" MVVAE_EXCHANGE=ring
expect_failure "MVVAE_RANKS_PER_NODE must be a whole number ≥ 1, got '0'" MVVAE_RANKS_PER_NODE=0
expect_failure "MVVAE_RANKS_PER_NODE must be a whole number ≥ 1, got 'two'" MVVAE_RANKS_PER_NODE=two
# A finished run's checkpoint is untouched by a resume that fails on a bad setting.
mpi -np 2 "$bin" train --config "$config" --run "$work/kept" > "$work/kept.log" 2>&1 || { cat "$work/kept.log"; fail "reference run"; }
before="$(cd "$work/kept/checkpoints" && find . -type f -exec sha256sum {} + | sort)"
set +e; MVVAE_EXCHANGE=bogus mpi -np 2 "$bin" train --config "$config" --run "$work/kept" --resume auto --set training.epochs=2 > "$work/resume.log" 2>&1; code=$?; set -e
((code != 0)) || fail "resume with a bad setting should fail"
after="$(cd "$work/kept/checkpoints" && find . -type f -exec sha256sum {} + | sort)"
[[ "$before" == "$after" ]] || fail "a failed resume changed the checkpoints"
echo "exchange settings: 4 checks ok"
