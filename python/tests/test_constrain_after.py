"""Think-then-constrain from Python: constrain_after / constrain_after_regex /
trigger_required are smc() keyword arguments (from the option table); the
regex constraint and a Python critic (borrowed by the run, reused after it)
apply only to the text after the trigger's first occurrence."""
import math
import re

import pytest

import smcgen


class NoSevens(smcgen.Critic):
    def __init__(self):
        self.seen = []

    def prefix(self, text):
        self.seen.append(text)
        return -math.inf if "7" in text else 0.0

    def complete(self, text):
        return self.prefix(text)


def after_trigger(text, trigger="= "):
    assert trigger in text, text
    return text[text.index(trigger) + len(trigger):]


def test_constrain_after_with_critic(model):
    critic = NoSevens()
    for _ in range(2):   # the critic object survives a run and serves another
        post = smcgen.smc(model, "x = 1\ny = 2\nz", smcgen.Grammar.regex("[0-9]{1,3}\n"), critic,
                          constrain_after="= ", trigger_required=True, particles=6, max_tokens=20, seed=3)
        live = [p for p in post.particles if p.log_weight > -math.inf]
        assert live, "every particle died"
        for p in live:
            rest = after_trigger(p.text)
            assert re.fullmatch(r"[0-9]{1,3}\n", rest), p.text
            assert "7" not in rest
        # The critic only ever saw text after the trigger.
        assert critic.seen and all("=" not in t for t in critic.seen), critic.seen[:5]


def test_constrain_after_errors(model):
    g = smcgen.Grammar.regex("[0-9]+")
    with pytest.raises(ValueError, match="at most one"):
        smcgen.smc(model, "x", g, constrain_after="a", constrain_after_regex="b")
    with pytest.raises(ValueError, match="trigger_required"):
        smcgen.smc(model, "x", g, trigger_required=True)
    with pytest.raises(ValueError, match="trigger regex"):
        smcgen.smc(model, "x", g, constrain_after_regex="(")
