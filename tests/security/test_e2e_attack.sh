#!/usr/bin/env bash
# test_e2e_attack.sh — the end-to-end path of an attack: a grammar that
# forces the model to write a program that switches off the worker's audit
# hook, overwrites a canary file on the host, plants a file beside it and
# runs a shell command, run through `smcgen smc --critic python:...`. With
# the sandbox the host is untouched and the program is judged as usual
# (its result is right); with --unsafe-no-sandbox the same run does
# overwrite the canary (so the attack is real and this test can fail).
set -u
bin=$1
fail=0
check() { if eval "$2"; then :; else echo "FAIL: $1"; fail=1; fi; }
# guard CMD...: CMD, but a run past 300 s (a hang: it takes seconds, tens on a loaded machine)
# prints the process tree on stderr and is killed, so a hang fails here, diagnosed,
# instead of at ctest's limit. (Once seen in a landing train: a Timeout, with no output.)
exec 3>&2
guard() {
  "$@" & local p=$! t=0
  while kill -0 "$p" 2>/dev/null && [ $t -lt 1500 ]; do sleep 0.2; t=$((t + 1)); done
  if kill -0 "$p" 2>/dev/null; then
    echo "HANG: $* ran over 300 s; the processes:" >&3
    ps -eo pid,ppid,stat,etime,wchan:32,args --forest | cut -c1-220 >&3
    kill -9 "$p"
  fi
  wait "$p"
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
host="$tmp/host"
mkdir "$host"
echo canary > "$host/canary"
python3 - "$host" "$tmp" <<'PY'
import json, sys
host, tmp = sys.argv[1], sys.argv[2]
prog = ("if True:\n"
        "    import sys as _s\n"
        "    _s.modules['__main__']._guard[0] = True\n"
        "    import os\n"
        "    for p in ('%s/canary', '%s/planted'):\n"
        "        try:\n"
        "            open(p, 'w').write('pwned')\n"
        "        except OSError:\n"
        "            pass\n"
        "    os.system('touch %s/cmd')\n"
        "result = 2\n") % (host, host, host)
esc = prog.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')
open(tmp + '/attack.gbnf', 'w').write('root ::= "%s"\n' % esc)
json.dump({"setup": "X = 1\n", "test": "assert result == 2\n"}, open(tmp + '/problem.json', 'w'))
PY
out=$(guard "$bin" smc -q -p 'Code:' --grammar "$tmp/attack.gbnf" --critic "python:$tmp/problem.json" \
      --particles 2 --max-tokens 500 --json 2>"$tmp/err")
rc=$?
if grep -q "cannot\(.*\)provide one" "$tmp/err"; then
    echo "skipped: no sandbox on this system: $(cat "$tmp/err")"
    exit 77
fi
check "sandboxed run exits 0 (got $rc: $(head -c 300 "$tmp/err"))" "[ $rc -eq 0 ]"
check "the canary is unchanged" "[ \"\$(cat '$host/canary')\" = canary ]"
check "nothing new beside the canary: $(ls "$host" | tr '\n' ' ')" "[ \"\$(ls '$host')\" = canary ]"
echo "$out" > "$tmp/out.json"
python3 - "$tmp/out.json" <<'PY' || { echo "FAIL: the attack program was not judged complete"; fail=1; }
import json, sys
r = json.load(open(sys.argv[1]))
ok = [p for p in r["particle_list"] if p["log_weight"] is not None and p["text"].endswith("result = 2\n")]
assert ok, [(p["text"][-60:], p["log_weight"]) for p in r["particle_list"]]
PY
# which isolation this machine gives, as smcgen says it
iso=$(guard "$bin" info --sandbox)
echo "$iso"
check "info --sandbox names the sandbox and the whole-run limits: $iso" \
    "echo \"\$iso\" | grep -q '^python critic: sandbox: .*whole-run limits by \(cgroup\|pid namespace\)'"
# the same without the sandbox: the attack does reach the host
guard "$bin" smc -q -p 'Code:' --grammar "$tmp/attack.gbnf" --critic "python:$tmp/problem.json" --unsafe-no-sandbox \
    --particles 1 --max-tokens 500 --json >/dev/null 2>"$tmp/err2"
check "without the sandbox the attack overwrites the canary" "[ \"\$(cat '$host/canary')\" = pwned ]"
check "--unsafe-no-sandbox warns" "grep -q 'WITHOUT a sandbox' '$tmp/err2'"
exit $fail
