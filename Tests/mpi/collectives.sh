#!/usr/bin/env bash
# The ring reduce-scatter, allgather and allreduce of MPICommunicator against OpenMPI's own collectives
# (check-mpi's RingCheck) at world sizes beyond the 2 and 3 that launch/test checks: bit-identical results
# on integer-valued data, agreement to rounding otherwise, identical vectors on every rank.
source "$(dirname "$0")/lib.bash"
for np in 4 5; do
  mpi -np "$np" "$bin" check-mpi --count 777 > "$work/np$np.log" 2>&1 || { cat "$work/np$np.log"; fail "ring collectives at -np $np"; }
  grep -q "ring reduce-scatter, allgather and allreduce match" "$work/np$np.log" || { cat "$work/np$np.log"; fail "no ring check at -np $np"; }
done
echo "ring collectives: ok"
