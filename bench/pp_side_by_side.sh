#!/bin/bash
# pp_side_by_side.sh — prompt processing (pp) and single-sequence decode (tg) of
# smcgen and llama.cpp, interleaved on the same GGUF files (order flipped every
# round), with an optional second smcgen binary (e.g. a build of main before a
# change) in the same rounds. Prints, per round, model and test: tokens/s (wall
# clock) of each engine and their ratio, then tokens per CPU-second of each engine
# and their ratio, and the load average.
#   pp N:  a fresh N-token prompt; smcgen: mean of the reps; llama-bench -p N -n 0.
#   tg N:  decode of one sequence, one token per step, at contexts 16..N (N > 16):
#          llama-bench -p 0 -n N; smcgen bench --seqs 1 --prefix 16 --steps N-16.
# CPU-seconds: smcgen measures its process CPU time around each prompt / decode
# step; llama-bench (--no-warmup) runs under /usr/bin/time once per test and once
# with 16 tokens, and the difference of the two CPU times (load, set-up and the
# first 16 tokens cancel) is charged to the N - 16 extra tokens of each rep.
# On a loaded machine CPU time is far steadier than wall clock.
# Figures, not a test; the machine's load moves between runs, so compare within a round.
#
# usage: LLAMA_BIN=/path/to/llama.cpp/bin bench/pp_side_by_side.sh ROUNDS FILE.gguf...
# env:   SMCGEN (default build/smcgen), SMCGEN_B (second binary, optional),
#        T (threads, default 1), PP (prompt lengths, default 128,1024; empty: none),
#        TG (decode length, e.g. 64; default empty: no decode test), REPS (default 2)
set -u
ROUNDS=${1:?usage: pp_side_by_side.sh ROUNDS FILE.gguf...}; shift
LB=${LLAMA_BIN:?set LLAMA_BIN to the bin folder of a llama.cpp build}
A=${SMCGEN:-build/smcgen}
B=${SMCGEN_B:-}
T=${T:-1}; PP=${PP-128,1024}; TG=${TG:-}; REPS=${REPS:-2}
if [ -n "$TG" ] && [ "$TG" -le 16 ]; then echo "TG must be above 16" >&2; exit 2; fi
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT

lbcpu() {   # OUT ARGS...: llama-bench CPU seconds (user + system) into $TMP/OUT
  /usr/bin/time -f "%U %S" -o "$TMP/$1" "$LB/llama-bench" "${@:2}" -t "$T" -r "$REPS" --no-warmup > /dev/null 2>&1
}
run_llama() {   # FILE OUT.json; CPU seconds per test in OUT.json.cpu.{pN,tN}
  rm -f "$TMP/$2" "$TMP/$2".*
  if [ -n "$PP" ]; then
    "$LB/llama-bench" -m "$1" -t "$T" -p "$PP" -n 0 -r "$REPS" -o json > "$TMP/$2.pp" 2>/dev/null
    for n in 16 ${PP//,/ }; do lbcpu "$2.cpu.p$n" -m "$1" -p "$n" -n 0; done
  fi
  if [ -n "$TG" ]; then
    "$LB/llama-bench" -m "$1" -t "$T" -p 0 -n "$TG" -r "$REPS" -o json > "$TMP/$2.tg" 2>/dev/null
    for n in 16 "$TG"; do lbcpu "$2.cpu.t$n" -m "$1" -p 0 -n "$n"; done
  fi
}
run_smc() {   # BINARY FILE OUT.json
  rm -f "$TMP/$3" "$TMP/$3".*
  [ -n "$PP" ] && "$1" bench -m "$2" -t "$T" --prompt "$PP" --reps "$REPS" --seqs 1 --time 0.1 --prefix 16 --json \
                    > "$TMP/$3.pp" 2>/dev/null
  [ -n "$TG" ] && "$1" bench -m "$2" -t "$T" --seqs 1 --prefix 16 --steps $((TG - 16)) --time 1000 --json \
                    > "$TMP/$3.tg" 2>/dev/null
  return 0
}

for r in $(seq 1 "$ROUNDS"); do
  for f in "$@"; do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    if [ $((r % 2)) -eq 1 ]; then
      run_llama "$f" lb.json; run_smc "$A" "$f" a.json; [ -n "$B" ] && run_smc "$B" "$f" b.json
    else
      [ -n "$B" ] && run_smc "$B" "$f" b.json; run_smc "$A" "$f" a.json; run_llama "$f" lb.json
    fi
    python3 - "$TMP" "$r" "$(basename "$f")" "$load" "$B" "$REPS" "$TG" <<'EOF'
import json, os, sys
tmp, r, name, load, has_b, reps, tg = sys.argv[1:8]
def load_json(fn):
    try:
        return json.load(open(os.path.join(tmp, fn)))
    except Exception:
        return None
def cpu(key):
    try:
        u, s = open(os.path.join(tmp, f"lb.json.cpu.{key}")).read().split()[-2:]
        return float(u) + float(s)
    except Exception:
        return None
def smc(fn):   # {("pp"|"tg", N): (tokens/s, tokens per CPU-second)}
    out = {}
    j = load_json(fn + ".pp")
    for p in (j or {}).get("prompt", []):
        out["pp", p["tokens"]] = (p["tokens_per_s_mean"], p["tokens_per_cpu_s"])
    j = load_json(fn + ".tg")
    for d in (j or {}).get("decode", []):
        if d["sequences"] == 1 and tg:
            out["tg", int(tg)] = (d["tokens_per_s"], d["tokens_per_cpu_s"])
    return out
lb = {}
for x in load_json("lb.json.pp") or []:
    if x["n_gen"] == 0:
        lb["pp", x["n_prompt"]] = x["avg_ts"]
for x in load_json("lb.json.tg") or []:
    if x["n_prompt"] == 0:
        lb["tg", x["n_gen"]] = x["avg_ts"]
a, b = smc("a.json"), smc("b.json") if has_b else {}
for key in sorted(set(a) | set(lb)):
    kind, n = key
    l = lb.get(key); x = a.get(key); y = b.get(key)
    c16, cn = cpu(kind[0] + "16"), cpu(f"{kind[0]}{n}")
    lc = int(reps) * (n - 16) / (cn - c16) if c16 is not None and cn is not None and cn > c16 else None
    row = f"r{r} {name:24s} {kind}{n:<5d} wall: llama {l or 0:6.1f} smcgen {x[0] if x else 0:6.1f}"
    if l and x: row += f" ({x[0] / l:4.2f})"
    if y: row += f" B {y[0]:6.1f}" + (f" ({y[0] / l:4.2f})" if l else "")
    row += f" | per cpu-s: llama {lc or 0:6.1f} smcgen {x[1] if x else 0:6.1f}"
    if lc and x: row += f" ({x[1] / lc:4.2f})"
    if y: row += f" B {y[1]:6.1f}" + (f" ({y[1] / lc:4.2f})" if lc else "")
    print(row + f" | load {load}", flush=True)
EOF
  done
done
