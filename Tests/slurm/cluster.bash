# A throwaway one-node Slurm cluster for the tests: munged, slurmctld and slurmd on this machine, every
# file in one temporary folder, stopped and removed by slurm_stop (the sourcing script traps EXIT).
# Settings that work inside a container: processes tracked by parent pid (proctrack/linuxproc), no
# cgroups, no task binding, no accounting, root as the Slurm user when run as root.
#   slurm_can_run     exit 0 when the Debian packages are installed (launch/setup installs them)
#   slurm_start       start the daemons; exports SLURM_CONF; returns non-zero with the logs if they fail
#   slurm_stop        cancel every job, stop the daemons, remove the folder
#   slurm_wait JOB STATE… [SECONDS]   wait until the job's state is one of STATE (COMPLETED, PENDING…)

slurm_can_run() {
  local c
  for c in munged slurmctld slurmd sbatch srun squeue scontrol scancel sinfo; do
    command -v "$c" >/dev/null 2>&1 || return 1
  done
}

slurm_free_port() {
  # A TCP port nothing listens on, so a second cluster (or a stale one) cannot collide with this one.
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

slurm_start() {
  slurm_dir="$(mktemp -d /tmp/mvvae-slurm.XXXXXX)"
  local d="$slurm_dir" host cpus user ctl_port node_port
  mkdir -p "$d"/{munge,state,spool,log,run}
  chmod 700 "$d/munge"
  host="$(hostname -s)"
  cpus="$(nproc)"
  user="$(id -un)"
  ctl_port="$(slurm_free_port)"
  node_port="$(slurm_free_port)"
  # munge: a key made for this cluster, read by this user only.
  head -c 1024 /dev/urandom > "$d/munge/munge.key"
  chmod 400 "$d/munge/munge.key"
  munged --key-file="$d/munge/munge.key" --socket="$d/run/munge.socket" --pid-file="$d/run/munged.pid" \
    --log-file="$d/log/munged.log" --seed-file="$d/munge/seed" --force 2>"$d/log/munged.err" ||
    { cat "$d/log/munged.err" "$d/log/munged.log" >&2 2>/dev/null; return 1; }
  cat > "$d/slurm.conf" <<CONF
ClusterName=mvvaetest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$ctl_port
SlurmdPort=$node_port
AuthType=auth/munge
AuthInfo=socket=$d/run/munge.socket,cred_expire=5
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
InactiveLimit=0
KillWait=10
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
  export SLURM_CONF="$d/slurm.conf"
  slurmctld -f "$SLURM_CONF" -D > "$d/log/slurmctld.out" 2>&1 &
  echo $! > "$d/run/slurmctld.bg"
  slurmd -f "$SLURM_CONF" -D > "$d/log/slurmd.out" 2>&1 &
  echo $! > "$d/run/slurmd.bg"
  local i
  for i in $(seq 1 100); do
    [[ "$(sinfo -h -o %T 2>/dev/null)" == idle ]] && return 0
    sleep 0.2
  done
  echo "Slurm did not come up within 20 s:" >&2
  sinfo >&2 || true
  tail -n 20 "$d"/log/* >&2 || true
  return 1
}

slurm_stop() {
  [[ -n "${slurm_dir:-}" && -d "$slurm_dir" ]] || return 0
  local d="$slurm_dir" f pid
  scancel --full --signal=KILL --user="$(id -un)" >/dev/null 2>&1 || true
  scancel --user="$(id -un)" >/dev/null 2>&1 || true
  for f in slurmd.bg slurmctld.bg munged.pid; do
    pid="$(cat "$d/run/$f" 2>/dev/null || true)"
    [[ -n "$pid" ]] && kill -TERM "$pid" 2>/dev/null || true
  done
  for f in slurmd.bg slurmctld.bg munged.pid; do
    pid="$(cat "$d/run/$f" 2>/dev/null || true)"
    [[ -n "$pid" ]] || continue
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [[ -n "${KEEP:-}" ]] && { echo "kept $d" >&2; return 0; }
  rm -rf "$d"
}

slurm_state() { scontrol show job "$1" 2>/dev/null | grep -o -E 'JobState=[A-Z_]+' | cut -d= -f2; }

slurm_wait() {
  # slurm_wait JOB "STATE1|STATE2" SECONDS
  local job="$1" want="$2" limit="${3:-120}" s i
  for i in $(seq 1 $((limit * 5))); do
    s="$(slurm_state "$job")"
    [[ "$s" =~ ^($want)$ ]] && return 0
    sleep 0.2
  done
  echo "job $job is ${s:-unknown} after $limit s, expected $want" >&2
  scontrol show job "$job" >&2 || true
  return 1
}
