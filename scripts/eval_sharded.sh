#!/usr/bin/env bash
# eval_sharded.sh — `smcgen eval` split into N shards, run in parallel, merged.
#   scripts/eval_sharded.sh parallel N OUT [smcgen eval options...]
#       GNU parallel on this machine: $JOBS shards at a time (default N), each
#       with -t $THREADS (default 1); then merges into OUT/merged.
#   scripts/eval_sharded.sh slurm N OUT [smcgen eval options...]
#       a Slurm job array of N tasks (scripts/eval_slurm.sbatch; extra sbatch
#       options in $SBATCH_OPTS) and a merge job that runs after all succeed.
# Every shard writes OUT/shard-I and may be rerun (--resume) until finished;
# OUT/merged holds the same units and report as one unsharded run.
# $SMCGEN names the binary (default: build/smcgen beside this script).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}; n=${2:-}; out=${3:-}
if [ -z "$mode" ] || [ -z "$n" ] || [ -z "$out" ] || ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
shift 3
bin=${SMCGEN:-$here/build/smcgen}
[ -x "$bin" ] || { echo "eval_sharded.sh: $bin is not built (cmake --build build)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
shards=()
for ((i = 0; i < n; i++)); do shards+=("$out/shard-$i"); done
case "$mode" in
parallel)
  command -v parallel >/dev/null || { echo "eval_sharded.sh: GNU parallel is missing (apt-get install parallel)" >&2; exit 1; }
  # --halt now,fail=1: stop at the first failing shard; rerun to resume.
  seq 0 $((n - 1)) | parallel --will-cite --halt now,fail=1 -j "${JOBS:-$n}" \
    "$bin" eval --shard {}/"$n" --out "$out"/shard-{} --resume -q -t "${THREADS:-1}" "$@"
  rm -rf "$out/merged"
  "$bin" eval --merge "${shards[@]}" --out "$out/merged"
  ;;
slurm)
  command -v sbatch >/dev/null || { echo "eval_sharded.sh: sbatch is missing (Slurm)" >&2; exit 1; }
  export SMCGEN="$bin"
  # shellcheck disable=SC2086
  job=$(sbatch --parsable --array=0-$((n - 1)) --output="$out/slurm-%A_%a.out" ${SBATCH_OPTS:-} \
        "$here/scripts/eval_slurm.sbatch" "$out" "$@")
  job=${job%%;*}
  cmd="rm -rf $(printf %q "$out/merged") && $(printf %q "$bin") eval --merge $(printf '%q ' "${shards[@]}")"
  cmd+="--out $(printf %q "$out/merged")"
  # shellcheck disable=SC2086
  merge=$(sbatch --parsable --dependency=afterok:"$job" --output="$out/slurm-merge-%j.out" ${SBATCH_OPTS:-} \
          --job-name=smcgen-eval-merge --wrap "$cmd")
  echo "submitted array job $job ($n shards) and merge job $merge; results in $out/merged"
  ;;
*)
  echo "eval_sharded.sh: unknown mode '$mode' (parallel | slurm)" >&2
  exit 2
  ;;
esac
