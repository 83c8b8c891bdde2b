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

python3 tests/cli/compare_eval_runs.py "$OUT/whole" "$OUT/merged" || fail "merged run differs from the unsharded run"
python3 - "$OUT" <<'PY' || fail "shards"
import json, sys
d = sys.argv[1]
units = lambda p: [json.loads(l) for l in open(p) if l.strip()]
assert len(units(d + "/whole/units.jsonl")) == 3 * 2 * 2 + 2 * 2   # 3 inst x 2 methods x 2 reps + sweep
for i in range(3):
    sh = units(d + "/s%d/units.jsonl" % i)
    assert sh and all(u["instance_index"] % 3 == i for u in sh), i
    cfg = json.load(open(d + "/s%d/config.json" % i))
    assert cfg["shard"] == {"index": i, "count": 3} and cfg["resample"] == "systematic", cfg
merged = json.load(open(d + "/merged/results.json"))["config"]
assert "shard" not in merged and len(merged["merged_from"]) == 3
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
