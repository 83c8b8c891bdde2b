#!/usr/bin/env bash
# test_eval_shard.sh — `smcgen eval --shard I/N` and `--merge`: a tiny spider
# run made in one go and in 3 shards; each shard runs exactly the instances
# i with i % 3 == I, and the merged folder has the same units (timings
# aside) and the same report (commands and timing columns aside) as the
# unsharded run. Also: bad --shard values, a missing shard, a shard given
# twice and shards of different runs are refused.
# Usage: bash tests/cli/test_eval_shard.sh path/to/smcgen
set -u
BIN=${1:?usage: test_eval_shard.sh path/to/smcgen}
SHARED=${SMCGEN_SHARED:-../shared}
MODEL=$SHARED/models/small-q8_0.gguf
if [ ! -f "$MODEL" ] || [ ! -d "$SHARED/data" ]; then
  echo "SKIP: $SHARED (models, data) is absent"; exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 is absent"; exit 77; }
OUT=$(mktemp -d /tmp/smc_test_shard.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

for bad in 3/3 -1/3 1/0 x/2 1/2x 1; do
  "$BIN" eval --shard "$bad" >/dev/null 2>&1; [ $? -eq 2 ] || fail "--shard $bad should exit 2"
done
"$BIN" eval --help | grep -q -- "--merge DIR" || fail "--help lacks --merge"
"$BIN" eval --help | grep -q -- "--resample S" || fail "--help lacks --resample"
"$BIN" eval --resample bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "--resample bogus should exit 2"

LIMIT=3
ARGS=(-q --task spider --limit $LIMIT --replicates 2 --particles 2 --methods plain,smc
      --particle-sweep 1 --sweep-limit 2 --max-tokens 24 --resample systematic --ess 0.5
      --models small="$MODEL" -t 1)
"$BIN" eval "${ARGS[@]}" --out "$OUT/whole" >/dev/null 2>"$OUT/err" || { cat "$OUT/err"; fail "unsharded run"; }
for i in 0 1 2; do
  "$BIN" eval "${ARGS[@]}" --shard $i/3 --out "$OUT/s$i" >/dev/null 2>"$OUT/err" || { cat "$OUT/err"; fail "shard $i"; }
done
"$BIN" eval --merge "$OUT/s0" "$OUT/s1" "$OUT/s2" --out "$OUT/merged" >/dev/null 2>"$OUT/err" \
  || { cat "$OUT/err"; fail "merge"; }

python3 - "$OUT" <<'PY' || fail "merged run differs from the unsharded run"
import json, re, sys
d = sys.argv[1]
def units(p):
    return [json.loads(l) for l in open(p) if l.strip()]
def strip(u):
    return {k: v for k, v in u.items() if not k.startswith("t_")}
whole = units(d + "/whole/units.jsonl")
assert len(whole) == 3 * 2 * 2 + 2 * 2, len(whole)   # 3 inst x 2 methods x 2 reps + sweep
for i in range(3):
    sh = units(d + "/s%d/units.jsonl" % i)
    assert sh and all(u["instance_index"] % 3 == i for u in sh), i
    cfg = json.load(open(d + "/s%d/config.json" % i))
    assert cfg["shard"] == {"index": i, "count": 3} and cfg["resample"] == "systematic", cfg
key = lambda u: (u["task"], u["model"], u["method"], u["n_particles"], u["instance"], u["replicate"])
a = {key(u): strip(u) for u in whole}
b = {key(u): strip(u) for u in units(d + "/merged/units.jsonl")}
assert a.keys() == b.keys(), set(a) ^ set(b)
for k in a:
    assert a[k] == b[k], ("unit differs", k)
ra, rb = json.load(open(d + "/whole/results.json")), json.load(open(d + "/merged/results.json"))
assert [key(u) for u in ra["units"]] == [key(u) for u in rb["units"]], "unit order"
ga = [strip(g) for g in ra["groups"]]; gb = [strip(g) for g in rb["groups"]]
assert ga == gb, (ga, gb)
assert "shard" not in rb["config"] and len(rb["config"]["merged_from"]) == 3
def summary(p):
    out, skip = [], False
    for line in open(p):
        if line.startswith("Made by"):
            skip = True; continue
        if skip:
            if line.startswith("    ") or not line.strip():
                continue
            skip = False
        if line.startswith("| ") and line.count("|") == 14:   # diagnostics: drop the timing cells
            line = "|".join(line.split("|")[:9])
        out.append(line)
    return out
sa, sb = summary(d + "/whole/summary.md"), summary(d + "/merged/summary.md")
assert sa == sb, [x for x in zip(sa, sb) if x[0] != x[1]][:3]
assert any("Paired differences" in l for l in sa)
PY

# Refusals: a missing shard, a shard twice, an existing output, shards of different runs.
"$BIN" eval --merge "$OUT/s0" "$OUT/s1" --out "$OUT/m2" >/dev/null 2>"$OUT/err"
[ $? -eq 1 ] && grep -q "shard 2/3 is missing" "$OUT/err" || fail "a missing shard was not refused"
"$BIN" eval --merge "$OUT/s0" "$OUT/s1" "$OUT/s1" --out "$OUT/m3" >/dev/null 2>"$OUT/err"
[ $? -eq 1 ] && grep -q "given twice" "$OUT/err" || fail "a shard given twice was not refused"
"$BIN" eval --merge "$OUT/s0" "$OUT/s1" "$OUT/s2" --out "$OUT/merged" >/dev/null 2>&1
[ $? -eq 1 ] || fail "merging into a folder with results should exit 1"
cp -r "$OUT/s2" "$OUT/s2b"
sed -i 's/"replicates":[[:space:]]*2/"replicates": 3/' "$OUT/s2b/config.json"
"$BIN" eval --merge "$OUT/s0" "$OUT/s1" "$OUT/s2b" --out "$OUT/m4" >/dev/null 2>"$OUT/err"
[ $? -eq 1 ] && grep -q "differ in replicates" "$OUT/err" || { cat "$OUT/err"; fail "shards of different runs were not refused"; }
[ ! -s "$OUT/m4/units.jsonl" ] || fail "a refused merge left units behind"
echo "test_eval_shard: ok"
