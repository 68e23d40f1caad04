#!/usr/bin/env bash
# Between nodes the two-level exchange sends its blocks over the network. Forcing OpenMPI's TCP transport
# (btl tcp,self: no shared-memory transport for messages) with -np 4 as 2 nodes x 2 ranks runs that path
# over real sockets: it matches -np 1 within the world-size tolerance and resumes bit for bit.
source "$(dirname "$0")/lib.bash"
set2=(--set training.epochs=2)
export MVVAE_RANKS_PER_NODE=2
# pml ob1: the point-to-point layer that uses the btl transports (a UCX pml would bypass them).
tcp=(env OMPI_MCA_pml=ob1 OMPI_MCA_btl=tcp,self OMPI_MCA_btl_tcp_if_include=lo)
mpi -np 1 "$bin" train --config "$config" --run "$work/np1" "${set2[@]}" > "$work/np1.log" 2>&1 || { cat "$work/np1.log"; fail "-np 1"; }
"${tcp[@]}" OMPI_MCA_btl_base_verbose=30 "$root/launch/mpi" -np 4 "$bin" train --config "$config" --run "$work/full" "${set2[@]}" > "$work/full.log" 2>&1 ||
  { cat "$work/full.log"; fail "-np 4 over TCP"; }
grep -q "gradient exchange: shared memory on 2 nodes of 2 ranks" "$work/full.log" || { cat "$work/full.log"; fail "-np 4 as 2 nodes did not use the two-level exchange"; }
grep -q -i "btl: tcp" "$work/full.log" || { head -n 40 "$work/full.log"; fail "OpenMPI did not report its TCP transport"; }
grep -q -i "vader" "$work/full.log" && fail "the shared-memory transport (vader) was selected although btl was tcp,self"
echo -n "np1 vs np4 as 2 nodes x 2 ranks over TCP: "
compare "$(newest "$work/np1")" "$(newest "$work/full")" --rtol 1e-4 || fail "TCP run drifts from world size 1"
"${tcp[@]}" "$root/launch/mpi" -np 4 "$bin" train --config "$config" --run "$work/part" "${set2[@]}" --max-steps 10 > "$work/part.log" 2>&1 || { cat "$work/part.log"; fail "first half over TCP"; }
"${tcp[@]}" "$root/launch/mpi" -np 4 "$bin" train --config "$config" --run "$work/part" "${set2[@]}" --resume auto > "$work/resume.log" 2>&1 || { cat "$work/resume.log"; fail "resume over TCP"; }
grep -q "resume: from" "$work/resume.log" || fail "the resumed run did not load the checkpoint"
echo -n "exact resume over TCP: "
compare "$(newest "$work/full")" "$(newest "$work/part")" --exact || fail "resume over TCP is not bit-exact"
echo "tcp: ok"
