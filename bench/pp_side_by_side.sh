#!/bin/bash
# pp_side_by_side.sh — prompt processing of smcgen and llama.cpp, interleaved on
# the same GGUF files (order flipped every round), with an optional second smcgen
# binary (e.g. a build of main before a change) in the same rounds. Prints, per
# round, model and prompt length: tokens/s (wall clock, mean of the reps) of each
# engine, smcgen/llama.cpp ratios, smcgen tokens per CPU-second, and the load average.
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

run_llama() { "$LB/llama-bench" -m "$1" -t "$T" -p "$PP" -n 0 -r "$REPS" -o json > "$TMP/$2" 2>/dev/null; }
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
    python3 - "$TMP" "$r" "$(basename "$f")" "$load" "$B" <<'EOF'
import json, os, sys
tmp, r, name, load, has_b = sys.argv[1:6]
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
    row = f"round {r} {name:28s} pp{n:<5d} llama {l or 0:7.1f}  smcgen {x[0] if x else 0:7.1f} ({x[1] if x else 0:6.1f}/cpu-s)"
    if l and x: row += f"  ratio {x[0] / l:5.2f}"
    if y:
        row += f" | B {y[0]:7.1f} ({y[1]:6.1f}/cpu-s)"
        if l: row += f" ratio {y[0] / l:5.2f}"
    print(row + f"  load {load}", flush=True)
EOF
  done
done
