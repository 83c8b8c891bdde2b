"""The exact-posterior check through Python: the bundled model, the regex
[ab]{1,3}, the stop string " " and a Python critic, against the target
enumerated here independently (token sequences spelled with the model's a/b
tokens, their probabilities from Model.logits; a particle ends with EOS or
any token containing a space, whose mass the stop string adds to EOS's; the
critic's complete score).

SMC's Ẑ is unbiased, and so is Ẑ times a run's posterior probability of each
string: the mean over runs of Ẑ·P̂(s) must be Z·π(s) within 4 standard errors
for every string s (and the mean Ẑ within 4 SE of Z), with fixed seeds. The
same data must reject the target without the critic, so the check can fail.
"""
import math

import numpy as np
import pytest

import smcgen

PROMPT = "ab ba abba b a "
REGEX = "[ab]{1,3}"
STOP = " "
RUNS = 400


class AbCritic(smcgen.Critic):
    def prefix(self, text):
        return -math.inf if "aba" in text else -0.3 * text.count("b")

    def complete(self, text):
        return self.prefix(text) + (0.8 if text.endswith("a") else 0.0)


def enumerate_target(model, critic):
    """Unnormalised target weight of every string of the language."""
    ab = {i: model.token_bytes(i).decode() for i in range(model.n_vocab)
          if model.token_bytes(i) and set(model.token_bytes(i)) <= set(b"ab")}
    ends = [model.eos] + [i for i in range(model.n_vocab) if STOP.encode() in model.token_bytes(i)]
    prompt = model.tokenize(PROMPT)
    weights = {}

    def visit(ids, text, logp):
        lp = model.logits(prompt + ids).astype(np.float64)
        lp -= lp.max()
        lp -= math.log(np.exp(lp).sum())
        if text:
            end = math.log(np.exp(lp[ends]).sum())
            w = math.exp(logp + end + (critic.complete(text) if critic else 0.0))
            weights[text] = weights.get(text, 0.0) + w
        for tok, s in ab.items():
            if len(text) + len(s) <= 3:
                visit(ids + [tok], text + s, logp + lp[tok])

    visit([], "", 0.0)
    return weights


@pytest.fixture(scope="module")
def runs(model):
    out = []
    for k in range(RUNS):
        post = smcgen.smc(model, PROMPT, smcgen.Grammar.regex(REGEX), AbCritic(), particles=6,
                          max_tokens=8, ess_threshold=0.8, stop=STOP, seed=1000 + 7 * k)
        out.append((math.exp(post.log_z), dict(post)))
    return out


def deviations(runs, weights):
    """(mean - expected) / SE of Ẑ·P̂(s) for every string, and of Ẑ."""
    z = sum(weights.values())
    zhat = np.array([r[0] for r in runs])
    dev = {"Z": (zhat.mean() - z) / (zhat.std(ddof=1) / math.sqrt(len(runs)))}
    for s, w in weights.items():
        y = np.array([zh * p.get(s, 0.0) for zh, p in runs])
        se = y.std(ddof=1) / math.sqrt(len(runs))
        dev[s] = (y.mean() - w) / se if se > 0 else (0.0 if w == 0 else math.inf)
    return dev


def test_smc_full_matches_enumerated_posterior(model, runs):
    weights = enumerate_target(model, AbCritic())
    assert len(weights) == 14 and weights["aba"] == 0.0
    dev = deviations(runs, weights)
    bad = {s: round(d, 2) for s, d in dev.items() if abs(d) > 4}
    assert not bad, f"estimates off by more than 4 SE: {bad}"
    # every string the runs produced is in the language and has support
    seen = {s for _, p in runs for s in p}
    assert seen <= {s for s, w in weights.items() if w > 0} and len(seen) >= 8


def test_check_rejects_the_wrong_target(model, runs):
    wrong = enumerate_target(model, None)   # the target without the critic
    dev = deviations(runs, wrong)
    assert math.isinf(dev["aba"])           # the critic's -inf is seen
    assert max(abs(d) for s, d in dev.items() if s != "aba") > 8   # and its soft scores too
