#!/usr/bin/env bash
# test_trace.sh — `smcgen smc --trace` end to end on the bundled model: the
# trace's result is the run's --json result; a replay of the trace in Python
# (independent of the C test's) gives every log-weight, the final particles,
# the posterior and log Ẑ; with the SQL critic on a Spider database the
# deaths carry SQLite's reasons; eval --trace-dir writes one trace per
# unit; bad paths fail with a clear message.
set -u
bin=$1
fail=0
check() { if eval "$2"; then :; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SHARED=${SMCGEN_SHARED:-../shared}

cat > "$tmp/replay.py" <<'PY'
import json, math, sys
t = json.load(open(sys.argv[1]))
assert t["format"] == "smcgen-trace" and t["version"] == 1
cfg, res = t["config"], t["result"]
n = cfg["particles"]
text = [b""] * n; logw = [0.0] * n; twist = [0.0] * n
ninf = -math.inf
def lme(xs):
    m = max(xs)
    return m if m == ninf else m + math.log(sum(math.exp(x - m) for x in xs) / len(xs))
def near(a, b):
    a = ninf if a is None else a; b = ninf if b is None else b
    return a == b if ninf in (a, b) else abs(a - b) <= 1e-9 * (1 + abs(a))
deaths = {}
for s in t["steps"]:
    for e in s["particles"]:
        i = e["i"]
        text[i] += bytes.fromhex(e["hex"]) if "hex" in e else e["text"].encode()
        if e["token"] < 0 or e["mass"] is None: logw[i] = ninf
        elif cfg["weight_correction"]: logw[i] += e["mass"]
        if "critic" in e:
            v = e["critic"]["score"]
            logw[i] = ninf if v is None else logw[i] + v - twist[i]
            twist[i] = 0 if e["critic"]["mode"] == "complete" else (v or 0)
        assert near(logw[i], e["logw"]), (e, logw[i])
        if "death" in e:
            deaths[e["death"]["reason"]] = deaths.get(e["death"]["reason"], 0) + 1
    if "resample" in s:
        m = lme(logw)
        assert near(s["resample"]["logw"], m)
        p = s["resample"]["parents"]
        text = [text[j] for j in p]; twist = [twist[j] for j in p]; logw = [m] * n
assert len(t["steps"]) == res["steps"]
assert sum("resample" in s for s in t["steps"]) == res["resamples"]
lz = lme(logw)
assert near(lz, res["log_z"]), (lz, res["log_z"])
for i, p in enumerate(res["particle_list"]):
    assert text[i].decode("utf-8", "replace") == p["text"] and near(logw[i], p["log_weight"])
post = {}
for i in range(n):
    if logw[i] > ninf:
        k = text[i].decode("utf-8", "replace")
        post[k] = post.get(k, 0) + math.exp(logw[i] - lz) / n
assert len(post) == len(res["posterior"])
for e in res["posterior"]:
    assert abs(post[e["text"]] - e["prob"]) < 1e-9, e
print(json.dumps({"steps": len(t["steps"]), "resamples": res["resamples"], "deaths": deaths}))
PY

# A regex run: the trace replays, and its result is the --json result.
"$bin" smc -q -p 'Phone: ' --regex '[0-9]{3}-[0-9]{4}' --particles 8 --max-tokens 12 --json \
    --trace "$tmp/re.json" > "$tmp/re.out" 2> "$tmp/re.err"
check "regex run with --trace exits 0" "[ $? -eq 0 ]"
check "stderr says where the trace went" "grep -q 'written to $tmp/re.json' '$tmp/re.err'"
python3 "$tmp/replay.py" "$tmp/re.json" > "$tmp/re.replay" || { echo "FAIL: regex trace replay"; fail=1; }
python3 - "$tmp/re.json" "$tmp/re.out" <<'PY' || { echo "FAIL: trace result vs --json"; fail=1; }
import json, sys
t = json.load(open(sys.argv[1])); r = json.load(open(sys.argv[2]))
for d in (t["result"], r):
    d.pop("time_s")
assert t["result"] == r, "the trace's result differs from --json"
assert t["info"]["prompt"] == "Phone: " and "--trace" in t["info"]["command"]
assert t["config"]["method"] == "smc" and t["config"]["constraint"]
PY

# The SQL critic on a Spider database: lineages die with SQLite's reasons.
db="$SHARED/data/spider/database/poker_player/poker_player.sqlite"
if [ -f "$db" ]; then
  printf -- '-- Database: poker_player\nCREATE TABLE poker_player (Poker_Player_ID, People_ID, Final_Table_Made, Best_Finish, Money_Rank, Earnings);\nCREATE TABLE people (People_ID, Nationality, Name, Birth_Date, Height);\n-- Question: What are the names of poker players?\n' > "$tmp/sql.txt"
  # (the first seeds whose run has a lineage killed by the critic)
  killed=0
  for seed in 1 2 3 4 5 6; do
    "$bin" smc -q -f "$tmp/sql.txt" --critic "sql:$db" --particles 12 --max-tokens 40 --seed $seed \
        --trace "$tmp/sql.json" > /dev/null 2>&1
    check "sql run with --trace exits 0 (seed $seed)" "[ $? -eq 0 ]"
    python3 "$tmp/replay.py" "$tmp/sql.json" > "$tmp/sql.replay" || { echo "FAIL: sql trace replay"; fail=1; }
    echo "sql seed $seed: $(cat "$tmp/sql.replay")"
    python3 - "$tmp/sql.json" <<'PY' || { echo "FAIL: sql trace critic calls"; fail=1; }
import json, sys
t = json.load(open(sys.argv[1]))
assert all(e["death"]["reason"] for s in t["steps"] for e in s["particles"] if "death" in e)
calls = sum(s["critic_calls"] for s in t["steps"])
scored = sum("critic" in e for s in t["steps"] for e in s["particles"])
assert calls == scored and calls > 0, (calls, scored)
PY
    if grep -q '"by":"critic","reason":"no such' "$tmp/sql.json"; then killed=1; break; fi
  done
  check "a lineage died by the SQL critic, with SQLite's reason" "[ $killed -eq 1 ]"
else
  echo "note: $db absent; SQL trace check skipped"
fi

# eval --trace-dir: one trace per unit, each replaying to its result.
if [ -d "$SHARED/data/molecules" ]; then
  "$bin" eval -q --task molecules --limit 1 --replicates 1 --particles 3 --methods smc-full,lcd \
      -m models/default.gguf --out "$tmp/ev" --trace-dir "$tmp/evt" > /dev/null 2>&1
  check "eval --trace-dir exits 0" "[ $? -eq 0 ]"
  units=$(wc -l < "$tmp/ev/units.jsonl")
  ntr=$(ls "$tmp/evt"/*.json 2>/dev/null | wc -l)
  check "one trace per unit ($ntr traces, $units units)" "[ $ntr -eq $units ] && [ $units -ge 2 ]"
  for f in "$tmp/evt"/*.json; do
    python3 "$tmp/replay.py" "$f" > /dev/null || { echo "FAIL: eval trace $f replay"; fail=1; }
  done
else
  echo "note: $SHARED/data/molecules absent; eval --trace-dir check skipped"
fi

# Bad paths: a clear message and exit 1.
out=$("$bin" smc -q -p x --regex a --trace /nonexistent-dir/t.json 2>&1); rc=$?
check "unwritable --trace exits 1" "[ $rc -eq 1 ]"
check "message names the trace file" "[[ \"\$out\" == *'/nonexistent-dir/t.json'* ]]"

echo "regex: $(cat "$tmp/re.replay" 2>/dev/null)"
exit $fail
