#!/usr/bin/env bash
# test_real_shapes.sh — models of the real shapes (SmolLM2-135M, Qwen2.5-0.5B
# with its biases, Llama-3.2-1B with llama3 RoPE scaling) at Q8_0, Q4_0 and
# the Q4_K_M mix: `smcgen bench --synthetic ... --save` writes each (real
# layer shapes, 2 layers (1 for Llama-3.2-1B) and a 512-id vocabulary to stay small), smcgen
# loads and runs it, and its logits at every position agree with an
# independent NumPy float64 forward pass with its own GGUF reader and
# dequantisers (tests/cli/real_shapes_ref.py).
# Usage: bash tests/cli/test_real_shapes.sh /path/to/smcgen
set -u
SMCGEN=${1:?usage: test_real_shapes.sh /path/to/smcgen}
py=""
for cand in python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c "import numpy" >/dev/null 2>&1; then py="$cand"; break; fi
done
[ -n "$py" ] || { echo "SKIP: no python3 can import numpy (apt-get install python3-numpy)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
IDS=5,301,77,12,500,250,3,3,411,128,64,199
# Tolerances (worst |difference| / largest |logit|, the logits reach
# 200-1300 here): the exact path keeps float32 activations (measured up to
# 2.4e-7); the fast path quantises activations to 8 bits as llama.cpp does
# (measured up to 3.8e-3, cf. about 0.3 absolute on the shared Q8_0 models).
TOL_EXACT=1e-5
TOL_FAST=2e-2
for shape in smollm2-135m qwen2.5-0.5b llama3.2-1b; do
  for type in q8_0 q4_0 q4_k_m; do
    m="$tmp/$shape-$type.gguf"
    layers=2; [ "$shape" = llama3.2-1b ] && layers=1   # its 1 layer already mixes Q4_K and Q6_K
    if ! "$SMCGEN" bench --synthetic "$shape" --type "$type" --layers $layers --vocab 512 --seed 7 --save "$m" 2>"$tmp/err"; then
      echo "FAILED: $shape $type: --save: $(cat "$tmp/err")"; fail=1; continue
    fi
    "$SMCGEN" logits -m "$m" --ids "$IDS" --all-positions --json --exact -t 2 > "$tmp/exact.json" &&
    "$SMCGEN" logits -m "$m" --ids "$IDS" --all-positions --json -t 2 > "$tmp/fast.json"
    if [ $? -ne 0 ]; then echo "FAILED: $shape $type: smcgen logits"; fail=1; continue; fi
    if "$py" tests/cli/real_shapes_ref.py "$m" "$tmp/exact.json" "$tmp/fast.json" $TOL_EXACT $TOL_FAST; then
      echo "ok: $shape $type"
    else
      echo "FAILED: $shape $type"; fail=1
    fi
    rm -f "$m"
  done
done
# Bad input: unknown type, --save without --synthetic, unwritable path.
"$SMCGEN" bench --synthetic smollm2-135m --type q3_k --save "$tmp/x.gguf" >/dev/null 2>&1
[ $? -eq 2 ] && echo "ok: unknown type exits 2" || { echo "FAILED: unknown type"; fail=1; }
"$SMCGEN" bench --save "$tmp/x.gguf" >/dev/null 2>&1
[ $? -eq 2 ] && echo "ok: --save needs --synthetic" || { echo "FAILED: --save without --synthetic"; fail=1; }
"$SMCGEN" bench --synthetic smollm2-135m --layers 1 --vocab 64 --save "$tmp/no/such/dir.gguf" >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && grep -q "cannot create" "$tmp/err" && echo "ok: unwritable path" || { echo "FAILED: unwritable path"; fail=1; }
exit $fail
