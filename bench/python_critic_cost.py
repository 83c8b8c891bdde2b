#!/usr/bin/env python3
"""What a critic written in Python costs, next to the same critic in C.

The same SMC runs (bundled model, phone-number regex, same seeds: identical
particles, so the same texts are scored) with: no critic; the example C
plug-in (examples/critic_plugin.c: forbid a substring); the same critic in
Python, called one text at a time and with a batch() method; and as an
exec: process. Per run: wall time and the sampler's critic time; per critic
call: critic time / texts scored. Also the price of one call from C into
Python through ctypes (libc qsort calling a CFUNCTYPE comparator), the
alternative binding this package did not choose. Figures are medians over
the runs (a descheduled process on a loaded machine makes single runs spike).

    PYTHONPATH=build/python python3 bench/python_critic_cost.py [--runs 20]

Wall-clock figures on a shared machine are noisy: compare the rows of one
run with each other (ratios), not across machines.
"""
import argparse
import ctypes
import ctypes.util
import math
import os
import statistics
import sys
import time
from pathlib import Path

import smcgen
from smcgen import critics

REPO = Path(__file__).resolve().parents[1]


class NoSubstring:
    def __init__(self, needle):
        self.needle = needle

    def prefix(self, text):
        return -math.inf if self.needle in text else 0.0

    complete = prefix


class NoSubstringBatch(NoSubstring):
    def batch(self, texts, complete_flags):
        n = self.needle
        return [-math.inf if n in t else 0.0 for t in texts]


EXEC_SRC = r'''
import json, sys
print(json.dumps({"batch": True}), flush=True)
s = lambda t: None if sys.argv[1] in t else 0.0
for line in sys.stdin:
    r = json.loads(line)
    if r["op"] == "batch":
        print(json.dumps({"logws": [s(q["text"]) for q in r["requests"]]}), flush=True)
    else:
        print(json.dumps({"logw": s(r["text"])}), flush=True)
'''


def ctypes_callback_ns(n=200000):
    """Nanoseconds per Python comparator call made by C (qsort through ctypes)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    cmp_t = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))
    calls = [0]

    def cmp(a, b):
        calls[0] += 1
        return a[0] - b[0]
    arr = (ctypes.c_int * n)(*[(i * 7919) % n for i in range(n)])
    t = time.perf_counter()
    libc.qsort(arr, n, ctypes.sizeof(ctypes.c_int), cmp_t(cmp))
    return (time.perf_counter() - t) / calls[0] * 1e9, calls[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--particles", type=int, default=20)
    ap.add_argument("--max-tokens", type=int, default=16)
    ap.add_argument("--plugin", default=os.environ.get("SMCGEN_EXAMPLE_PLUGIN",
                                                     str(REPO / "build" / "libcritic_plugin_example.so")))
    a = ap.parse_args()
    model = smcgen.Model(threads=1)
    grammar = smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}")
    exec_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"smcgen_bench_exec_{os.getpid()}.py"
    exec_path.write_text(EXEC_SRC)
    setups = [("no critic", None, "smc"),
              ("C plug-in", critics.plugin(a.plugin, "55"), "smc-full"),
              ("Python, per text", NoSubstring("55"), "smc-full"),
              ("Python, batch()", NoSubstringBatch("55"), "smc-full"),
              ("exec: Python process", critics.exec(f"{sys.executable} {exec_path} 55"), "smc-full")]
    texts = {}   # texts scored in run k: the same for every critic (identical runs), counted by Python's
    try:
        for name, critic, method in setups:   # warm up (starts the exec: process)
            smcgen.smc(model, "Phone: ", grammar, critic, method=method, particles=4, max_tokens=4)
        rows = [(name, [], [], []) for name, _, _ in setups]
        for k in range(a.runs):               # interleaved, so that load changes hit every setup alike
            for (name, critic, method), (_, walls, crits, ref) in zip(setups, rows):
                t = time.perf_counter()
                post = smcgen.smc(model, "Phone: ", grammar, critic, method=method, particles=a.particles,
                                  max_tokens=a.max_tokens, seed=1 + k)
                walls.append(time.perf_counter() - t)
                crits.append(post.timings["critic"])
                ref.append(post.log_z)
                texts[k] = post.critic_calls.get("texts", texts.get(k, 0))
    finally:
        exec_path.unlink()
    med = statistics.median
    print(f"{a.runs} runs x {a.particles} particles, max {a.max_tokens} tokens, 1 thread; "
          f"{med(texts.values()):.0f} critic texts per run (median)\n")
    print(f"{'critic':<22} {'run ms':>9} {'critic ms/run':>14} {'us/text':>9} {'critic share':>13}")
    for name, walls, crits, _ in rows:
        per = med(c / texts[k] * 1e6 for k, c in enumerate(crits)) if name != "no critic" else float("nan")
        print(f"{name:<22} {med(walls) * 1e3:9.2f} {med(crits) * 1e3:14.3f} {per:9.2f} {med(c / w for c, w in zip(crits, walls)) * 100:12.2f}%")
    same = all(r[3] == rows[1][3] for r in rows[1:])
    print(f"\nidentical log Z across the critic rows: {same}")
    ns, calls = ctypes_callback_ns()
    print(f"ctypes: one C->Python callback (qsort comparator, {calls} calls): {ns / 1e3:.2f} us "
          f"(the extension's per-text cost above includes the GIL hand-off and making the str)")


if __name__ == "__main__":
    main()
