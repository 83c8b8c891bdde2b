#!/bin/bash
# pp_side_by_side.sh — prompt processing of smcgen and llama.cpp, interleaved on
# the same GGUF files (order flipped every round), with an optional second smcgen
# binary (e.g. a build of main before a change) in the same rounds. Prints, per
# round, model and prompt length: tokens/s (wall clock, mean of the reps) of each
# engine and their ratio, then tokens per CPU-second of each engine and their ratio,
# and the load average. CPU-seconds: smcgen measures its process CPU time around each
# prompt; llama-bench (--no-warmup) runs under /usr/bin/time once per length and once
# with 16-token prompts, and the difference of the two CPU times (load, set-up and
# the 16-token prompts cancel) is charged to the N - 16 extra tokens of each rep.
# On a loaded machine CPU time is far steadier than wall clock.
# Figures, not a test; the machine's load moves between runs, so compare within a round.
#
# usage: LLAMA_BIN=/path/to/llama.cpp/bin bench/pp_side_by_side.sh ROUNDS FILE.gguf...
# env:   SMCGEN (default build/smcgen), SMCGEN_B (second binary, optional),
#        T (threads, default 1), PP (lengths, default 128,1024), REPS (default 2)
set -u
ROUNDS=${1:?usage: pp_side_by_side.sh ROUNDS FILE.gguf...}; shift
LB=${LLAMA_BIN:?set LLAMA_BIN to the bin folder of a llama.cpp build}
A=${SMCGEN:-build/smcgen}
B=${SMCGEN_B:-}
T=${T:-1}; PP=${PP:-128,1024}; REPS=${REPS:-2}
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

run_llama() {   # FILE OUT.json; CPU seconds per length in OUT.json.cpu.N
  "$LB/llama-bench" -m "$1" -t "$T" -p "$PP" -n 0 -r "$REPS" -o json > "$TMP/$2" 2>/dev/null
  for n in 16 ${PP//,/ }; do
    /usr/bin/time -f "%U %S" -o "$TMP/$2.cpu.$n" "$LB/llama-bench" -m "$1" -t "$T" -p "$n" -n 0 -r "$REPS" \
      --no-warmup > /dev/null 2>&1
  done
}
run_smc() { "$1" bench -m "$2" -t "$T" --prompt "$PP" --reps "$REPS" --seqs 1 --time 0.1 --prefix 16 --json \
                > "$TMP/$3" 2>/dev/null; }

for r in $(seq 1 "$ROUNDS"); do
  for f in "$@"; do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if [ $((r % 2)) -eq 1 ]; then
      run_llama "$f" lb.json; run_smc "$A" "$f" a.json; [ -n "$B" ] && run_smc "$B" "$f" b.json
    else
      [ -n "$B" ] && run_smc "$B" "$f" b.json; run_smc "$A" "$f" a.json; run_llama "$f" lb.json
    fi
    python3 - "$TMP" "$r" "$(basename "$f")" "$load" "$B" "$REPS" <<'EOF'
import json, os, sys
tmp, r, name, load, has_b, reps = sys.argv[1:7]
def cpu(n):
    try:
        u, s = open(os.path.join(tmp, f"lb.json.cpu.{n}")).read().split()[-2:]
        return float(u) + float(s)
    except Exception:
        return None
def smc(fn):
    try:
        return {p["tokens"]: (p["tokens_per_s_mean"], p["tokens_per_cpu_s"]) for p in json.load(open(os.path.join(tmp, fn)))["prompt"]}
    except Exception:
        return {}
try:
    lb = {x["n_prompt"]: x["avg_ts"] for x in json.load(open(os.path.join(tmp, "lb.json"))) if x["n_gen"] == 0}
except Exception:
    lb = {}
a, b = smc("a.json"), smc("b.json") if has_b else {}
for n in sorted(set(a) | set(lb)):
    l = lb.get(n); x = a.get(n); y = b.get(n)
    c16, cn = cpu(16), cpu(n)
    lc = int(reps) * (n - 16) / (cn - c16) if c16 is not None and cn is not None and cn > c16 else None
    row = f"r{r} {name:24s} pp{n:<5d} wall: llama {l or 0:6.1f} smcgen {x[0] if x else 0:6.1f}"
    if l and x: row += f" ({x[0] / l:4.2f})"
    if y: row += f" B {y[0]:6.1f}" + (f" ({y[0] / l:4.2f})" if l else "")
    row += f" | per cpu-s: llama {lc or 0:6.1f} smcgen {x[1] if x else 0:6.1f}"
    if lc and x: row += f" ({x[1] / lc:4.2f})"
    if y: row += f" B {y[1]:6.1f}" + (f" ({y[1] / lc:4.2f})" if lc else "")
    print(row + f" | load {load}", flush=True)
EOF
  done
done
