#!/bin/bash
# test_info.sh — `smcgen info`: the stories260K facts from ../shared/models/README.md
# (text and JSON), the default model, and error exits on malformed files.
# Usage: bash tests/cli/test_info.sh /path/to/smcgen   (from the repository root)
set -u
SMCGEN=${1:?usage: test_info.sh /path/to/smcgen}
SHARED=${SMCGEN_SHARED:-../shared}
MODEL=$SHARED/models/stories260K.gguf
if [ ! -x "$SMCGEN" ]; then
    echo "FAIL: $SMCGEN is not an executable"
    exit 1
fi
if [ ! -f "$MODEL" ]; then
    echo "SKIP: $MODEL is absent (set SMCGEN_SHARED)"
    exit 77
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# Text output.
if ! "$SMCGEN" info "$MODEL" >"$TMP/out.txt" 2>"$TMP/err.txt"; then
    bad "info $MODEL exited non-zero: $(cat "$TMP/err.txt")"
fi
expect_line() {   # regex that some line of the text output must match
    grep -Eq "$1" "$TMP/out.txt" || bad "text output lacks a line matching '$1'"
}
expect_line '^  architecture +"llama"$'
expect_line '^  llama\.block_count +5$'
expect_line '^  llama\.embedding_length +64$'
expect_line '^  llama\.attention\.head_count +8$'
expect_line '^  llama\.attention\.head_count_kv +4$'
expect_line '^  llama\.feed_forward_length +172$'
expect_line '^  tokenizer\.ggml\.model +"llama"$'
expect_line '^  tokenizer\.ggml\.tokens count +512$'
expect_line '^  tokenizer\.ggml\.bos_token_id +1$'
expect_line '^  tokenizer\.ggml\.eos_token_id +2$'
expect_line '^  token_embd\.weight +f32 +\[64, 512\] +0 +131072$'
expect_line '^  blk\.4\.ffn_norm\.weight +f32 +\[64\] '
# 48 tensors listed (2 global + output + 5 layers x 9).
n=$(grep -Ec '^  (token_embd|output|output_norm|blk\.[0-9]+\.[a-z_]+)\.weight ' "$TMP/out.txt")
[ "$n" = 48 ] || bad "expected 48 tensor rows, got $n"
"$SMCGEN" info "$MODEL" --no-tensors >"$TMP/nt.txt" || bad "--no-tensors failed"
grep -q 'token_embd.weight' "$TMP/nt.txt" && bad "--no-tensors still lists tensors"

# JSON output, checked with an independent parser.
if "$SMCGEN" info "$MODEL" --json >"$TMP/out.json" 2>"$TMP/err.txt"; then
    python3 - "$TMP/out.json" "$MODEL" <<'PY' || fail=1
import json, os, sys
d = json.load(open(sys.argv[1]))
errors = []
def want(what, got, exp):
    if got != exp:
        errors.append(f"{what}: got {got!r}, expected {exp!r}")
hp = d["hyperparameters"]
want("architecture", d["architecture"], "llama")
want("block_count", hp["block_count"], 5)
want("embedding_length", hp["embedding_length"], 64)
want("head_count", hp["attention.head_count"], 8)
want("head_count_kv", hp["attention.head_count_kv"], 4)
want("rms eps", hp["attention.layer_norm_rms_epsilon"], 1e-5)
want("tokenizer model", d["tokenizer"]["model"], "llama")
want("n_tokens", d["tokenizer"]["n_tokens"], 512)
want("bos", d["tokenizer"]["bos_token_id"], 1)
want("file_size", d["file_size"], os.path.getsize(sys.argv[2]))
want("version", d["version"], 3)
t = d["tensors"]
want("n tensors", len(t), 48)
want("n_tensors", d["n_tensors"], 48)
emb = [x for x in t if x["name"] == "token_embd.weight"]
want("token_embd", emb and (emb[0]["type"], emb[0]["shape"], emb[0]["bytes"]), ("f32", [64, 512], 131072))
# Independent arithmetic: all tensors are f32, so bytes = 4 * elements.
for x in t:
    n = 1
    for e in x["shape"]:
        n *= e
    want(x["name"] + " bytes", x["bytes"], 4 * n)
want("params", d["parameters"]["total"], sum(x["bytes"] // 4 for x in t))
want("tokens preview", d["metadata"]["tokenizer.ggml.tokens"]["first"][:3], ["<unk>", "<s>", "</s>"])
want("tokens len", d["metadata"]["tokenizer.ggml.tokens"]["len"], 512)
for e in errors:
    print("FAIL: json:", e)
sys.exit(1 if errors else 0)
PY
else
    bad "info --json exited non-zero: $(cat "$TMP/err.txt")"
fi

# The default model (no FILE): the bundled small-q8_0 copy.
if [ -f models/default.gguf ]; then
    "$SMCGEN" info --no-tensors >"$TMP/def.txt" 2>&1 || bad "info on the default model failed: $(cat "$TMP/def.txt")"
    grep -Eq '^  llama\.embedding_length +192$' "$TMP/def.txt" || bad "default model: embedding_length 192 not shown"
fi

# Malformed files: exit 1 and "smcgen: FILE: <problem>".
head -c 20000 "$MODEL" >"$TMP/trunc.gguf"
"$SMCGEN" info "$TMP/trunc.gguf" >"$TMP/o.txt" 2>"$TMP/e.txt"; rc=$?
[ $rc = 1 ] || bad "truncated file: exit $rc, expected 1"
grep -q "^smcgen: $TMP/trunc.gguf: file truncated: tensor 'token_embd.weight'" "$TMP/e.txt" ||
    bad "truncated file: unexpected message: $(cat "$TMP/e.txt")"
head -c 3000 "$MODEL" >"$TMP/trunc2.gguf"
"$SMCGEN" info "$TMP/trunc2.gguf" >"$TMP/o.txt" 2>"$TMP/e.txt"; rc=$?
[ $rc = 1 ] || bad "file cut in the metadata: exit $rc, expected 1"
grep -q "^smcgen: $TMP/trunc2.gguf: metadata key 'tokenizer.ggml.tokens'.*truncated" "$TMP/e.txt" ||
    bad "file cut in the metadata: unexpected message: $(cat "$TMP/e.txt")"
printf 'GGML\3\0\0\0' >"$TMP/magic.gguf"
"$SMCGEN" info "$TMP/magic.gguf" >/dev/null 2>"$TMP/e.txt"; rc=$?
[ $rc = 1 ] && grep -q "not a GGUF file" "$TMP/e.txt" || bad "bad magic: exit $rc, $(cat "$TMP/e.txt")"
"$SMCGEN" info "$TMP/missing.gguf" >/dev/null 2>"$TMP/e.txt"; rc=$?
[ $rc = 1 ] && grep -q "cannot open" "$TMP/e.txt" || bad "missing file: exit $rc, $(cat "$TMP/e.txt")"
"$SMCGEN" info --bogus >/dev/null 2>&1; rc=$?
[ $rc = 2 ] || bad "unknown option: exit $rc, expected 2"
"$SMCGEN" info --help >"$TMP/h.txt" 2>&1 && grep -q -- '--no-tensors' "$TMP/h.txt" || bad "--help"

[ $fail = 0 ] && echo "test_info: all checks passed"
exit $fail
