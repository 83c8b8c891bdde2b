#!/usr/bin/env bash
# test_grammar.sh — `smcgen grammar check|accept`: results, exit codes, error
# positions. Usage: bash tests/cli/test_grammar.sh /path/to/smcgen
set -u
BIN=${1:?usage: test_grammar.sh /path/to/smcgen}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
check() {   # check "description" expected_exit expected_stdout_substring cmd...
    local what=$1 want_rc=$2 want_out=$3
    shift 3
    local out rc
    out=$("$@" 2>"$TMP/err")
    rc=$?
    if [ "$rc" != "$want_rc" ] || ! grep -qF -- "$want_out" <<<"$out$(cat "$TMP/err")"; then
        echo "FAIL: $what: exit $rc (want $want_rc), output: $out $(cat "$TMP/err") (want '$want_out')"
        fail=1
    fi
}

cat >"$TMP/expr.gbnf" <<'G'
# left-recursive expressions with '_' in a rule name
root     ::= sum_expr
sum_expr ::= sum_expr "+" num | num
num      ::= [0-9]+
G
check "check ok" 0 "ok: 3 rules" "$BIN" grammar check "$TMP/expr.gbnf"
check "complete" 0 "complete" "$BIN" grammar accept "$TMP/expr.gbnf" "1+22+3"
check "prefix" 3 "prefix" "$BIN" grammar accept "$TMP/expr.gbnf" "1+"
check "invalid" 4 "invalid (the first 2 of 3 bytes" "$BIN" grammar accept "$TMP/expr.gbnf" "1+x"
check "json accept" 0 '"result":"complete"' "$BIN" grammar accept --json "$TMP/expr.gbnf" "7"
printf 'root ::= "a"\n  | undefined_rule\n' >"$TMP/bad.gbnf"
check "error line:col" 1 "bad.gbnf:2:5: undefined rule 'undefined_rule'" "$BIN" grammar check "$TMP/bad.gbnf"
printf 'root ::= [abc' >"$TMP/bad2.gbnf"
check "unterminated class" 1 "bad2.gbnf:1:10: unterminated character class" "$BIN" grammar check "$TMP/bad2.gbnf"

cat >"$TMP/g.lark" <<'G'
start: pair ("," pair)*
pair: CNAME "=" SIGNED_NUMBER
%import common.CNAME
%import common.SIGNED_NUMBER
%import common.WS
%ignore WS
G
check "lark check" 0 "ok: 2 rules" "$BIN" grammar check "$TMP/g.lark"
check "lark accept" 0 "complete" "$BIN" grammar accept "$TMP/g.lark" "a = 1, b=-2.5"
check "lark invalid" 4 "invalid" "$BIN" grammar accept "$TMP/g.lark" "a = = 1"
printf 'start: "a" |\n  | foo\n' >"$TMP/bad.lark"
check "lark error" 1 "bad.lark:2:5: undefined rule 'foo'" "$BIN" grammar check "$TMP/bad.lark"

check "inline regex" 0 "complete" "$BIN" grammar accept --regex '\d{3}-\d{4}' "555-1234"
check "inline regex prefix" 3 "prefix" "$BIN" grammar accept --regex '\d{3}-\d{4}' "555-"
check "regex error" 1 "1:4: backreferences" "$BIN" grammar check --regex '(a)\1'
printf 'ab+c\n' >"$TMP/r.regex"
check "regex file" 0 "complete" "$BIN" grammar accept "$TMP/r.regex" "abbbc"
check "escapes" 0 "complete" "$BIN" grammar accept -e --regex 'a\nb' 'a\nb'
printf '1+2' >"$TMP/text"
check "from file" 0 "complete" "$BIN" grammar accept "$TMP/expr.gbnf" -f "$TMP/text"
# counted chains: [a]{0,7} and [b]{2,5} are counted, and s1..s3, three
# levels nested on the left, are too (ir_flip.c nests them on the right)
cat >"$TMP/chains.gbnf" <<'G'
root ::= "\"" s1 "\"" [a]{0,7} [b]{2,5}
c ::= [ab]
s1 ::= "" | s2 c
s2 ::= "" | s3 c
s3 ::= "" | c
G
check "chains" 0 "counted chains: 3 (bounds 3, 3, 7)" "$BIN" grammar check "$TMP/chains.gbnf"
check "chains json" 0 '"counted_chains":3,"chain_bounds":[3,3,7],' "$BIN" grammar check --json "$TMP/chains.gbnf"
# levels over different elements are no chain (and not rewritten)
sed 's/^s3 ::= "" | c$/s3 ::= "" | "x"/' "$TMP/chains.gbnf" >"$TMP/nochain.gbnf"
check "no chain" 0 "counted chains: 2 (bounds 3, 7)" "$BIN" grammar check "$TMP/nochain.gbnf"
check "no chain accept" 0 "complete" "$BIN" grammar accept "$TMP/nochain.gbnf" '"xba"bb'
check "no chain mirror" 4 "invalid" "$BIN" grammar accept "$TMP/nochain.gbnf" '"bax"bb'
check "chains none" 0 "counted chains: 0" "$BIN" grammar check "$TMP/expr.gbnf"
check "chains none json" 0 '"counted_chains":0,"chain_bounds":[],' "$BIN" grammar check --json "$TMP/expr.gbnf"
check "usage" 2 "usage" "$BIN" grammar
check "bad verb" 2 "unknown subcommand" "$BIN" grammar frobnicate x
check "help" 0 "--root NAME" "$BIN" grammar --help

SHARED=${SMCGEN_SHARED:-../shared}
if [ -d "$SHARED/grammars" ]; then
    for g in "$SHARED"/grammars/*.gbnf; do
        check "shared $(basename "$g")" 0 "ok:" "$BIN" grammar check "$g"
    done
    check "json.gbnf" 0 "complete" "$BIN" grammar accept "$SHARED/grammars/json.gbnf" '{"a": [1, true]}'
fi
[ $fail = 0 ] && echo "test_grammar.sh: all passed"
exit $fail
