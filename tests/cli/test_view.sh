#!/usr/bin/env bash
# test_view.sh — `smcgen view` end to end: pages for real traces of the
# bundled model (a regex run; the SQL critic on a Spider database when
# ../shared is there; 64 particles × 200 steps) are checked in headless
# Chromium by tests/view/view_test.mjs (playwright-core from the pinned
# tests/view/package-lock.json, installed with `npm ci` into the build
# directory); the page is self-contained; bad input gives clear errors.
# Skips when node, npm or /usr/bin/chromium is missing (scripts/deps.sh
# installs them).
set -u
bin=$1
fail=0
check() { if eval "$2"; then :; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
SHARED=${SMCGEN_SHARED:-../shared}
src=$(pwd)

# Errors first (no browser needed).
echo '{"format":"other"}' > "$tmp/bad.json"
out=$("$bin" view "$tmp/bad.json" 2>&1); rc=$?
check "a non-trace exits 1" "[ $rc -eq 1 ]"
check "message says it is not a trace" "[[ \"\$out\" == *'not an smcgen trace'* ]]"
echo '{"format":"smcgen-trace","version":99}' > "$tmp/v99.json"
out=$("$bin" view "$tmp/v99.json" 2>&1); rc=$?
check "an unknown version exits 1" "[ $rc -eq 1 ] && [[ \"\$out\" == *'version 99'* ]]"
printf '{"format":' > "$tmp/cut.json"
out=$("$bin" view "$tmp/cut.json" 2>&1); rc=$?
check "truncated JSON exits 1" "[ $rc -eq 1 ] && [[ \"\$out\" == *'not JSON'* ]]"
out=$("$bin" view "$tmp/none.json" 2>&1); rc=$?
check "a missing file exits 1" "[ $rc -eq 1 ] && [[ \"\$out\" == *none.json* ]]"
out=$("$bin" view 2>&1); rc=$?
check "no argument exits 2" "[ $rc -eq 2 ]"

# Traces: a regex run, text that tries to break out of the page, 64 × 200.
"$bin" smc -q -p 'Phone: ' --regex '[0-9]{3}-[0-9]{4}' --particles 8 --max-tokens 12 --seed 2 \
    --trace "$tmp/re.json" > /dev/null 2>&1
check "regex trace" "[ -s '$tmp/re.json' ]"
"$bin" smc -q -p 'x' --regex '</script><script>document.title="pwned"</script><!--[a-c]{2}' \
    --particles 4 --max-tokens 60 --trace "$tmp/inj.json" > /dev/null 2>&1
check "injection trace" "[ -s '$tmp/inj.json' ]"
# A run whose critic fails at the first step: the trace shows how far it got.
"$bin" smc -q -p 'Molecule:' --regex '[A-Z]+' --critic 'exec:exit 0' --particles 4 \
    --trace "$tmp/fail.json" > /dev/null 2>&1
check "failing run exits 1 but writes its trace" "[ $? -eq 1 ] && grep -q '\"result\":null' '$tmp/fail.json'"
traces="re inj fail"
if [ -z "${SMC_TEST_SANITIZED:-}" ]; then   # (slow under the sanitizers; the page is the same)
  "$bin" smc -q -p 'def f(x):\n' --regex '[a-z ]{200,}' --method smc --particles 64 --max-tokens 200 \
      --ess 0.5 --trace "$tmp/big.json" > /dev/null 2>&1
  check "64 x 200 trace" "[ -s '$tmp/big.json' ]"
  traces="$traces big"
fi
db="$SHARED/data/spider/database/poker_player/poker_player.sqlite"
if [ -f "$db" ]; then
  printf -- '-- Database: poker_player\nCREATE TABLE poker_player (Poker_Player_ID, People_ID, Final_Table_Made, Best_Finish, Money_Rank, Earnings);\nCREATE TABLE people (People_ID, Nationality, Name, Birth_Date, Height);\n-- Question: What are the names of poker players?\n' > "$tmp/sql.txt"
  "$bin" smc -q -f "$tmp/sql.txt" --critic "sql:$db" --particles 12 --max-tokens 40 --seed 1 \
      --trace "$tmp/sql.json" > /dev/null 2>&1
  check "sql trace" "[ -s '$tmp/sql.json' ]"
  traces="$traces sql"
else
  echo "note: $db absent; the SQL page is not checked"
fi
for t in $traces; do
  "$bin" view "$tmp/$t.json" 2> "$tmp/$t.view.err"
  check "view $t exits 0" "[ $? -eq 0 ] && [ -s '$tmp/$t.html' ]"
  # Self-contained: no external URL in any src/href, nothing to fetch.
  check "$t page has no external reference" \
      "! grep -Eiq '(src|href)=\"?(https?:)?//' '$tmp/$t.html'"
  check "$t page has no raw </script> from the trace" \
      "[ \$(grep -o '</script>' '$tmp/$t.html' | wc -l) -eq 2 ]"
done
"$bin" view "$tmp/re.json" -o - > "$tmp/stdout.html" 2>/dev/null
check "-o - writes to stdout" "cmp -s '$tmp/stdout.html' '$tmp/re.html'"

# The browser checks.
if ! command -v node >/dev/null || ! command -v npm >/dev/null || [ ! -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "SKIP: the browser checks need node, npm and /usr/bin/chromium (bash scripts/deps.sh installs them)"
  [ $fail -eq 0 ] && exit 77 || exit 1
fi
nodedir="$(dirname "$bin")/view-node"
want=$(sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' "$src/tests/view/package.json")
have=$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$nodedir/node_modules/playwright-core/package.json" 2>/dev/null | head -1)
if [ "$have" != "$want" ]; then
  mkdir -p "$nodedir" && cp "$src/tests/view/package.json" "$src/tests/view/package-lock.json" "$nodedir/"
  if ! (cd "$nodedir" && npm ci --no-audit --no-fund --loglevel=error > npm.log 2>&1); then
    cat "$nodedir/npm.log"
    if [ -n "${SMCGEN_SKIP_BROWSER_TESTS:-}" ]; then
      echo "SKIP: npm ci failed and SMCGEN_SKIP_BROWSER_TESTS is set"; exit 77
    fi
    echo "FAIL: npm ci of tests/view failed (no access to the npm registry? set SMCGEN_SKIP_BROWSER_TESTS=1 to skip)"
    exit 1
  fi
fi
for t in $traces; do
  SMCGEN_VIEW_NODE="$nodedir" timeout 300 node "$src/tests/view/view_test.mjs" "$tmp/$t.html" "$tmp/$t.json"
  check "browser checks of the $t page" "[ $? -eq 0 ]"
done
# The injected text stayed text: the title is the page's own.
python3 - "$tmp/inj.json" <<'PY' || { echo "FAIL: injection trace"; fail=1; }
import json, sys
t = json.load(open(sys.argv[1]))
assert any("</script>" in p["text"] for p in t["result"]["particle_list"]), "no particle carries the payload"
PY
exit $fail
