#!/usr/bin/env bash
# test_readme.sh — every `./build/smcgen` command shown in README.md, run on
# the bundled model, gives a sensible answer: exit 0 and an answer that
# satisfies what the command asked for (a JSON Schema, a regex, a non-empty
# posterior). Commands for a downloaded model ($M) run on the bundled model
# with --chat-template chatml (the flags must exist and work). Not run:
# `serve` (tests/cli/test_serve*.sh and the server tests cover it) and
# `eval` (minutes; tests/cli/test_eval.sh runs a small one).
# A command still waiting for another part of issue #16 is reported as
# PENDING and makes the test skip (exit 77) rather than pass.
# Usage: bash tests/cli/test_readme.sh /path/to/smcgen   (from the repository root)
set -u
SMCGEN=${1:?usage: test_readme.sh /path/to/smcgen}
MODEL=models/default.gguf
[ -f "$MODEL" ] || { echo "SKIP: $MODEL is absent"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 pending=0 ran=0

# The commands: README's sh blocks, continuation lines joined, those that
# start with ./build/smcgen (or run it after `&&`).
awk '/^```sh/{on=1; next} /^```/{on=0} on' README.md |
    sed -e ':a' -e '/\\$/N; s/\\\n[ ]*/ /; ta' -e 's/^.*&& \(\.\/build\/smcgen \)/\1/' |
    grep '^\./build/smcgen ' > "$tmp/cmds"

# Checks of the answer, by what the command asks for.
top_text() { python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["posterior"][0]["text"] if r["posterior"] else "")'; }
answer_ok() { # answer_ok COMMAND OUTPUT_FILE
    local cmd=$1 out=$2
    if grep -q 'every particle has weight zero' "$out"; then echo "all particles died"; return 1; fi
    case "$cmd" in
    *" smc "*" --json "*)
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["posterior"] and not r["all_dead"] else 1)' "$out" ||
            { echo "no posterior in the JSON"; return 1; } ;;
    *" smc "*) grep -q '^posterior ([1-9]' "$out" || { echo "no posterior"; return 1; } ;;
    *" demo"*) grep -q 'smc-full' "$out" || { echo "no smc-full row"; return 1; } ;;
    *" generate "*) [ -s "$out" ] || { echo "no text"; return 1; } ;;
    *" view "*) [ -s run.html ] && grep -q '<html' run.html || { echo "no HTML page"; return 1; } ;;
    esac
    case "$cmd" in
    *"--trace run.json"*)
        python3 -c 'import json; t=json.load(open("run.json")); assert t' || { echo "no trace"; return 1; } ;;
    esac
    # The posterior's strings satisfy the constraint the command gave.
    case "$cmd" in
    *person.schema.json*)
        python3 - "$out" <<'PY' || { echo "an answer does not satisfy examples/person.schema.json"; return 1; }
import json, re, sys
texts = [json.loads(m) for m in re.findall(r'^\s+[0-9.]+\s+(".*")$', open(sys.argv[1]).read(), re.M)]
ok = bool(texts)
for t in texts:
    try:
        v = json.loads(t)
    except ValueError:
        ok = False
        continue
    ok = ok and isinstance(v, dict) and set(v) == {"name", "age"} and isinstance(v["name"], str) \
        and isinstance(v["age"], int) and not isinstance(v["age"], bool)
sys.exit(0 if ok else 1)
PY
        ;;
    *"--regex '[0-9]{3}-[0-9]{4}'"*" --json "*)
        top_text < "$out" | grep -Eqx '[0-9]{3}-[0-9]{4}' || { echo "top answer does not match the regex"; return 1; } ;;
    esac
    return 0
}

# Run where the README's relative paths hold (examples/, models/,
# ../shared) but whatever a command writes (a trace, a page) lands in tmp.
work=$tmp/w/repo
mkdir -p "$work"
for d in examples models grammars docs; do [ -e "$d" ] && ln -s "$PWD/$d" "$work/$d"; done
[ -d ../shared ] && ln -s "$(cd .. && pwd)/shared" "$tmp/w/shared"
case "$SMCGEN" in /*) ;; *) SMCGEN=$PWD/$SMCGEN ;; esac
MODEL=$PWD/$MODEL
cd "$work"

while IFS= read -r line; do
    cmd=${line#./build/smcgen }
    case "$cmd" in
    serve*|eval*) echo "not run here: smcgen ${cmd%% *} (covered by its own tests)"; continue ;;
    esac
    # A downloaded model: the bundled one, with a built-in template.
    run=${cmd//-m \$M/-m $MODEL --chat-template chatml}
    run=${run//\$M/$MODEL}
    ran=$((ran + 1))
    (eval "\"\$SMCGEN\" $run") > "$tmp/out" 2> "$tmp/err" < /dev/null
    rc=$?
    if [ $rc -ne 0 ] && grep -q "unknown argument '--constrain-after'" "$tmp/err"; then
        echo "PENDING: $line  (--constrain-after is not on main yet)"; pending=1; continue
    fi
    if [ $rc -ne 0 ]; then
        echo "FAILED (exit $rc): $line"; head -5 "$tmp/err"; fail=1; continue
    fi
    if why=$(answer_ok " $cmd " "$tmp/out"); then
        echo "ok: $line"
    elif [[ $cmd == *person.schema.json* && $why == "all particles died" ]]; then
        echo "PENDING: $line  (JSON Schema whitespace policy, #16, not on main yet)"; pending=1
    else
        echo "FAILED ($why): $line"; head -20 "$tmp/out"; fail=1
    fi
done < "$tmp/cmds"
[ $ran -ge 5 ] || { echo "FAILED: found only $ran commands in README.md"; fail=1; }
[ $fail -eq 0 ] && [ $pending -eq 1 ] && { echo "SKIP: some README commands are pending"; exit 77; }
exit $fail
