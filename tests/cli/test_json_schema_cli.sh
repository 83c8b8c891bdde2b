#!/usr/bin/env bash
# test_json_schema_cli.sh — JSON Schema from the command line: the README's
# `smc --json-schema examples/person.schema.json` answer is compact JSON that a
# validator accepts; --json-ws flexible / compact; unknown keywords warn, and
# --strict-schema refuses them; `grammar accept` on big integers and escapes;
# --any-order.
# Usage: bash tests/cli/test_json_schema_cli.sh /path/to/smcgen   (from the repository root)
set -u
BIN=${1:?usage: test_json_schema_cli.sh /path/to/smcgen}
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to read JSON"; exit 77; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# The README's command, on the bundled model: a non-empty posterior of valid people.
"$BIN" smc -p 'A person as JSON: ' --json-schema examples/person.schema.json --method smc --json -q \
  > "$TMP/r.json" 2>"$TMP/err" || fail "README json-schema command failed: $(cat "$TMP/err")"
python3 - "$TMP/r.json" <<'EOF' || fail "README json-schema command: no sensible answer"
import json, re, sys
r = json.load(open(sys.argv[1]))
post = r["posterior"]
assert post, "empty posterior"
for p in post:
    t = p["text"]
    v = json.loads(t)
    assert t == json.dumps(v, separators=(",", ":"), ensure_ascii=False), "not compact: " + t
    assert list(v) == ["name", "age"], t
    assert re.fullmatch(r"[A-Z][a-z]{1,11}( [A-Z][a-z]{1,11})?", v["name"]), t
    assert isinstance(v["age"], int) and 0 <= v["age"] <= 120, t
EOF

# Whitespace policy: compact by default, flexible on request.
echo '{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}' > "$TMP/s.json"
"$BIN" grammar accept "$TMP/s.json" '{"a":1}' >/dev/null || fail "compact object rejected"
"$BIN" grammar accept "$TMP/s.json" '{"a": 1}' >/dev/null; [ $? -eq 4 ] || fail "default accepts whitespace"
"$BIN" grammar accept --json-ws flexible "$TMP/s.json" '{ "a": 1 }' >/dev/null || fail "--json-ws flexible rejects spaces"
"$BIN" grammar accept --json-ws pretty "$TMP/s.json" '{}' >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --json-ws value: exit status is not 2"

# Unknown keywords: a warning naming keyword and pointer; refused with --strict-schema.
echo '{"type":"object","properties":{"a":{"type":"string","_format":"x"}}}' > "$TMP/u.json"
"$BIN" grammar check "$TMP/u.json" 2>"$TMP/w" >/dev/null || fail "unknown keyword refused by default"
grep -q '"_format" at #/properties/a' "$TMP/w" || fail "no warning for _format: $(cat "$TMP/w")"
"$BIN" grammar check --strict-schema "$TMP/u.json" >/dev/null 2>"$TMP/w"; [ $? -eq 1 ] || fail "--strict-schema accepted an unknown keyword"
grep -q '"_format" at #/properties/a' "$TMP/w" || fail "--strict-schema error lacks keyword/pointer: $(cat "$TMP/w")"

# --any-order: properties in any order (each at most once, required ones present).
echo '{"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string"},"c":{}},"required":["a","b"]}' > "$TMP/o.json"
"$BIN" grammar accept "$TMP/o.json" '{"b":"x","a":1}' >/dev/null; [ $? -eq 4 ] || fail "schema order is not the default"
for t in '{"b":"x","a":1}' '{"c":1,"b":"x","a":1}' '{"d":3,"b":"x","c":null,"a":2}'; do
  "$BIN" grammar accept --any-order "$TMP/o.json" "$t" >/dev/null || fail "--any-order rejects $t"
done
for t in '{"b":"x"}' '{"a":1,"a":2,"b":"x"}' '{"b":"x","a":"1"}' '{"a":1,"b":"x","c":1,"c":2}'; do
  "$BIN" grammar accept --any-order "$TMP/o.json" "$t" >/dev/null; [ $? -eq 4 ] || fail "--any-order accepts $t"
done

# Exact big integers and escapes.
echo '{"const": 9007199254740993}' > "$TMP/c.json"
"$BIN" grammar accept "$TMP/c.json" 9007199254740993 >/dev/null || fail "big const rejected"
"$BIN" grammar accept "$TMP/c.json" 9007199254740992 >/dev/null; [ $? -eq 4 ] || fail "big const: neighbour accepted"
echo '{"type":"string"}' > "$TMP/str.json"
"$BIN" grammar accept "$TMP/str.json" '"\t\n\"\\\/\b\f\r\u00e9\ud83d\ude00"' >/dev/null || fail "escapes rejected"
"$BIN" grammar accept "$TMP/str.json" '"\ud83d"' >/dev/null; [ $? -ne 0 ] || fail "lone surrogate accepted"

[ $fails -eq 0 ] && echo "json schema cli: all passed"
exit $((fails > 0))
