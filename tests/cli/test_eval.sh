#!/usr/bin/env bash
# test_eval.sh — `smcgen eval` end to end on a tiny limit: runs two tasks with
# the small model, checks results.json's arithmetic with python3 (weights sum
# to 1 per run, scores in [0,1], run score = Σ w·score, group means and CIs),
# summary.md, --resume (no unit is redone; new replicates are added) and
# usage errors. Usage: bash tests/cli/test_eval.sh path/to/smcgen
set -u
BIN=${1:?usage: test_eval.sh path/to/smcgen}
SHARED=${SMCGEN_SHARED:-../shared}
MODEL=$SHARED/models/small-q8_0.gguf
if [ ! -f "$MODEL" ] || [ ! -d "$SHARED/data" ]; then
  echo "SKIP: $SHARED (models, data) is absent"; exit 77
fi
command -v python3 >/dev/null || { echo "SKIP: python3 is absent"; exit 77; }
OUT=$(mktemp -d /tmp/smc_test_eval.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Usage errors exit 2.
"$BIN" eval --task nosuch >/dev/null 2>&1; [ $? -eq 2 ] || fail "--task nosuch should exit 2"
"$BIN" eval --methods plain,bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "--methods bogus should exit 2"
"$BIN" eval --particles 0 >/dev/null 2>&1; [ $? -eq 2 ] || fail "--particles 0 should exit 2"
"$BIN" eval --models small >/dev/null 2>&1; [ $? -eq 2 ] || fail "--models without =PATH should exit 2"
"$BIN" eval --help | grep -q -- "--particle-sweep" || fail "--help lacks --particle-sweep"
# The sampling options come from the run-option table, with its messages.
for f in --ess --resample --resample-at --temp --proposal --particles --max-tokens --seed; do
  "$BIN" eval --help | grep -q -- "^  $f " || fail "--help lacks $f"
done
"$BIN" eval --ess 2 2>"$OUT/err" >/dev/null; [ $? -eq 2 ] || fail "--ess 2 should exit 2"
grep -q "^smcgen: --ess: '2' is not a number in \[0, 1\]" "$OUT/err" || fail "--ess 2 message: $(cat "$OUT/err")"
"$BIN" eval --resample-at boundary 2>"$OUT/err" >/dev/null; [ $? -eq 2 ] || fail "--resample-at boundary should exit 2"
grep -q "unknown value 'boundary' (step, critic)" "$OUT/err" || fail "--resample-at message: $(cat "$OUT/err")"

# They reach the sampler and config.json: ESS threshold 0 never resamples,
# 1 resamples whenever the weights differ.
for e in 0 1; do
  "$BIN" eval -q --task molecules --methods smc,smc-full --limit 1 --replicates 1 --particles 4 --ess $e \
    --resample systematic --resample-at critic --temp 0.8 --particle-sweep 2 --sweep-tasks spider --ctx 360 \
    --models small="$MODEL" --out "$OUT/ess$e" -t 1 \
    >/dev/null 2>"$OUT/stderr" || { cat "$OUT/stderr"; fail "eval --ess $e failed"; }
done
python3 - "$OUT/ess0" "$OUT/ess1" <<'PY' || fail "--ess / --resample-at / --temp not applied"
import json, sys
for d, e in zip(sys.argv[1:], (0, 1)):
    c = json.load(open(d + "/config.json"))
    assert (c["ess_threshold"], c["resample"], c["resample_at"], c["temperature"]) == (e, "systematic", "critic", 0.8), c
    # no sweep units (the sweep is for spider only); the context of 360 leaves fewer than 64 tokens
    assert c["sweep_tasks"] == [] and c["n_ctx"] == {"molecules": 360}, c
    n = [json.loads(l)["n_resamples"] for l in open(d + "/units.jsonl")]
    assert len(n) == 2 and (sum(n) == 0 if e == 0 else sum(n) > 0), (e, n)
    assert all(json.loads(l)["max_tokens"] < 64 for l in open(d + "/units.jsonl"))
PY

# Blocksworld's own context (1024): bw-dev-011's long prompt leaves its 160 tokens there, and only
# 95 of the model's 512 with --ctx 512 (one 1-particle plain run each: shard 11/12 of the first 12).
for c in task 512; do
  extra=(); [ $c = 512 ] && extra=(--ctx 512)
  "$BIN" eval -q --task blocksworld --methods plain --particles 1 --replicates 1 --limit 12 --shard 11/12 "${extra[@]}" \
    --models small="$MODEL" --out "$OUT/ctx-$c" -t 1 >/dev/null 2>"$OUT/stderr" || { cat "$OUT/stderr"; fail "eval ctx $c"; }
done
python3 - "$OUT" <<'PY' || fail "blocksworld's context length"
import json, sys
for c, ctx, mt in (("task", 1024, 160), ("512", 512, 95)):
    d = sys.argv[1] + "/ctx-" + c
    assert json.load(open(d + "/config.json"))["n_ctx"] == {"blocksworld": ctx}, c
    u = [json.loads(l) for l in open(d + "/units.jsonl")]
    assert [(x["instance"], x["max_tokens"]) for x in u] == [("bw-dev-011", mt)], (c, u)
PY

# The model settings --load and --mlock come from the option table too: named in --help, its
# message for a bad value, and the same run with the file read into memory and locked.
"$BIN" eval --help | grep -q -- "^  --load HOW " || fail "--help lacks --load"
"$BIN" eval --help | grep -q -- "^  --mlock " || fail "--help lacks --mlock"
"$BIN" eval --load disk 2>"$OUT/err" >/dev/null; [ $? -eq 2 ] || fail "--load disk should exit 2"
grep -q "^smcgen: --load: unknown value 'disk' (auto, mmap, read)" "$OUT/err" || fail "--load message: $(cat "$OUT/err")"
# Where the lock can be refused (a 64 KB RLIMIT_MEMLOCK without CAP_IPC_LOCK) its warning shows
# that --mlock reached the model's loading; the run goes on unlocked.
nocap=""; refuse=false
if [ "$(id -u)" = 0 ] && setpriv --bounding-set=-ipc_lock true 2>/dev/null; then nocap="setpriv --bounding-set=-ipc_lock"; fi
if [ "$(id -u)" != 0 ] || [ -n "$nocap" ]; then refuse=true; fi
( if $refuse; then ulimit -S -l 64 2>/dev/null || ulimit -S -l 0; fi
  exec $nocap "$BIN" eval -q --task blocksworld --methods plain --particles 1 --replicates 1 --limit 12 --shard 11/12 \
    --load read --mlock --models small="$MODEL" --out "$OUT/ctx-read" -t 1 ) >/dev/null 2>"$OUT/stderr" \
  || { cat "$OUT/stderr"; fail "eval --load read --mlock"; }
if $refuse; then
  grep -q "warning: cannot lock .*small-q8_0.gguf.* RLIMIT_MEMLOCK" "$OUT/stderr" || fail "eval --mlock did not reach the model: $(cat "$OUT/stderr")"
fi
python3 - "$OUT" <<'PY' || fail "--load read --mlock changed the run"
import json, sys
part = lambda d: [[(p["text"], p["log_weight"]) for p in json.loads(l)["particles"]]
                  for l in open(sys.argv[1] + d + "/units.jsonl")]
assert part("/ctx-read") == part("/ctx-task") and part("/ctx-task"), (part("/ctx-read"), part("/ctx-task"))
PY

# Under sanitizers (slow) one task; else two.
TASKS=spider,blocksworld; NT=2
[ -n "${SMC_TEST_SANITIZED:-}" ] && { TASKS=spider; NT=1; }
RUN=$OUT/run
"$BIN" eval -q --task $TASKS --limit 1 --replicates 2 --particles 3 \
  --particle-sweep 1,3,4 --models small="$MODEL" --out "$RUN" -t 1 > "$OUT/stdout" 2> "$OUT/stderr" \
  || { cat "$OUT/stderr"; fail "eval run failed"; }
for f in units.jsonl results.json summary.md config.json; do
  [ -s "$RUN/$f" ] || fail "$f missing"
done
# tasks x 1 instance x 2 replicates x (7 methods + sweep 1 and 4) = 18 units per task
n=$(wc -l < "$RUN/units.jsonl")
[ "$n" -eq $((18 * NT)) ] || fail "expected $((18 * NT)) units, got $n"

python3 - "$RUN/results.json" $((18 * NT)) <<'PY' || fail "results.json arithmetic"
import json, math, sys
r = json.load(open(sys.argv[1]))
units, groups = r["units"], r["groups"]
assert len(units) == int(sys.argv[2]), len(units)
bad = []
for u in units:
    ws = [p["weight"] for p in u["particles"]]
    assert len(ws) == u["n_particles"], u
    for p in u["particles"]:
        assert 0 <= p["score"] <= 1, p
        assert 0 <= p["weight"] <= 1 + 1e-12, p
    if u["all_dead"]:
        assert sum(ws) == 0 and u["score"] == 0, u
    else:
        assert abs(sum(ws) - 1) < 1e-9, ("weights sum", sum(ws), u["method"])
        # the weights are the normalised exp(log_weight)
        lw = [p["log_weight"] for p in u["particles"]]
        fin = [x for x in lw if x is not None]
        m = max(fin)
        z = sum(math.exp(x - m) for x in fin)
        for p in u["particles"]:
            want = 0 if p["log_weight"] is None else math.exp(p["log_weight"] - m) / z
            assert abs(p["weight"] - want) < 1e-9, (p, want)
    s = sum(p["weight"] * p["score"] for p in u["particles"])
    assert abs(s - u["score"]) < 1e-9, (s, u["score"])
    assert 0 <= u["score"] <= 1
    if u["method"] == "plain":
        assert u["n_resamples"] == 0
keys = {(u["task"], u["model"], u["method"], u["n_particles"]) for u in units}
main = [g for g in groups if not g["method"].endswith(":sweep")]
assert len(main) == len(keys), (len(main), len(keys))
for g in groups:
    method = g["method"].replace(":sweep", "")   # one instance: the sweep covers them all
    mine = [u["score"] for u in units if (u["task"], u["model"], u["method"], u["n_particles"]) ==
            (g["task"], g["model"], method, g["n_particles"])]
    assert g["n_runs"] == len(mine)
    mean = sum(mine) / len(mine)
    assert abs(g["score"] - mean) < 1e-9, (g, mean)
    assert g["score_ci_lo"] - 1e-12 <= g["score"] <= g["score_ci_hi"] + 1e-12, g
    assert 0 <= g["score_ci_lo"] <= g["score_ci_hi"] <= 1, g
# the sweep: smc-full at 1, 3 and 4 particles
assert {g["n_particles"] for g in groups if g["method"] == "smc-full"} == {1, 3, 4}
assert {g["n_particles"] for g in groups if g["method"] == "smc-full:sweep"} == {3}
assert {g["method"] for g in main} == {"plain", "lcd", "is", "smc", "rerank", "is-full", "smc-full"}
PY

grep -q "^| smc-full |" "$RUN/summary.md" || fail "summary.md lacks the smc-full row"
grep -q "score vs particles" "$RUN/summary.md" || fail "summary.md lacks the sweep"

# --resume: nothing is redone...
cp "$RUN/units.jsonl" "$OUT/before.jsonl"
"$BIN" eval -q --task $TASKS --limit 1 --replicates 2 --particles 3 \
  --particle-sweep 1,3,4 --models small="$MODEL" --out "$RUN" -t 1 --resume >/dev/null 2>"$OUT/stderr" \
  || { cat "$OUT/stderr"; fail "resume failed"; }
cmp -s "$RUN/units.jsonl" "$OUT/before.jsonl" || fail "--resume redid finished units"
# ...and a third replicate adds exactly the new units (7 + 2 sweep per task).
"$BIN" eval -q --task $TASKS --limit 1 --replicates 3 --particles 3 \
  --particle-sweep 1,3,4 --models small="$MODEL" --out "$RUN" -t 1 --resume >/dev/null 2>"$OUT/stderr" \
  || { cat "$OUT/stderr"; fail "resume with more replicates failed"; }
n=$(wc -l < "$RUN/units.jsonl")
[ "$n" -eq $((27 * NT)) ] || fail "expected $((27 * NT)) units after the third replicate, got $n"
head -$((18 * NT)) "$RUN/units.jsonl" | cmp -s - "$OUT/before.jsonl" || fail "--resume rewrote old units"
# Without --resume an existing run is refused.
"$BIN" eval -q --task spider --limit 1 --models small="$MODEL" --out "$RUN" >/dev/null 2>&1
[ $? -eq 1 ] || fail "an existing run without --resume should exit 1"
echo "test_eval: ok"
