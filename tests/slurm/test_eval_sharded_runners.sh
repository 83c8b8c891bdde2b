#!/usr/bin/env bash
# test_eval_sharded_runners.sh — scripts/eval_sharded.sh end to end: a tiny
# `smcgen eval` run in 3 shards under GNU parallel and as a Slurm job array,
# each merged run compared with the same run unsharded
# (tests/cli/compare_eval_runs.py). It needs Debian's
# `parallel` and `slurm-wlm` and starts Slurm daemons; by hand:
#   bash tests/slurm/test_eval_sharded_runners.sh build/smcgen
# With no reachable Slurm controller and when run as root, it starts a
# single-node cluster on localhost (slurmctld + slurmd + munged, config and
# state in a temporary folder) and stops it afterwards. A runner that is not
# installed is skipped with a message; exit 77 when both are. Registered in
# ctest as slurm_test_eval_sharded_runners (scripts/deps.sh installs both).
set -u
BIN=$(realpath "${1:?usage: test_eval_sharded_runners.sh path/to/smcgen}")
cd "$(dirname "$0")/../.."
SHARED=${SMCGEN_SHARED:-../shared}
MODEL=$(realpath "$SHARED/models/small-q8_0.gguf" 2>/dev/null)
[ -f "$MODEL" ] || { echo "SKIP: $SHARED/models is absent"; exit 77; }
OUT=$(mktemp -d /tmp/smc_test_runners.XXXXXX)
PIDS=()
cleanup() {   # stop the daemons, wait until they are gone (they write state on exit), then remove
  local p
  for p in "${PIDS[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do
    for _ in $(seq 50); do [ -n "$p" ] && kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  done
  rm -rf "$OUT"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
ARGS=(--task spider --limit 3 --replicates 1 --particles 2 --methods plain,smc --max-tokens 24
      --models small="$MODEL")
"$BIN" eval -q -t 1 "${ARGS[@]}" --out "$OUT/whole" >/dev/null 2>"$OUT/err" || { cat "$OUT/err"; fail "unsharded run"; }
ran=0

if command -v parallel >/dev/null; then
  SMCGEN=$BIN bash scripts/eval_sharded.sh parallel 3 "$OUT/par" "${ARGS[@]}" >/dev/null 2>"$OUT/err" \
    || { cat "$OUT/err"; fail "eval_sharded.sh parallel"; }
  python3 tests/cli/compare_eval_runs.py "$OUT/whole" "$OUT/par/merged" || fail "parallel: merged run differs"
  echo "GNU parallel: 3 shards merged = unsharded"
  ran=$((ran + 1))
else
  echo "SKIP: GNU parallel is not installed (apt-get install parallel)"
fi

start_cluster() {   # a single-node cluster on localhost, as root
  [ "$(id -u)" = 0 ] && command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null \
    || return 1
  local d=$OUT/slurm cpus ports
  cpus=$(nproc)
  # two free ports, not fixed ones: another checkout's cluster may be up on this machine
  ports=($(python3 -c 'import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')) && [ ${#ports[@]} = 2 ] || return 1
  mkdir -p "$d/state" "$d/spool" "$d/munge" "$d/run"
  chmod 700 "$d/munge"
  dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 2>/dev/null && chmod 400 "$d/munge/munge.key"
  munged --key-file="$d/munge/munge.key" --socket="$d/run/munge.socket" --pid-file="$d/run/munged.pid" \
    --seed-file="$d/munge/seed" --log-file="$d/munge.log" --force || return 1
  PIDS+=("$(cat "$d/run/munged.pid")")
  cat > "$d/slurm.conf" <<CONF
ClusterName=smcgentest
SlurmctldHost=localhost
AuthType=auth/munge
AuthInfo=socket=$d/run/munge.socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort=${ports[0]}
SlurmdPort=${ports[1]}
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/slurmctld.log
SlurmdLogFile=$d/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=localhost CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF=$d/slurm.conf
  slurmctld -f "$d/slurm.conf" || return 1
  slurmd -f "$d/slurm.conf" || return 1
  sleep 1
  PIDS+=("$(cat "$d/run/slurmctld.pid" 2>/dev/null)" "$(cat "$d/run/slurmd.pid" 2>/dev/null)")
  for _ in $(seq 180); do sinfo -h -o %T 2>/dev/null | grep -qE "idle|mix" && return 0; sleep 1; done
  return 1
}

if command -v sbatch >/dev/null && { sinfo -h >/dev/null 2>&1 || start_cluster; }; then
  SBATCH_OPTS="--cpus-per-task=1" SMCGEN=$BIN bash scripts/eval_sharded.sh slurm 3 "$OUT/slurm-run" "${ARGS[@]}" \
    > "$OUT/submit" 2>"$OUT/err" || { cat "$OUT/err"; fail "eval_sharded.sh slurm"; }
  # Until the merged summary is there, or the queue is seen empty (squeue answered and listed no
  # job; a loaded controller that times out is asked again), up to 10 minutes.
  for _ in $(seq 600); do
    [ -s "$OUT/slurm-run/merged/summary.md" ] && break
    if queue=$(squeue -h 2>/dev/null) && [ -z "$queue" ]; then sleep 2; break; fi
    sleep 1
  done
  [ -s "$OUT/slurm-run/merged/summary.md" ] || { cat "$OUT/submit" "$OUT"/slurm-run/slurm-*.out 2>/dev/null; fail "the Slurm jobs did not finish"; }
  python3 tests/cli/compare_eval_runs.py "$OUT/whole" "$OUT/slurm-run/merged" || fail "slurm: merged run differs"
  echo "Slurm job array: 3 shards merged = unsharded"
  ran=$((ran + 1))
else
  echo "SKIP: no Slurm (install slurm-wlm and run as root to start a localhost cluster)"
fi
[ $ran -gt 0 ] || exit 77
echo "test_eval_sharded_runners: ok"
