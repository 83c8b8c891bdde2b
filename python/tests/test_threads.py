"""The GIL is released while the engine decodes: another Python thread runs
during a run; runs on two models in two threads give the same results as one
after the other."""
import json
import threading

import smcgen

PHONE = smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}")


def test_other_threads_run_while_decoding(model):
    counter = [0]
    seen = []
    done = threading.Event()

    class Watch(smcgen.Critic):
        def prefix(self, text):
            seen.append(counter[0])
            return 0.0

        def batch(self, texts, flags):   # once per step
            seen.append(counter[0])
            return [0.0] * len(texts)

    def run():
        try:
            smcgen.smc(model, "Phone: ", PHONE, Watch(), particles=30, max_tokens=10)
        finally:
            done.set()
    t = threading.Thread(target=run)
    t.start()
    while not done.is_set():
        counter[0] += 1
    t.join()
    # Between two steps the sampler decodes in C; the main thread kept counting meanwhile.
    steps = list(zip(seen, seen[1:]))
    assert len(steps) >= 5
    assert sum(b > a for a, b in steps) >= len(steps) // 2, seen


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
