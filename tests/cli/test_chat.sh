#!/usr/bin/env bash
# test_chat.sh — chat prompts on the command line: --chat, --system,
# --messages and --chat-template on `smcgen generate` and `smcgen smc` give
# the prompt the template writes (checked by its token count against
# `smcgen tokenize --parse-special` of the expected text, with the
# template's special token <|endoftext|> as one token), and clear errors.
# Usage: bash tests/cli/test_chat.sh /path/to/smcgen   (from the repository root)
set -u
SMCGEN=${1:?usage: test_chat.sh /path/to/smcgen}
MODEL=models/default.gguf
[ -f "$MODEL" ] || { echo "SKIP: $MODEL is absent"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; fail=1; fi
}
# Prompt tokens of a `generate` run (its stderr line "prompt: N tokens ...").
prompt_tokens() { "$SMCGEN" generate -m "$MODEL" -n 1 --temp 0 "$@" 2>&1 >/dev/null | sed -n 's/^prompt: \([0-9]*\) tokens.*/\1/p'; }
# Tokens of TEXT with special-token texts parsed, BOS included.
count_special() { "$SMCGEN" tokenize -m "$MODEL" --ids --parse-special "$1" | tr ',' '\n' | grep -c .; }
count_plain() { "$SMCGEN" tokenize -m "$MODEL" --ids "$1" | tr ',' '\n' | grep -c .; }

# 1. Zephyr's template ends turns with <|endoftext|>, the bundled model's
#    special token: the rendered prompt must hold it as one token.
want=$'<|system|>\nBe brief.<|endoftext|>\n<|user|>\nName a molecule.<|endoftext|>\n<|assistant|>\n'
n=$(prompt_tokens --chat 'Name a molecule.' --system 'Be brief.' --chat-template zephyr)
check "zephyr chat prompt = tokens of the rendered text ($n vs $(count_special "$want"))" \
    test "$n" = "$(count_special "$want")"
check "special tokens are parsed in the chat prompt" test "$n" -lt "$(count_plain "$want")"

# 2. A messages file (OpenAI shape) with ChatML, and --system prepended.
cat > "$tmp/msgs.json" <<'JSON'
{"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
              {"role": "user", "content": "A number?"}]}
JSON
want=$'<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nA number?<|im_end|>\n<|im_start|>assistant\n'
n=$(prompt_tokens --messages "$tmp/msgs.json" --system S --chat-template chatml)
check "messages file + --system with chatml ($n vs $(count_special "$want"))" test "$n" = "$(count_special "$want")"

# 3. --chat-template with a Jinja template text, recognised from it (Llama 3's).
tmpl="{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
want=$'<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n'
n=$(prompt_tokens --chat ' Hi ' --chat-template "$tmpl")
check "template text recognised as llama3 ($n vs $(count_special "$want"))" test "$n" = "$(count_special "$want")"

# 4. smc with a chat and a constraint answers within the constraint.
out=$("$SMCGEN" smc -m "$MODEL" --chat 'A phone number' --chat-template chatml --regex '[0-9]{3}-[0-9]{4}' \
      --particles 4 --json -q)
check "smc --chat exits 0 with an answer" bash -c "grep -q '\"text\": *\"[0-9][0-9][0-9]-[0-9][0-9][0-9][0-9]\"' <<< '$out'"

# 5. Errors: exit 2 and a message naming the problem.
expect_error() { # expect_error FRAGMENT ARGS...
    local frag=$1; shift
    local msg rc
    msg=$("$SMCGEN" "$@" 2>&1 >/dev/null); rc=$?
    check "error '$frag' (exit $rc)" bash -c '[ "$1" = 2 ] && grep -qF -- "$2" <<< "$3"' _ "$rc" "$frag" "$msg"
}
expect_error "no chat template" generate -m "$MODEL" --chat Hi
expect_error "unknown chat template 'chatmlx'" generate -m "$MODEL" --chat Hi --chat-template chatmlx
expect_error "llama3" smc -m "$MODEL" --chat Hi --chat-template chatmlx --regex a
expect_error "not both" smc -m "$MODEL" -p x --chat Hi --regex a
expect_error "--system needs a chat" generate -m "$MODEL" -p x --system S
echo '[{"role": "user"}]' > "$tmp/bad.json"
expect_error "message 1 needs a string" generate -m "$MODEL" --messages "$tmp/bad.json" --chat-template chatml
expect_error "msgs.json.missing" smc -m "$MODEL" --messages "$tmp/msgs.json.missing" --regex a
echo '[{"role": "user", "content": "x"' > "$tmp/cut.json"
expect_error "not valid JSON" smc -m "$MODEL" --messages "$tmp/cut.json" --chat-template chatml --regex a
exit $fail
