#!/usr/bin/env bash
# A throwaway single-node Slurm cluster on 127.0.0.1 for the project's
# Slurm test: munged, slurmctld and slurmd started by hand (no systemd),
# all state in $SLURM_LOCAL_DIR, every daemon stopped by its pid.
#
#   scripts/slurm-cluster.sh start   # prints "export SLURM_CONF=..." once the node is idle
#   scripts/slurm-cluster.sh stop    # cancels jobs, stops the daemons it started
#
# Needs Debian's slurm-wlm and munge (`.ci/run` installs them). Choices that
# matter in a container without systemd or writable cgroups:
# proctrack/linuxproc and task/none; munged runs as the munge user with its
# socket folder mode 0755; scheduling every second with no batch delay so a
# test does not wait; kill_invalid_depend so a merge job whose dependency
# can never be met is cancelled rather than left pending.
set -euo pipefail

DIR=${SLURM_LOCAL_DIR:?set SLURM_LOCAL_DIR to a dedicated absolute folder}
[[ $DIR == /*/* && $DIR != *[[:space:]]* ]] || { echo "SLURM_LOCAL_DIR must be an absolute path without spaces below /" >&2; exit 2; }
CONF=$DIR/slurm.conf
NODE=$(hostname -s)
export SLURM_CONF=$CONF

pid_alive() { [[ -s $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for SECONDS COMMAND...
  local end=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS < end)) || return 1; sleep 0.2; done
}

node_ready() { [[ $(sinfo -h -n "$NODE" -o %t 2>/dev/null) =~ ^(idle|mix|alloc) ]]; }

start() {
  mkdir -p "$DIR"/{state,spool,log,run,munge}
  local cpus mem
  cpus=$(nproc)
  mem=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
  cat >"$CONF" <<CONF
ClusterName=sae-lab-test
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${SLURM_LOCAL_CTLD_PORT:-6817}
SlurmdPort=${SLURM_LOCAL_SLURMD_PORT:-6818}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,sched_interval=1
ReturnToService=2
MinJobAge=300
DependencyParameters=kill_invalid_depend
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=${mem:-1000} State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
  if ! pid_alive "$DIR/munge/munged.pid"; then
    [[ -s $DIR/munge/munge.key ]] || dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chown -R munge:munge "$DIR/munge"
    chmod 0755 "$DIR/munge"
    chmod 0600 "$DIR/munge/munge.key"
    runuser -u munge -- munged --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
      --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed"
    wait_for 10 test -s "$DIR/munge/munged.pid" || { echo "munged did not start" >&2; exit 1; }
  fi
  pid_alive "$DIR/run/slurmctld.pid" || slurmctld -c -f "$CONF"
  wait_for 10 test -s "$DIR/run/slurmctld.pid" || { echo "slurmctld did not start; see $DIR/log" >&2; exit 1; }
  pid_alive "$DIR/run/slurmd.pid" || slurmd -f "$CONF" -N "$NODE"
  wait_for 30 node_ready || { tail -5 "$DIR"/log/*.log >&2; echo "node $NODE never became idle" >&2; exit 1; }
  echo "export SLURM_CONF=$CONF"
}

stop() {
  if pid_alive "$DIR/run/slurmctld.pid"; then
    local jobs
    jobs=$(squeue -h -o %A 2>/dev/null || true)
    [[ -z $jobs ]] || { scancel $jobs 2>/dev/null || true; wait_for 15 test -z "$(squeue -h -o %A 2>/dev/null)" || true; }
  fi
  local f pids=()
  for f in "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid" "$DIR/munge/munged.pid"; do
    pid_alive "$f" && pids+=("$(cat "$f")")
  done
  ((${#pids[@]} == 0)) || kill -TERM "${pids[@]}" 2>/dev/null || true
  local p
  for p in "${pids[@]}"; do
    wait_for 15 bash -c "! kill -0 $p 2>/dev/null" || kill -KILL "$p" 2>/dev/null || true
  done
  rm -f "$DIR/run/slurmd.pid" "$DIR/run/slurmctld.pid" "$DIR/munge/munged.pid"
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
