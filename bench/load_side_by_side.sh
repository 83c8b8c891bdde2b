#!/bin/bash
# load_side_by_side.sh — single-sequence decode (and pp128) of smcgen on one GGUF
# file loaded three ways, interleaved (order rotated every round): mapped
# (--load mmap), read into huge-page memory (--load read, what --load auto picks
# on a kernel with transparent huge pages), and the same shape generated in
# memory (--synthetic NAME --type TYPE). Prints per round tokens/s (wall clock),
# tokens per CPU-second and the rate of the fastest step (robust to preemption),
# and the load average. Figures, not a test; compare within a round.
#
# usage: bench/load_side_by_side.sh ROUNDS FILE.gguf SYNTHETIC_NAME TYPE
# env:   SMCGEN (default build/smcgen), T (threads, default 1), TG (decode length, default 64)
set -u
ROUNDS=${1:?usage: load_side_by_side.sh ROUNDS FILE.gguf SYNTHETIC_NAME TYPE}
F=${2:?}; SYN=${3:?}; TYPE=${4:?}
A=${SMCGEN:-build/smcgen}; T=${T:-1}; TG=${TG:-64}
modes=(mmap read synthetic)
for r in $(seq 1 "$ROUNDS"); do
  line="r$r $(basename "$F")"
  for k in 0 1 2; do
    mode=${modes[$(( (k + r) % 3 ))]}
    if [ "$mode" = synthetic ]; then src=(--synthetic "$SYN" --type "$TYPE"); else src=(-m "$F" --load "$mode"); fi
    out=$("$A" bench "${src[@]}" -t "$T" --seqs 1 --prefix 16 --steps $((TG - 16)) --time 1000 --prompt 128 --reps 2 \
          --json 2>/dev/null)
    line="$line | $mode $(python3 -c '
import json, sys
j = json.loads(sys.argv[1]); d = j["decode"][0]; p = j["prompt"][0]
best = j["weight_bytes_per_s_1seq_best_step"] / j["weight_bytes"]
print("tg %.1f/s %.1f/cpu-s best %.1f, pp128 %.1f/cpu-s" % (d["tokens_per_s"], d["tokens_per_cpu_s"], best, p["tokens_per_cpu_s"]))
' "$out" 2>/dev/null || echo failed)"
  done
  echo "$line | load $(cut -d' ' -f1-3 /proc/loadavg)"
done
