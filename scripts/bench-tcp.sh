#!/usr/bin/env bash
# BENCHMARKS.md "The two-level exchange over TCP": -np 4 as 2 pretend nodes x 2 ranks, the messages
# carried by OpenMPI's shared-memory btl or forced through its TCP btl on loopback (pml ob1 in both),
# three interleaved rounds of `mvvae bench`; then the ring allreduce alone at -np 2 over each.
#   scripts/bench-tcp.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
swift build -c release --product mvvae >/dev/null
export OPENBLAS_NUM_THREADS=1
tcp=(env OMPI_MCA_pml=ob1 OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=lo)
shm=(env OMPI_MCA_pml=ob1)
date -u
for ((r = 1; r <= rounds; r++)); do
  for t in shm tcp; do
    if [[ $t == tcp ]]; then pre=("${tcp[@]}"); else pre=("${shm[@]}"); fi
    echo "== $t round $r"
    MVVAE_RANKS_PER_NODE=2 "${pre[@]}" launch/mpi -np 4 .build/release/mvvae bench --batch 128 --steps 200 --header | tail -n 1
  done
done
for t in shm tcp; do
  if [[ $t == tcp ]]; then pre=("${tcp[@]}"); else pre=("${shm[@]}"); fi
  echo "== allreduce $t"
  "${pre[@]}" launch/mpi -np 2 .build/release/mvvae bench-allreduce --max-floats 1048576 2>&1 | tail -n 25
done
date -u
