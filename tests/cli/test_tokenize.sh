#!/usr/bin/env bash
# test_tokenize.sh — `smcgen tokenize` / `detokenize` on the bundled model:
# a byte-exact round trip, BOS handling, special-token parsing, error exits.
# Usage: bash tests/cli/test_tokenize.sh /path/to/smcgen   (from the repository root)
set -u
SMCGEN=${1:?usage: test_tokenize.sh /path/to/smcgen}
MODEL=models/default.gguf
[ -f "$MODEL" ] || { echo "SKIP: $MODEL is absent"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; fail=1; fi
}

# 1. Round trip of awkward text (newlines, tabs, UTF-8, a special-token text).
printf 'def f(x):\n\treturn x  # caf\xc3\xa9 \xf0\x9f\xa6\x99\n<|endoftext|>SELECT 1;\n' > "$tmp/in.txt"
"$SMCGEN" tokenize -m "$MODEL" --ids --no-bos -f "$tmp/in.txt" > "$tmp/ids.txt"
check "tokenize -f exits 0" test $? -eq 0
"$SMCGEN" detokenize -m "$MODEL" "$(cat "$tmp/ids.txt")" > "$tmp/out.txt"
check "detokenize exits 0" test $? -eq 0
check "round trip is byte-exact" cmp -s "$tmp/in.txt" "$tmp/out.txt"
# Without --parse-special the special text is ordinary text: id 8191 never appears.
check "no special token unless asked" bash -c "! tr ',' '\n' < '$tmp/ids.txt' | grep -qx 8191"

# Ids can also come on standard input ("-"), one per line.
tr ',' '\n' < "$tmp/ids.txt" | "$SMCGEN" detokenize -m "$MODEL" - > "$tmp/out2.txt"
check "detokenize - reads ids from stdin" cmp -s "$tmp/in.txt" "$tmp/out2.txt"

# 2. stdin, BOS first, and the same ids as -f.
"$SMCGEN" tokenize -m "$MODEL" --ids - < "$tmp/in.txt" > "$tmp/ids_bos.txt"
check "stdin ids start with BOS 8191" grep -q '^8191,' "$tmp/ids_bos.txt"
check "stdin ids = BOS + file ids" test "$(cat "$tmp/ids_bos.txt")" = "8191,$(cat "$tmp/ids.txt")"

# 3. --parse-special turns <|endoftext|> into id 8191; --json --ids is a JSON array.
out=$("$SMCGEN" tokenize -m "$MODEL" --ids --json --no-bos --parse-special 'a<|endoftext|>b')
check "parse-special JSON ids contain 8191" bash -c "[[ '$out' == \[*,8191,*\] ]]"
# A text that is exactly one special token is that one id, and nothing else.
out=$("$SMCGEN" tokenize -m "$MODEL" --ids --no-bos --parse-special '<|endoftext|>')
check "parse-special: '<|endoftext|>' alone is the single id 8191" test "$out" = "8191"
out=$("$SMCGEN" tokenize -m "$MODEL" --ids --parse-special '<|endoftext|>')
check "parse-special with BOS: 8191,8191" test "$out" = "8191,8191"
out=$("$SMCGEN" tokenize -m "$MODEL" --ids --no-bos '<|endoftext|>')
check "without parse-special it is several ordinary tokens" bash -c "[[ '$out' == *,* && '$out' != *8191* ]]"
# render-special gives the control token's text back.
txt=$("$SMCGEN" detokenize -m "$MODEL" --render-special 8191)
check "render-special shows <|endoftext|>" test "$txt" = "<|endoftext|>"
txt=$("$SMCGEN" detokenize -m "$MODEL" 8191)
check "control token alone gives no bytes" test -z "$txt"

# 4. Errors: bad id, malformed id, missing model, no text.
"$SMCGEN" detokenize -m "$MODEL" 5 99999 > /dev/null 2> "$tmp/err.txt"
rc=$?
check "out-of-range id exits 1" test $rc -eq 1
check "error names the id" grep -q 99999 "$tmp/err.txt"
"$SMCGEN" detokenize -m "$MODEL" 12x > /dev/null 2>&1
check "malformed id exits 2" test $? -eq 2
"$SMCGEN" tokenize -m "$tmp/missing.gguf" hello > /dev/null 2>&1
check "missing model exits 1" test $? -eq 1
"$SMCGEN" tokenize -m "$MODEL" > /dev/null 2>&1
check "no text exits 2" test $? -eq 2
"$SMCGEN" tokenize --help | grep -q -- --parse-special
check "--help documents --parse-special" test $? -eq 0

# 5. A SentencePiece model from ../shared, when present: leading space rule.
STORIES=${SMCGEN_SHARED:-../shared}/models/stories260K.gguf
if [ -f "$STORIES" ]; then
    ids=$("$SMCGEN" tokenize -m "$STORIES" --ids "Once upon a time, there was a little girl named Lily.")
    check "stories260K ids match llama.cpp" test "$ids" = "1,403,407,261,378,432,383,286,261,376,298,315,421,395,317,426"
    txt=$("$SMCGEN" detokenize -m "$STORIES" "$ids")
    check "stories260K detokenizes with one leading space" test "$txt" = " Once upon a time, there was a little girl named Lily."
fi

[ $fail -eq 0 ] && echo "all tokenize CLI checks passed"
exit $fail
