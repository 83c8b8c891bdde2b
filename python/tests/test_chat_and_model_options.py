"""Model.chat() (the library's chat templates, as the CLI's --messages and the
server's /v1/chat/completions), the model settings of the option table as
Model() keywords (prompt_cache, checked by counts of reused prompt tokens;
load, checked by whether the file is mapped; mlock, by the process's VmLck),
lookahead as an smc() keyword, and the result's token counts."""
import json
import os
import resource

import pytest

import smcgen
from smcgen import _core

PHONE = smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}")
CHATML = "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nA phone number?<|im_end|>\n<|im_start|>assistant\n"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "A phone number?"}]


def test_chat_is_the_template_prompt(model):
    # The default model's vocabulary has no ChatML control tokens, so the templated
    # prompt tokenizes as the same text given as a prompt: the same seed must give
    # the same particles, weights and posterior.
    assert model.tokenize(CHATML, parse_special=True) == model.tokenize(CHATML)
    a = model.chat(MESSAGES, PHONE, chat_template="chatml", particles=3, seed=7, max_tokens=12)
    b = smcgen.smc(model, CHATML, PHONE, particles=3, seed=7, max_tokens=12)
    assert dict(a) == dict(b) and a.log_z == b.log_z
    assert [p.text for p in a.particles] == [p.text for p in b.particles]
    # A different template is a different prompt.
    c = model.chat(MESSAGES, PHONE, chat_template="llama3", particles=3, seed=7, max_tokens=12)
    d = smcgen.smc(model, CHATML, PHONE, particles=3, seed=7, max_tokens=12)
    assert c.log_z != d.log_z


def test_chat_errors(model):
    with pytest.raises(ValueError, match="no chat template"):
        model.chat(MESSAGES, PHONE, particles=2)          # the bundled model has none
    with pytest.raises(ValueError, match="chatml"):
        model.chat(MESSAGES, PHONE, chat_template="nosuch", particles=2)
    with pytest.raises(TypeError, match="messages"):
        model.chat("hello", PHONE)
    with pytest.raises(ValueError, match="prompt, or a chat"):
        smcgen.smc(model, None, PHONE)
    with pytest.raises(ValueError, match="either prompt or a chat"):
        smcgen.smc(model, "x", PHONE, chat="hi", chat_template="chatml")


def test_model_options_come_from_the_table():
    names = [o["name"] for o in _core.options() if o["model"]]
    assert names == ["prompt_cache", "load", "mlock"]
    assert "prompt_cache:" in smcgen.Model.__doc__
    assert "load: How the model file is loaded" in smcgen.Model.__doc__ and "one of auto|mmap|read" in smcgen.Model.__doc__
    with pytest.raises(ValueError, match=r"load: unknown value 'disk' \(auto, mmap, read\)"):
        smcgen.Model(threads=1, load="disk")
    with pytest.raises(ValueError, match=r"mlock: 'maybe' is not true or false"):
        smcgen.Model(threads=1, mlock="maybe")
    with pytest.raises(ValueError, match=r"prompt_cache: '65' is not an integer in \[0, 64\]"):
        smcgen.Model(threads=1, prompt_cache=65)
    with pytest.raises(TypeError, match="particles"):
        smcgen.Model(threads=1, particles=3)               # a run option, not a model setting


@pytest.mark.parametrize("cache", [0, 2])
def test_prompt_cache_reuses_prompts_across_runs(cache):
    m = smcgen.Model(threads=1, prompt_cache=cache)
    p1 = "The prompt cache keeps this sentence"
    p2 = p1 + " and computes only what follows"
    i1, i2 = m.tokenize(p1), m.tokenize(p2)
    common = 0
    while common < min(len(i1), len(i2)) and i1[common] == i2[common]:
        common += 1
    steps = []
    for p in (p1, p2, p2):
        before = m.info()
        post = smcgen.smc(m, p, smcgen.Grammar.regex("a"), particles=1, max_tokens=4, lookahead=0)
        assert list(post) == ["a"]
        after = m.info()
        steps.append((after["tokens_evaluated"] - before["tokens_evaluated"],
                      after["prompt_tokens_reused"] - before["prompt_tokens_reused"]))
    if cache == 0:
        assert [r for _, r in steps] == [0, 0, 0]
        assert steps[1][0] == steps[2][0]                      # the whole prompt every time
    else:
        assert [r for _, r in steps] == [0, common, len(i2)]
        g = steps[2][0]                                        # the same prompt: only the generation
        assert steps[0][0] - g == len(i1)
        assert steps[1][0] - g == len(i2) - common


def test_lookahead_keyword_and_token_counts(model):
    off = smcgen.smc(model, "Phone: ", PHONE, particles=4, seed=3, lookahead=0)
    on = smcgen.smc(model, "Phone: ", PHONE, particles=4, seed=3, lookahead=16)
    assert dict(off) == dict(on) and off.log_z == on.log_z   # lookahead changes no draw
    assert on.n_tokens == off.n_tokens > 0 and 0 <= on.n_forced <= on.n_tokens
    doc = json.loads(on.to_json())
    assert (doc["tokens"], doc["forced_tokens"]) == (on.n_tokens, on.n_forced)
    with pytest.raises(ValueError, match=r"lookahead: -1 is not an integer in \[0, 4096\]"):
        smcgen.smc(model, "Phone: ", PHONE, lookahead=-1)


def _mapped(path):
    real = os.path.realpath(path)
    with open("/proc/self/maps") as f:
        return any(line.rstrip("\n").endswith(real) for line in f)


def test_load_maps_or_reads_the_file(shared):
    path = str(shared / "models" / "large-q8_0.gguf")   # 16 MB or more: auto would read it
    mapped, read = smcgen.Model(path, threads=1, load="mmap"), smcgen.Model(path, threads=1, load="read")
    assert _mapped(path)                                   # the mapped one
    del mapped
    assert not _mapped(path)                               # the read one is not a mapping
    ids = read.tokenize("Phone: ")
    assert list(read.logits(ids)) == list(smcgen.Model(path, threads=1, load="mmap").logits(ids))   # same bits


def _status(field):
    with open("/proc/self/status") as f:
        return next(line.split()[1] for line in f if line.startswith(field + ":"))


def _locked_kb():
    return int(_status("VmLck"))


@pytest.mark.parametrize("load", ["mmap", "read"])
def test_mlock_locks_the_weights(shared, load):
    path = shared / "models" / "large-q8_0.gguf"
    soft, _ = resource.getrlimit(resource.RLIMIT_MEMLOCK)
    cap_ipc_lock = (int(_status("CapEff"), 16) >> 14) & 1
    if not cap_ipc_lock and soft != resource.RLIM_INFINITY and soft < path.stat().st_size:
        pytest.skip(f"RLIMIT_MEMLOCK ({soft} bytes) is below the file's size and CAP_IPC_LOCK is not held")
    assert _locked_kb() == 0
    locked = smcgen.Model(str(path), threads=1, load=load, mlock=True)
    assert _locked_kb() >= path.stat().st_size // 1024          # the whole file is locked
    ids = locked.tokenize("Phone: ")
    assert list(locked.logits(ids)) == list(smcgen.Model(str(path), threads=1, load=load).logits(ids))
    del locked
    assert _locked_kb() == 0                                    # released with the model
