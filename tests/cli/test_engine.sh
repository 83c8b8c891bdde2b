#!/usr/bin/env bash
# test_engine.sh — the engine's commands: `smcgen logits` against the NumPy
# reference logits, `generate` greedy output on TinyStories, `bench` on a file
# and on a synthetic model, and clear errors for bad input.
# Usage: bash tests/cli/test_engine.sh /path/to/smcgen   (from the repository root)
set -u
BIN=${1:?usage: test_engine.sh /path/to/smcgen}
SHARED=${SMCGEN_SHARED:-../shared}
[ -d "$SHARED/models" ] || { echo "SKIP: $SHARED/models is absent"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 is needed to read the reference JSON"; exit 77; }
M=$SHARED/models
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# --help and usage errors.
"$BIN" logits --help | grep -q -- "--all-positions" || fail "logits --help does not document --all-positions"
"$BIN" generate --help | grep -q -- "--top-p" || fail "generate --help does not document --top-p"
"$BIN" bench --help | grep -q -- "--synthetic" || fail "bench --help does not document --synthetic"
"$BIN" logits -m "$M/small-f32.gguf" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option: exit status is not 2"
"$BIN" logits -m "$M/small-f32.gguf" >/dev/null 2>&1; [ $? -eq 2 ] || fail "logits without -p/--ids: exit status is not 2"

# logits --ids --json vs the NumPy float64 reference (f32 weights).
ids=$(python3 -c "import json,sys; print(','.join(map(str, json.load(open(sys.argv[1]))['ids'])))" "$M/ref/small-python.json")
"$BIN" logits -m "$M/small-f32.gguf" --ids "$ids" --json -t 1 > "$TMP/l.json" || fail "logits --json failed"
python3 - "$TMP/l.json" "$M/ref/small-python.json" <<'EOF' || fail "logits differ from the reference"
import json, sys
got = json.load(open(sys.argv[1])); ref = json.load(open(sys.argv[2]))
lg = got["positions"][-1]["logits"]
d = max(abs(a - b) for a, b in zip(lg, ref["last_logits"]))
assert got["n_vocab"] == 8192 and len(lg) == 8192, "shape"
assert d < 1e-4, "max diff %g" % d
assert got["positions"][-1]["argmax"] == ref["argmax_per_position"][-1]
EOF

# --all-positions text output: one line per position, argmax per position as in the reference.
"$BIN" logits -m "$M/small-f32.gguf" --ids "$ids" --all-positions -t 1 > "$TMP/all.txt" || fail "logits --all-positions failed"
python3 - "$TMP/all.txt" "$M/ref/small-python.json" <<'EOF' || fail "--all-positions argmax differs from the reference"
import json, sys
rows = [l.split() for l in open(sys.argv[1])]
ref = json.load(open(sys.argv[2]))
assert len(rows) == len(ref["ids"]), "rows %d" % len(rows)
assert [int(r[1]) for r in rows] == ref["argmax_per_position"]
assert all(len(r) == 2 + 8192 for r in rows)
EOF

# -p TEXT goes through the tokenizer: same logits as the reference ids of the same prompt.
prompt=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['prompt'] + 'x', end='')" "$M/ref/small-sql.json")
prompt=${prompt%x}   # keep the prompt's trailing newline
"$BIN" logits -m "$M/small-f32.gguf" -p "$prompt" --json -t 1 > "$TMP/p.json" || fail "logits -p failed"
python3 - "$TMP/p.json" "$M/ref/small-sql.json" <<'EOF' || fail "logits -p differs from the reference"
import json, sys
got = json.load(open(sys.argv[1])); ref = json.load(open(sys.argv[2]))
assert got["ids"] == ref["ids"], "tokenization differs"
d = max(abs(a - b) for a, b in zip(got["positions"][-1]["logits"], ref["last_logits"]))
assert d < 1e-4, "max diff %g" % d
EOF

# generate, greedy: TinyStories continues its favourite story.
out=$("$BIN" generate -m "$M/stories260K.gguf" -p "Once upon a time" -n 12 --temp 0 -t 1 2>"$TMP/gen.err")
[ $? -eq 0 ] || fail "generate failed: $(cat "$TMP/gen.err")"
case "$out" in
  ", there was a little girl named Lily."*) ;;
  *) fail "generate greedy output: '$out'" ;;
esac
grep -q "tokens/s" "$TMP/gen.err" || fail "generate prints no timings on stderr"
# Seeded sampling is reproducible.
a=$("$BIN" generate -m "$M/stories260K.gguf" -p "Once" -n 20 --seed 7 --temp 1 -t 1 2>/dev/null)
b=$("$BIN" generate -m "$M/stories260K.gguf" -p "Once" -n 20 --seed 7 --temp 1 -t 1 2>/dev/null)
[ -n "$a" ] && [ "$a" = "$b" ] || fail "seeded generate is not reproducible"

# bench on a file and on a synthetic model (short settings).
"$BIN" bench -m "$M/stories260K.gguf" --prefix 16 --seqs 1,4 --time 0.05 --json -t 1 > "$TMP/b.json" || fail "bench -m failed"
python3 - "$TMP/b.json" <<'EOF' || fail "bench --json output is incomplete"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["prompt_tokens_per_s"] > 0 and b["memcpy_bytes_per_s"] > 0
assert [d["sequences"] for d in b["decode"]] == [1, 4] and all(d["tokens_per_s"] > 0 for d in b["decode"])
assert all(v > 0 for v in b["fork_us"].values())
# the load setting and what it did: a file under 16 MB is mapped by auto, read with --load read
assert (b["load"], b["in_memory"]) == ("auto", False), (b["load"], b["in_memory"])
EOF
"$BIN" bench -m "$M/stories260K.gguf" --load read --prefix 16 --seqs 1 --time 0.02 --json -t 1 > "$TMP/r.json" \
  || fail "bench --load read failed"
python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); assert (b["load"], b["in_memory"]) == ("read", True), b' \
  "$TMP/r.json" || fail "bench --load read: $(head -c 300 "$TMP/r.json")"
"$BIN" bench --synthetic smollm2-135m --type q4_0 --prefix 4 --seqs 1,2 --time 0.01 -t 1 > "$TMP/s.txt" || fail "bench --synthetic failed"
grep -q "decode,   2 sequences" "$TMP/s.txt" || fail "bench --synthetic output: $(cat "$TMP/s.txt")"
"$BIN" bench --synthetic nosuch-model >/dev/null 2>"$TMP/e.txt"; [ $? -eq 1 ] || fail "unknown synthetic model: exit status"
grep -q "unknown synthetic model" "$TMP/e.txt" || fail "unknown synthetic model: message"

# Bad input: unsupported architecture, prompt longer than the context, token out of range.
printf 'GGUF\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00' > "$TMP/gpt2.gguf"
printf '\x14\x00\x00\x00\x00\x00\x00\x00general.architecture\x08\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00gpt2' >> "$TMP/gpt2.gguf"
"$BIN" logits -m "$TMP/gpt2.gguf" --ids 1 >/dev/null 2>"$TMP/e.txt"; [ $? -eq 1 ] || fail "unsupported arch: exit status"
grep -q "unsupported architecture 'gpt2'" "$TMP/e.txt" || fail "unsupported arch message: $(cat "$TMP/e.txt")"
long=$(python3 -c "print(','.join(['5'] * 600))")
"$BIN" logits -m "$M/small-q8_0.gguf" --ids "$long" >/dev/null 2>"$TMP/e.txt"; [ $? -eq 1 ] || fail "long prompt: exit status"
grep -q "more than the context size 512" "$TMP/e.txt" || fail "long prompt message: $(cat "$TMP/e.txt")"
"$BIN" logits -m "$M/small-q8_0.gguf" --ids 1,99999 >/dev/null 2>"$TMP/e.txt"; [ $? -eq 1 ] || fail "bad token: exit status"
grep -q "outside the vocabulary" "$TMP/e.txt" || fail "bad token message: $(cat "$TMP/e.txt")"

if [ $fails -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all engine CLI checks passed"
