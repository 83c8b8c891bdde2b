"""The GIL is released while the engine decodes: another Python thread runs
during a run; runs on two models in two threads give the same results as one
after the other."""
import json
import subprocess
import sys
import threading

import pytest

import smcgen

PHONE = smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}")


# An exec: critic that, asked its first question, says so (a file) and answers
# only once the "go" file exists. Until then the sampler waits inside C.
GATED_CRITIC = r"""
import json, os, sys, time
asked, go = sys.argv[1], sys.argv[2]
for line in sys.stdin:
    if not os.path.exists(asked):
        open(asked, "w").close()
        while not os.path.exists(go):
            time.sleep(0.01)
    r = json.loads(line)
    print(json.dumps({"logws": [0.0] * len(r["requests"])} if r["op"] == "batch" else {"logw": 0.0}), flush=True)
"""

# Runs in a child process: the run's thread blocks in C on the critic; this
# thread must run Python (it needs the GIL) to let it go. Were the GIL held
# while decoding, neither could move: a deadlock, caught by the timeout.
DRIVER = r"""
import os, sys, threading, time
import smcgen
critic_py, asked, go = sys.argv[1:4]
model = smcgen.Model(threads=1)
crit = smcgen.critics.exec(f"{sys.executable} {critic_py} {asked} {go}")
out = []
t = threading.Thread(target=lambda: out.append(smcgen.smc(
    model, "Phone: ", smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}"), crit, particles=4, max_tokens=10, seed=1)))
t.start()
while not os.path.exists(asked):
    time.sleep(0.01)
assert not out, "the run ended before its critic answered"
n = sum(i * i for i in range(10000))   # Python work while the run waits in C
open(go, "w").close()
t.join()
print("ok", n, len(out[0].particles))
"""


def test_other_threads_run_while_decoding(tmp_path):
    (tmp_path / "critic.py").write_text(GATED_CRITIC)
    (tmp_path / "driver.py").write_text(DRIVER)
    args = [sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "critic.py"),
            str(tmp_path / "asked"), str(tmp_path / "go")]
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.fail("deadlock: the run held the GIL while it waited in C")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[:2] == ["ok", str(sum(i * i for i in range(10000)))], r.stdout
    assert int(r.stdout.split()[2]) == 4


def test_two_models_in_two_threads():
    models = [smcgen.Model(threads=1), smcgen.Model(threads=1)]

    class Soft(smcgen.Critic):
        def prefix(self, text):
            return -0.2 * text.count("7")

    def go(m, seed):
        return smcgen.smc(m, "Phone: ", PHONE, Soft(), particles=8, max_tokens=10, seed=seed)
    alone = [go(models[0], s).to_json() for s in (1, 2)]
    out = [None, None]
    ts = [threading.Thread(target=lambda i=i: out.__setitem__(i, go(models[i], i + 1).to_json())) for i in (0, 1)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    def strip(j):   # all but the timings
        return {k: v for k, v in json.loads(j).items() if k != "time_s"}
    assert [strip(j) for j in out] == [strip(j) for j in alone]
