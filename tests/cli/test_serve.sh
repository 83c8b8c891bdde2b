#!/usr/bin/env bash
# test_serve.sh — `smcgen serve` end to end with real clients on a free local
# port: curl against every endpoint (OpenAI and llama.cpp shapes, GBNF,
# regex, JSON Schema, tokenize round trip), SSE streaming parsed by a client,
# the official `openai` npm package (tests/server/client), clean 4xx errors
# for malformed and hostile requests (a fuzzed body corpus included), 413,
# 401, 503 + Retry-After, the per-request timeout, and a client that
# disconnects mid-stream having its request cancelled and its KV freed.
set -u
bin=$(realpath "$1")
root=$(pwd)
fail=0
check() { if eval "$2"; then :; else echo "FAIL: $1"; fail=1; fi; }
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }

# A critic that takes its time (1 s an answer), for requests that must stay running: a 200-letter
# request with it runs for minutes, so a loaded machine cannot let it finish before the test cancels it.
# A shell loop, not Python: it must start and answer well within the exec critic's 10 s per answer
# even on a starved machine (a Python critic took longer there and failed the request early).
cat > "$tmp/slow.sh" <<'SH'
while read -r line; do sleep 1; echo '{"logw": 0}'; done
SH
slow="exec:sh $tmp/slow.sh"

# start NAME ARGS...: starts a server on port 0, sets $url to its address.
start() {
  local name=$1; shift
  "$bin" serve --port 0 -t 2 "$@" 2> "$tmp/$name.log" &
  pids+=($!)
  for _ in $(seq 1 3000); do   # up to 300 s: a loaded machine with a sanitizer build starts slowly
    url=$(sed -n 's/^smcgen: listening on \(http[^ ]*\).*/\1/p' "$tmp/$name.log")
    [ -n "$url" ] && return 0
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: server $name did not start"; cat "$tmp/$name.log"; exit 1
}
# post PATH JSON: body in $tmp/out, status in $code (a request that hangs fails after 600 s)
post() { code=$(curl -s -m 600 -o "$tmp/out" -w '%{http_code}' -H 'Content-Type: application/json' "${auth[@]}" --data-binary "$2" "$url$1"); }
auth=()
metric() { curl -s "${auth[@]}" "$url/metrics" | awk -v m="smcgen_$1" '$1==m {print $2}'; }
wait_metric() { # NAME VALUE: up to 300 s (hang detection only: it returns as soon as the value is there)
  for _ in $(seq 1 3000); do [ "$(metric "$1")" = "$2" ] && return 0; sleep 0.1; done; return 1; }

# (no prompt cache here: an idle server then holds no KV memory, checked after a cancel)
start main --parallel 1 --queue 0 --allow-critic "$slow" --prompt-cache 0

# --- health, models, options -----------------------------------------------------
check "/health" "[ \"\$(curl -s $url/health)\" = '{\"status\":\"ok\"}' ]"
curl -s "$url/v1/models" > "$tmp/models.json"
check "/v1/models lists the model" "grep -q '\"object\":\"model\"' $tmp/models.json"
curl -s "$url/v1/options" > "$tmp/options.json"
python3 - "$tmp/options.json" <<'PY' || fail=1
import json, sys
opts = {o["name"]: o for o in json.load(open(sys.argv[1]))}
assert opts["particles"]["default"] == "10" and opts["particles"]["min"] == 1, opts["particles"]
assert opts["max_tokens"]["alias"] == "n_predict"
assert "smc-full" in opts["method"]["choices"]
PY

# --- OpenAI completions with a regex; the smc object is the library's run JSON ----
post /v1/completions '{"prompt":"Phone: ","regex":"[0-9]{3}-[0-9]{4}","max_tokens":12,"n":2,"smc":{"particles":6}}'
check "regex completion 200 (got $code)" "[ $code = 200 ]"
python3 - "$tmp/out" <<'PY' || fail=1
import json, re, sys
r = json.load(open(sys.argv[1]))
assert r["object"] == "text_completion"
assert 1 <= len(r["choices"]) <= 2
for c in r["choices"]:
    assert re.fullmatch(r"[0-9]{3}-[0-9]{4}", c["text"]), c
    assert c["finish_reason"] in ("stop", "length")
s = r["smc"]
assert s["method"] == "smc" and s["particles"] == 6, s
assert abs(sum(e["prob"] for e in s["posterior"]) - 1) < 1e-9
assert r["choices"][0]["text"] == s["posterior"][0]["text"]
assert r["usage"]["prompt_tokens"] > 0
print("regex:", [c["text"] for c in r["choices"]])
PY

# --- llama.cpp /completion with a GBNF grammar ------------------------------------
post /completion '{"prompt":"Answer: ","grammar":"root ::= (\"yes\" | \"no\") \".\"","n_predict":8,"seed":5,"smc":{"particles":4}}'
check "llama.cpp /completion 200 (got $code)" "[ $code = 200 ]"
python3 -c "
import json,sys
r=json.load(open('$tmp/out'))
assert r['content'] in ('yes.','no.'), r['content']
assert r['stop'] is True and r['tokens_evaluated']>0 and 'smc' in r
print('gbnf:', r['content'])" || { echo "FAIL: /completion with grammar"; fail=1; }

# --- llama.cpp response_format and json_schema -------------------------------------
post /completion '{"prompt":"JSON: ","response_format":{"type":"json_schema","schema":{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}},"n_predict":16,"smc":{"particles":3}}'
check "response_format (llama.cpp shape) 200 (got $code)" "[ $code = 200 ]"
python3 -c "
import json
r=json.load(open('$tmp/out')); v=json.loads(r['content'])
assert isinstance(v['ok'], bool) and list(v)==['ok'], v" || { echo "FAIL: llama.cpp response_format: $(cat $tmp/out)"; fail=1; }

# --- tokenize / detokenize round trip ----------------------------------------------
post /tokenize '{"content":"Hello world, ünïcode!"}'
check "tokenize 200" "[ $code = 200 ]"
toks=$(python3 -c "import json;print(json.dumps(json.load(open('$tmp/out'))['tokens']))")
post /detokenize "{\"tokens\":$toks}"
check "detokenize gives the text back" "python3 -c \"import json,sys; assert json.load(open('$tmp/out'))['content']=='Hello world, ünïcode!'\""

# --- SSE streaming parsed by a client ------------------------------------------------
curl -sN "${auth[@]}" -H 'Content-Type: application/json' --data-binary \
  '{"messages":[{"role":"user","content":"Say a number"}],"regex":"[0-9]{2,6}","max_tokens":10,"stream":true,"smc":{"particles":5}}' \
  "$url/v1/chat/completions" > "$tmp/sse.txt"
python3 - "$tmp/sse.txt" <<'PY' || fail=1
import json, re, sys
events = [l[6:] for l in open(sys.argv[1]).read().split("\n") if l.startswith("data: ")]
assert events[-1] == "[DONE]", events[-3:]
chunks = [json.loads(e) for e in events[:-1]]
assert all(c["object"] == "chat.completion.chunk" for c in chunks)
text = "".join(c["choices"][0]["delta"]["content"] for c in chunks)
final = chunks[-1]
assert final["choices"][0]["finish_reason"] in ("stop", "length")
assert final["smc"]["posterior"][0]["text"] == text, (text, final["smc"]["posterior"][0])
assert re.fullmatch(r"[0-9]{2,6}", text), text
assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
print("sse: %d chunks ->" % len(chunks), text)
PY
# The client has the whole stream before the server has let go of the request's slot (the
# stream's thread and the response both hold the job); on this one-slot, no-queue server the
# next request could find it still taken (a 503), so wait for the slot, not for the clock.
check "the streamed request has left its slot" "wait_metric requests_running 0"

# --- chat: the request's chat_template writes the prompt (src/chat, as the CLI's --chat);
# a model without a recognised template gets the plain fallback. Checked by the prompt's
# token count against the hand-written text, tokenized by /tokenize. -------------------
chat_count() { # JSON-STRING-OF-TEXT: tokens of that text with BOS
  post /tokenize "{\"content\":$1,\"add_special\":true}"
  python3 -c "import json;print(len(json.load(open('$tmp/out'))['tokens']))"
}
n_chatml=$(chat_count '"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n"')
n_plain=$(chat_count '"System: Be brief.\nUser: Hi there\nAssistant:"')
chat_msgs='[{"role":"developer","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"Hi "},{"type":"text","text":"there"}]}]'
post /v1/chat/completions '{"messages":'"$chat_msgs"',"chat_template":"chatml","max_tokens":2,"smc":{"particles":2}}'
check "chat with chat_template 200 (got $code)" "[ $code = 200 ]"
check "chatml prompt: $n_chatml tokens" "python3 -c \"import json; assert json.load(open('$tmp/out'))['usage']['prompt_tokens'] == $n_chatml\""
post /v1/chat/completions '{"messages":'"$chat_msgs"',"max_tokens":2,"smc":{"particles":2}}'
check "plain fallback prompt: $n_plain tokens" "python3 -c \"import json; assert json.load(open('$tmp/out'))['usage']['prompt_tokens'] == $n_plain\""
check "the two chat prompts differ" "[ $n_chatml != $n_plain ]"
post /v1/chat/completions '{"messages":'"$chat_msgs"',"chat_template":"nosuch","max_tokens":2}'
err_is_early() { python3 -c "import json,sys; e=json.load(open('$tmp/out'))['error']; sys.exit(not ($code == 400 and e['param'] == 'chat_template'))"; }
check "unknown chat_template: 400 naming it" "err_is_early"

# --- clean errors ----------------------------------------------------------------------
err_is() { # DESCRIPTION STATUS PARAM FRAGMENT
  local ok
  ok=$(python3 - "$tmp/out" "$2" "$3" "$4" <<'PY' 2>&1
import json, sys
path, status, param, frag = sys.argv[1:]
try:
    r = json.load(open(path))
except Exception:
    print("not JSON"); sys.exit()
e = r.get("error", {})
if e.get("code") != int(status) or (param and e.get("param") != param) or frag not in e.get("message", ""):
    print(str(r)[:300])
PY
)
  check "$1 (status $code, $ok)" "[ $code = $2 ] && [ -z \"\$ok\" ]"
}
post /v1/completions '{"prompt": "x", '; err_is "malformed JSON" 400 "" "malformed JSON"
post /v1/completions '[1,2]'; err_is "non-object body" 400 "" "must be a JSON object"
post /v1/completions '{"prompt":"x","smc":{"method":"beam"}}'; err_is "unknown method" 400 smc.method "unknown value 'beam'"
post /v1/completions '{"prompt":"x","smc":{"partcles":3}}'; err_is "unknown smc field" 400 smc.partcles "unknown field"
post /v1/completions '{"prompt":"x","grammar":"root ::= \"a\"\nb ::= [a-"}'; err_is "grammar error with line:column" 400 "" "2:"
post /v1/completions '{"prompt":"x","json_schema":{"type":"string","not":{"pattern":"a+"}}}'; err_is "unsupported schema keyword" 400 "" "unsupported keyword \"not\""
post /v1/completions '{"prompt":"x","regex":"a","smc":{"particles":100000},"max_tokens":1000000}'; err_is "huge particles x max_tokens" 400 smc.particles "limit"
post /v1/completions '{"prompt":"x","max_tokens":-3}'; err_is "negative max_tokens" 400 max_tokens "not an integer in [1, 1000000]"
post /v1/completions '{"prompt":"x","regex":"a","smc":{"critic":"sql:/etc/passwd"}}'; err_is "critic not allowed" 400 smc.critic "not allowed"
post /v1/completions '{"prompt":"x","regex":"a","smc":{"critic":"exec:sh -c id"}}'; err_is "exec critic not allowed" 400 smc.critic "not allowed"
post /v1/completions '{"prompt":"x","grammar_file":"/etc/passwd","regex":"a"}'; check "a file path field is ignored, not read" "[ $code = 200 ]"
post /v1/chat/completions '{"messages":[{"role":"wizard","content":"x"}]}'; err_is "bad chat role" 400 "" "unknown role"
post /v1/chat/completions '{"messages":[{"role":"user","content":"x"}],"stream":true,"stream_options":{"include_usage":1}}'; err_is "bad stream_options" 400 stream_options "include_usage is true or false"
post /v1/nosuch '{}'; err_is "unknown endpoint" 404 "" "no such endpoint"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$url/v1/completions"); err_is "GET on a POST endpoint" 405 "" "POST"
head -c 1100000 /dev/zero | tr '\0' 'a' > "$tmp/big"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$tmp/big" "$url/v1/completions")
err_is "oversized body" 413 "" "limit"

# --- fuzzed bodies: every answer is a 2xx or a 4xx JSON document; the server stays up ----
python3 - "$url" <<'PY' || fail=1
import json, random, urllib.request, urllib.error
url = __import__("sys").argv[1]
rng = random.Random(12)
seeds = [b'{"prompt":"Hi","regex":"[a-z]{1,4}","max_tokens":4,"smc":{"particles":2}}',
         b'{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"},"max_tokens":4,"smc":{"particles":2}}',
         b'{"prompt":"A","grammar":"root ::= [0-9]+","n_predict":4,"smc":{"particles":2,"method":"is"}}']
bad = 0
for i in range(150):
    b = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 6)):
        op = rng.randint(0, 3)
        k = rng.randrange(len(b)) if b else 0
        if op == 0 and b: del b[k:k + rng.randint(1, 8)]
        elif op == 1: b[k:k] = bytes(rng.choice(b'{}[]":,\\0123456789aez- \x00\xff') for _ in range(rng.randint(1, 4)))
        elif op == 2 and b: b[k] = rng.randrange(256)
        else: b[k:k] = rng.choice([b'1e999', b'-1', b'null', b'"\\ud800"', b'[' * 50, b'{"smc":{}}', b'99999999999'])
    path = rng.choice(["/v1/completions", "/v1/chat/completions", "/completion"])
    req = urllib.request.Request(url + path, data=bytes(b), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            status, body = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    try:
        doc = json.loads(body)
    except Exception:
        print("not JSON:", status, body[:200]); bad += 1; continue
    if status == 200:
        if "smc" not in doc: print("200 without smc:", doc); bad += 1
    elif not (400 <= status < 500 and doc["error"]["message"] and doc["error"]["type"]):
        print("bad answer:", status, doc, bytes(b)[:200]); bad += 1
print("fuzz: 150 bodies,", bad, "bad answers")
assert bad == 0
PY
check "server alive after the fuzz" "[ \"\$(curl -s $url/health)\" = '{\"status\":\"ok\"}' ]"

# --- busy: one slot, no queue -> 503 with Retry-After; a disconnect cancels -------------
slow_body='{"prompt":"Letters: ","regex":"[a-z]{200}","max_tokens":300,"stream":true,"smc":{"particles":2,"critic":"'"$slow"'"}}'
curl -sN -H 'Content-Type: application/json' --data-binary "$slow_body" "$url/v1/completions" > "$tmp/slow.txt" &
slow_pid=$!
check "the slow request is running" "wait_metric requests_running 1"
code=$(curl -s -D "$tmp/hdr" -o "$tmp/out" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary '{"prompt":"x","regex":"a"}' "$url/v1/completions")
err_is "503 when busy" 503 "" "busy"
check "503 says Retry-After" "grep -qi '^retry-after: 1' $tmp/hdr"
kill $slow_pid; wait $slow_pid 2>/dev/null
check "the disconnected request is cancelled" "wait_metric requests_cancelled_total 1"
check "its slot is free again" "wait_metric requests_running 0"
check "its KV memory is freed" "wait_metric kv_used_bytes 0"
post /v1/completions '{"prompt":"x","regex":"a+","max_tokens":3,"smc":{"particles":2}}'
check "serves again after the cancel (got $code)" "[ $code = 200 ]"

# --- prompt reuse across requests (issue #17), by counts: a fresh server with a prompt
# cache; the second prompt extends the first and computes only the rest; the same prompt
# again computes none of it. The engine's own count of evaluated tokens must agree. ------
out=$("$bin" serve --port 0 --prompt-cache 65 2>&1); rc=$?
check "serve --prompt-cache 65: exit 2 naming the option and its range (got $rc)" "[ $rc = 2 ] && grep -qF -- '--prompt-cache: ' <<< \"\$out\" && grep -qF 'is not an integer in [0, 64]' <<< \"\$out\""
start cache --prompt-cache 2
p1="The prompt cache keeps this sentence"
p2="$p1 and computes only what follows"
ids() { post /tokenize "{\"content\":\"$1\",\"add_special\":true}"; cp "$tmp/out" "$tmp/ids_$2"; }
ids "$p1" 1; ids "$p2" 2
run_cached() { # PROMPT N: the response in $tmp/c_N, the evaluated-token count after it in $tmp/ev_N
  post /v1/completions "{\"prompt\":\"$1\",\"regex\":\"a\",\"max_tokens\":4,\"smc\":{\"particles\":1,\"lookahead\":0}}"
  cp "$tmp/out" "$tmp/c_$2"; metric engine_tokens_evaluated_total > "$tmp/ev_$2"
}
metric engine_tokens_evaluated_total > "$tmp/ev_0"
run_cached "$p1" 1; run_cached "$p2" 2; run_cached "$p2" 3
post /completion "{\"prompt\":\"$p2\",\"regex\":\"a\",\"n_predict\":4,\"smc\":{\"particles\":1,\"lookahead\":0}}"; cp "$tmp/out" "$tmp/c_4"
python3 - "$tmp" <<'PY' || fail=1
import json, sys
t = sys.argv[1]
ld = lambda n: json.load(open(f"{t}/{n}"))
i1, i2 = ld("ids_1")["tokens"], ld("ids_2")["tokens"]
common = next((k for k in range(min(len(i1), len(i2))) if i1[k] != i2[k]), min(len(i1), len(i2)))
ev = [int(open(f"{t}/ev_{k}").read()) for k in range(4)]
d = [ev[k + 1] - ev[k] for k in range(3)]          # tokens each request evaluated
c = [ld(f"c_{k}") for k in (1, 2, 3)]
cached = [r["usage"]["prompt_tokens_details"]["cached_tokens"] for r in c]
assert [r["usage"]["prompt_tokens"] for r in c] == [len(i1), len(i2), len(i2)], c
assert all(r["choices"][0]["text"] == "a" for r in c), c
assert cached == [0, common, len(i2)], (cached, common, len(i1), len(i2))
g = d[2]                                           # the same prompt again: only the generation
assert d[0] - g == len(i1), (d, len(i1))           # the first prompt is computed whole
assert d[1] - g == len(i2) - common, (d, len(i2), common)   # the second only past the shared part
assert ld("c_4")["tokens_cached"] == len(i2), ld("c_4")
print(f"prompt cache: {len(i1)} then {len(i2)} prompt tokens, {common} shared; evaluated {d}")
PY
check "prompt cache metrics" "[ \"\$(metric prompt_cache_hits_total)\" = 3 ]"
check "the idle server keeps the cached prompts' KV" "[ \"\$(metric kv_used_bytes)\" -gt 0 ]"

# --- cached prompts give way to running requests: with a 1 MiB KV budget (32 blocks of 16
# tokens for the bundled model) two cached 191-token prompts leave too little for a third;
# its decode fails, the prompt caches are emptied and it is tried again. -------------------
start tight --kv-budget 1 --prompt-cache 4
for w in alpha beta gamma; do
  words=$(python3 -c "print(' '.join('$w%d' % i for i in range(95)))")
  post /v1/completions "{\"prompt\":\"$words\",\"regex\":\"a\",\"max_tokens\":4,\"smc\":{\"particles\":1}}"
  check "long prompt '$w' served under a tight KV budget (got $code)" "[ $code = 200 ]"
  [ $w = beta ] && check "no relief needed for two cached prompts" "[ \"\$(metric prompt_cache_reliefs_total)\" = 0 ]"
done
check "the third prompt needed the cached prompts' KV" "[ \"\$(metric prompt_cache_reliefs_total)\" = 1 ]"

# --- the per-request timeout, on a server of its own: a request that needs minutes (200 letters,
# one critic answer a second) against --timeout 2 times out however fast or slow the machine is;
# the other servers keep the default timeout, so a loaded machine cannot time out their requests.
start timed --timeout 2 --allow-critic "$slow" --prompt-cache 0
post /v1/completions '{"prompt":"Letters: ","regex":"[a-z]{200}","max_tokens":300,"smc":{"particles":2,"critic":"'"$slow"'"}}'
err_is "per-request timeout" 503 "" "timeout"

# --- second server: API key, the openai npm client ----------------------------------------
echo -n 'sekrit-key' > "$tmp/key"
start keyed --api-key-file "$tmp/key" --prompt-cache 0
code=$(curl -s -o "$tmp/out" -w '%{http_code}' "$url/v1/models"); err_is "no key: 401" 401 "" "API key"
code=$(curl -s -o "$tmp/out" -w '%{http_code}' -H 'Authorization: Bearer sekrit-kez' "$url/v1/models"); err_is "wrong key: 401" 401 "" "API key"
check "health needs no key" "[ \"\$(curl -s $url/health)\" = '{\"status\":\"ok\"}' ]"
auth=(-H 'Authorization: Bearer sekrit-key')
for k in 1 2; do
  post /v1/completions '{"prompt":"No cache here","regex":"a","max_tokens":4,"smc":{"particles":1}}'
  check "--prompt-cache 0: nothing reused (run $k)" "python3 -c \"import json; assert json.load(open('$tmp/out'))['usage']['prompt_tokens_details']['cached_tokens'] == 0\""
done
if command -v node >/dev/null && command -v npm >/dev/null; then
  client="$root/tests/server/client"
  if [ -d "$client/node_modules/openai" ] || (cd "$client" && npm ci --no-audit --no-fund >/dev/null 2>&1); then
    node "$client/openai_client.mjs" "$url/v1" sekrit-key || { echo "FAIL: openai npm client"; fail=1; }
  else
    echo "FAIL: npm ci in tests/server/client failed"; fail=1
  fi
else
  echo "note: node/npm absent: the openai client part was not run"
fi

for p in "${pids[@]}"; do kill "$p"; done
for p in "${pids[@]}"; do wait "$p"; rc=$?; check "server exits 0 on SIGTERM (got $rc)" "[ $rc = 0 ]"; done
pids=()
[ $fail -eq 0 ] && echo "test_serve: all checks passed"
exit $fail
