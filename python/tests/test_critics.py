"""A critic written in Python gives the identical posterior to the same
critic as an exec: process or as the C plug-in, for the same seed; batch and
one-by-one scoring agree; built-in critics run from Python."""
import math
import sys
from pathlib import Path

import pytest

import smcgen
from smcgen import critics

PHONE = smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}")
HERE = Path(__file__).parent


class SoftCritic(smcgen.Critic):
    """Mirrors exec_critic.score."""

    def prefix(self, text):
        if "77" in text:
            return -math.inf
        return -0.35 * text.count("5") + 0.2 * text.count("1")

    def complete(self, text):
        return self.prefix(text) + (0.9 if text.endswith("3") else 0.0)


class BatchSoftCritic(SoftCritic):
    def __init__(self):
        self.batches = []

    def batch(self, texts, complete_flags):
        self.batches.append(len(texts))
        return [self.complete(t) if c else self.prefix(t) for t, c in zip(texts, complete_flags)]


class NoSubstring:
    """examples/critic_plugin.c in Python (no base class: any object with the two methods)."""

    def __init__(self, needle):
        self.needle = needle

    def prefix(self, text):
        return -math.inf if self.needle in text else 0.0

    complete = prefix


def same_run(a, b):
    assert dict(a) == dict(b)
    assert a.log_z == b.log_z and a.ess == b.ess and a.n_resamples == b.n_resamples
    assert [(p.raw, p.log_weight, p.tokens, p.forced_eos) for p in a.particles] == \
           [(p.raw, p.log_weight, p.tokens, p.forced_eos) for p in b.particles]


RUN = dict(particles=12, max_tokens=12, ess_threshold=0.7)


@pytest.mark.parametrize("seed", [1, 7, 42])
@pytest.mark.parametrize("batch", [False, True])
def test_python_critic_equals_exec_critic(model, seed, batch):
    cmd = f"{sys.executable} {HERE / 'exec_critic.py'}" + (" --batch" if batch else "")
    py = smcgen.smc(model, "Phone: ", PHONE, BatchSoftCritic() if batch else SoftCritic(), seed=seed, **RUN)
    ex = smcgen.smc(model, "Phone: ", PHONE, critics.exec(cmd), seed=seed, **RUN)
    same_run(py, ex)
    assert py.method == "smc-full" and py.n_resamples > 0
    # The critic moved the posterior: the same run without it differs.
    plain = smcgen.smc(model, "Phone: ", PHONE, seed=seed, method="smc", **RUN)
    assert plain.log_z != py.log_z


def test_batch_and_single_scoring_agree(model):
    b = BatchSoftCritic()
    same_run(smcgen.smc(model, "Phone: ", PHONE, b, seed=3, **RUN),
             smcgen.smc(model, "Phone: ", PHONE, SoftCritic(), seed=3, **RUN))
    assert b.batches and max(b.batches) > 1      # one call per step, many texts


@pytest.mark.parametrize("needle", ["5", "12"])
def test_python_critic_equals_c_plugin(model, plugin_path, needle):
    for seed in (1, 2):
        py = smcgen.smc(model, "Phone: ", PHONE, NoSubstring(needle), seed=seed, **RUN)
        c = smcgen.smc(model, "Phone: ", PHONE, critics.plugin(plugin_path, needle), seed=seed, **RUN)
        same_run(py, c)
        assert all(needle not in t for t in py)


def test_builtin_critic_reused_and_its_grammar(model):
    c = critics.smiles()
    assert c.grammar_gbnf and c.stop == "\n"
    for seed in (1, 2):
        post = smcgen.smc(model, "Molecule: CCO\nMolecule:", critic=c, particles=6, max_tokens=24, seed=seed)
        assert post.method == "smc-full" and len(post) > 0
        assert all("\n" not in t for t in post)


def test_sql_critic(model, shared):
    dbs = sorted((shared / "data" / "spider" / "database").glob("*/*.sqlite"))
    if not dbs:
        pytest.skip("no Spider databases in shared data")
    post = smcgen.smc(model, "-- SQL:\n", critic=critics.sql(dbs[0]), particles=4, max_tokens=24)
    assert post.method == "smc-full"
    with pytest.raises(ValueError):
        critics.sql("/nonexistent.sqlite")
