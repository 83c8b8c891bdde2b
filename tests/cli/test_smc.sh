#!/usr/bin/env bash
# test_smc.sh — `smcgen smc` and `smcgen demo` end to end on the bundled
# model: constraints hold in every sample (checked with Python's re and the
# grammar command), posteriors are normalised, bad arguments and failing
# critics give clear errors and the right exit codes.
set -u
bin=$1
fail=0
check() { if eval "$2"; then :; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A regex constraint: every particle must match it in full.
"$bin" smc -q -p 'Phone: ' --regex '[0-9]{3}-[0-9]{4}' --particles 6 --max-tokens 12 --json > "$tmp/re.json"
check "regex run exits 0" "[ $? -eq 0 ]"
python3 - "$tmp/re.json" <<'PY' || fail=1
import json, re, sys, math
r = json.load(open(sys.argv[1]))
assert r["method"] == "smc", r["method"]
ps = r["particle_list"]
assert len(ps) == 6
for p in ps:
    if p["log_weight"] is not None and p["log_weight"] > -math.inf:
        assert re.fullmatch(r"[0-9]{3}-[0-9]{4}", p["text"]), p["text"]
total = sum(e["prob"] for e in r["posterior"])
assert abs(total - 1) < 1e-9, total
print("regex ok:", [p["text"] for p in ps])
PY

# Think-then-constrain: free text, then after the first "= " a number. With
# --trigger-required every live particle contains the trigger and what
# follows its first occurrence matches the regex; a regex trigger works the
# same way; bad triggers are clear errors.
"$bin" smc -q -p 'x = 1\ny = 2\nz' --constrain-after '= ' --trigger-required --regex '[0-9]{1,3}\n' \
    --particles 6 --max-tokens 24 --stop '\n\n' --json > "$tmp/lazy.json"
check "constrain-after run exits 0" "[ $? -eq 0 ]"
"$bin" smc -q -p 'x = 1\ny = 2\n' --constrain-after-regex '[a-z]+ = ' --regex '[0-9]{1,3}\n' --particles 6 --max-tokens 16 \
    --json > "$tmp/lazy_rx.json"
check "constrain-after-regex run exits 0" "[ $? -eq 0 ]"
python3 - "$tmp/lazy.json" "$tmp/lazy_rx.json" <<'PY' || fail=1
import json, re, sys, math
r = json.load(open(sys.argv[1]))
live = [p for p in r["particle_list"] if p["log_weight"] is not None and p["log_weight"] > -math.inf]
for p in live:
    t = p["text"]
    assert "= " in t, t
    rest = t[t.index("= ") + 2:]
    assert re.fullmatch(r"[0-9]{1,3}\n", rest), (t, rest)
assert live, "no live particle"
r = json.load(open(sys.argv[2]))
for p in r["particle_list"]:
    if p["log_weight"] is None or p["log_weight"] == -math.inf:
        continue
    m = None
    t = p["text"]
    for e in range(1, len(t) + 1):   # earliest-ending match of the trigger
        m = re.search(r"[a-z]+ = ", t[:e])
        if m:
            assert re.fullmatch(r"[0-9]{1,3}\n", t[e:]), (t, t[e:])
            break
print("constrain-after ok:", [p["text"] for p in live])
PY
"$bin" smc -q -p x --regex 'a' --constrain-after-regex '(' > /dev/null 2> "$tmp/err.txt"
check "bad trigger regex exits 1" "[ $? -eq 1 ]"
check "bad trigger regex is named" "grep -q 'trigger regex' '$tmp/err.txt'"
"$bin" smc -q -p x --regex 'a' --trigger-required > /dev/null 2>&1
check "--trigger-required alone exits 2" "[ $? -eq 2 ]"
"$bin" smc --help | grep -q -- --constrain-after
check "--help documents --constrain-after" "[ $? -eq 0 ]"

# The SMILES critic with its own grammar: smc-full by default; each sample
# parses under the SMILES grammar (leading space stripped).
"$bin" smc -q -p 'Molecule: CCO\nMolecule: c1ccccc1\nMolecule:' --critic smiles --particles 5 --max-tokens 30 --json > "$tmp/mol.json"
check "smiles run exits 0" "[ $? -eq 0 ]"
python3 -c "
import json,sys
r=json.load(open('$tmp/mol.json'))
assert r['method']=='smc-full', r['method']
for e in r['posterior']: print(e['text'].strip())
" > "$tmp/mols.txt" || fail=1
while read -r mol; do
  "$bin" grammar accept grammars/smiles.gbnf "$mol" >/dev/null 2>&1
  check "'$mol' is a complete SMILES string" "[ $? -eq 0 ]"
done < "$tmp/mols.txt"

# Usage errors exit 2 with a message naming the problem.
out=$("$bin" smc -p x --method smc-full --regex 'a' 2>&1); rc=$?
check "smc-full without critic exits 2" "[ $rc -eq 2 ]"
check "message names the missing critic" "[[ \"\$out\" == *'needs a --critic'* ]]"
out=$("$bin" smc -p x --particles 0 --regex a 2>&1); rc=$?
check "--particles 0 exits 2" "[ $rc -eq 2 ]"
out=$("$bin" smc -p x --method smc 2>&1); rc=$?
check "smc without a constraint exits 2" "[ $rc -eq 2 ]"
check "message asks for a constraint" "[[ \"\$out\" == *'needs a constraint'* ]]"
out=$("$bin" smc -p x --critic nosuch 2>&1); rc=$?
check "unknown critic exits 1" "[ $rc -eq 1 ]"
check "message names the critic" "[[ \"\$out\" == *\"unknown critic 'nosuch'\"* ]]"
out=$("$bin" smc -p x --regex '(' 2>&1); rc=$?
check "bad regex exits 1" "[ $rc -eq 1 ]"

# A user critic that dies: an error, not a hang or a crash (the timeout only catches a hang).
out=$(timeout 600 "$bin" smc -q -p x --regex '[a-z]+' --critic 'exec:exit 0' 2>&1); rc=$?
check "dead exec critic exits 1 (got $rc)" "[ $rc -eq 1 ]"
check "message says it exited" "[[ \"\$out\" == *'exited without answering'* ]]"

# A user critic in Python that forbids the letter e: no surviving sample has one.
cat > "$tmp/no_e.py" <<'PY'
import sys, json
for line in sys.stdin:
    r = json.loads(line)
    print(json.dumps({"logw": None if "e" in r["text"] else 0}), flush=True)
PY
"$bin" smc -q -p 'Word: ' --regex '[a-z]{2,6}' --critic "exec:python3 $tmp/no_e.py" --particles 6 --max-tokens 8 --json > "$tmp/noe.json"
check "exec critic run exits 0" "[ $? -eq 0 ]"
python3 -c "
import json
r=json.load(open('$tmp/noe.json'))
assert r['method']=='smc-full'
for e in r['posterior']: assert 'e' not in e['text'], e
" || { echo "FAIL: exec critic not obeyed"; fail=1; }

# --load (a model setting of the option table): mapped and read give the same run; a bad value is named.
"$bin" smc -q -p "Phone: " --regex "[0-9]{3}-[0-9]{4}" --particles 4 --max-tokens 10 --load mmap --json > "$tmp/mmap.json"
check "--load mmap exits 0" "[ $? -eq 0 ]"
"$bin" smc -q -p "Phone: " --regex "[0-9]{3}-[0-9]{4}" --particles 4 --max-tokens 10 --load read --json > "$tmp/read.json"
check "--load read exits 0" "[ $? -eq 0 ]"
check "--load mmap and read give the same particles" \
  "[ \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"posterior\"])' $tmp/mmap.json)\" = \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"posterior\"])' $tmp/read.json)\" ]"
"$bin" smc -p x --regex a --load disk 2> "$tmp/err.txt"
check "--load disk exits 2" "[ $? -eq 2 ]"
check "--load disk is named" "grep -q \"unknown value 'disk'\" '$tmp/err.txt'"
"$bin" smc --help | grep -q -- "--load HOW"
check "--help documents --load" "[ $? -eq 0 ]"

# --mlock (a model setting too): the same particles locked; when the lock is refused (a 64 KB
# RLIMIT_MEMLOCK, and without CAP_IPC_LOCK where setpriv can drop it) a warning names the limit and
# the run goes on with the same particles.
"$bin" smc -q -p "Phone: " --regex "[0-9]{3}-[0-9]{4}" --particles 4 --max-tokens 10 --load mmap --mlock --json > "$tmp/mlock.json"
check "--mlock exits 0" "[ $? -eq 0 ]"
check "--mlock gives the same particles" \
  "[ \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"posterior\"])' $tmp/mmap.json)\" = \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"posterior\"])' $tmp/mlock.json)\" ]"
nocap=""
if [ "$(id -u)" = 0 ] && setpriv --bounding-set=-ipc_lock true 2>/dev/null; then nocap="setpriv --bounding-set=-ipc_lock"; fi
if [ "$(id -u)" != 0 ] || [ -n "$nocap" ]; then
  ( { ulimit -S -l 64 2>/dev/null || ulimit -S -l 0; } && exec $nocap "$bin" smc -q -p "Phone: " --regex "[0-9]{3}-[0-9]{4}" --particles 4 --max-tokens 10 --load mmap --mlock --json ) > "$tmp/refused.json" 2> "$tmp/refused.err"
  check "--mlock refused still exits 0" "[ $? -eq 0 ]"
  check "--mlock refused warns naming RLIMIT_MEMLOCK" "grep -q 'warning: cannot lock .* RLIMIT_MEMLOCK is [0-9]* KB' '$tmp/refused.err'"
  check "--mlock refused gives the same particles" "cmp -s <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"posterior\"])' $tmp/mmap.json) <(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"posterior\"])' $tmp/refused.json)"
else
  echo "note: root without setpriv: the refused --mlock case is not exercised"
fi
# bench takes --load and --mlock from the same table: the same message for a bad value.
"$bin" bench --load disk 2> "$tmp/err.txt"
check "bench --load disk exits 2" "[ $? -eq 2 ]"
check "bench --load disk is named as smc names it" "grep -q \"bench: --load: unknown value 'disk' (auto, mmap, read)\" '$tmp/err.txt'"
"$bin" bench --help | grep -q -- "--mlock"
check "bench --help documents --mlock" "[ $? -eq 0 ]"
"$bin" smc --help | grep -q -- "--mlock"
check "--help documents --mlock" "[ $? -eq 0 ]"

# The demo runs and reports all three methods.
"$bin" demo --runs 1 --particles 4 --json > "$tmp/demo.json"
check "demo exits 0" "[ $? -eq 0 ]"
python3 -c "
import json
d=json.load(open('$tmp/demo.json'))
assert [m['method'] for m in d['methods']]==['plain','lcd','smc-full'], d
for m in d['methods']: assert 0 <= m['valid'] <= m['particles']
" || { echo "FAIL: demo JSON"; fail=1; }

[ $fail -eq 0 ] && echo "test_smc: all checks passed"
exit $fail
