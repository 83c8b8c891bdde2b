"""Errors: bad grammars and schemas, critics that raise or return what is not
a log-weight, bad options — each a clear Python exception, never a crash."""
import math

import pytest

import smcgen

PHONE = smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}")
RUN = dict(particles=4, max_tokens=12)


@pytest.mark.parametrize("make, match", [
    (lambda: smcgen.Grammar.gbnf('root ::= "a'), r"1:\d+"),
    (lambda: smcgen.Grammar.gbnf('root ::= missing'), "missing"),
    (lambda: smcgen.Grammar.gbnf('root ::= "a"', root="nope"), "nope"),
    (lambda: smcgen.Grammar.lark('start: "a" (', ), r"1:\d+"),
    (lambda: smcgen.Grammar.regex("a(b"), ""),
    (lambda: smcgen.Grammar.regex("(a)\\1"), ""),
    (lambda: smcgen.Grammar.json_schema("{not json"), ""),
    (lambda: smcgen.Grammar.json_schema({"type": "strnig"}), "type"),
])
def test_bad_grammars_and_schemas(make, match):
    with pytest.raises(ValueError, match=match) as e:
        make()
    assert str(e.value)


def test_grammar_classify():
    assert [PHONE.classify(s) for s in ["555-1234", "555-", "5a"]] == ["complete", "prefix", "invalid"]
    g = smcgen.Grammar.json_schema({"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]})
    assert g.classify('{"n":3}') == "complete"
    assert g.classify('{"n": 3}') == "invalid"      # JSON Schema output is compact by default


class Raises(smcgen.Critic):
    def prefix(self, text):
        if len(text) >= 3:
            raise ZeroDivisionError("critic bug")
        return 0.0


class Returns(smcgen.Critic):
    def __init__(self, value):
        self.value = value

    def prefix(self, text):
        return self.value if len(text) >= 2 else 0.0


class BadBatch(smcgen.Critic):
    def batch(self, texts, flags):
        return [0.0] * (len(texts) + 1)


def test_raising_critic_is_its_own_exception(model):
    with pytest.raises(ZeroDivisionError, match="critic bug") as e:
        smcgen.smc(model, "Phone: ", PHONE, Raises(), **RUN)
    notes = "".join(getattr(e.value, "__notes__", []))
    assert "Raises.prefix(" in notes and "smcgen.smc()" in notes
    # the model is usable afterwards
    assert len(smcgen.smc(model, "Phone: ", PHONE, **RUN)) > 0


@pytest.mark.parametrize("value, exc, match", [
    (math.nan, ValueError, r"critic Returns\.prefix\(.*\) returned nan"),
    (math.inf, ValueError, r"critic Returns\.prefix\(.*\) returned \+inf"),
    ("0.5", TypeError, r"critic Returns\.prefix\(.*\) returned '0\.5' \(str\), not a number"),
    (None, TypeError, r"returned None \(NoneType\)"),
    (True, TypeError, r"returned True \(bool\)"),
])
def test_critic_returning_a_non_number(model, value, exc, match):
    with pytest.raises(exc, match=match):
        smcgen.smc(model, "Phone: ", PHONE, Returns(value), **RUN)


def test_critic_minus_inf_and_ints_are_fine(model):
    post = smcgen.smc(model, "Phone: ", PHONE, Returns(-math.inf), **RUN)
    assert post.all_dead and len(post) == 0 and post.log_z == -math.inf
    with pytest.raises(KeyError):
        post.most_probable()
    assert len(smcgen.smc(model, "Phone: ", PHONE, Returns(-1), **RUN)) > 0


def test_bad_batch_and_bad_critic_objects(model):
    with pytest.raises(TypeError, match="BadBatch.batch"):
        smcgen.smc(model, "Phone: ", PHONE, BadBatch(), **RUN)
    with pytest.raises(TypeError, match="prefix"):
        smcgen.smc(model, "Phone: ", PHONE, object(), **RUN)


def test_named_critic_in_messages(model):
    c = Returns(math.nan)
    c.name = "my-critic"
    with pytest.raises(ValueError, match="critic my-critic.prefix"):
        smcgen.smc(model, "Phone: ", PHONE, c, **RUN)


def test_critic_cannot_use_the_model_it_scores_for(model):
    class UsesModel(smcgen.Critic):
        def prefix(self, text):
            model.logits("x")
            return 0.0
    with pytest.raises(RuntimeError, match="busy"):
        smcgen.smc(model, "Phone: ", PHONE, UsesModel(), **RUN)


def test_bad_prompts_and_stops(model):
    with pytest.raises(ValueError, match="prompt is .* tokens"):
        smcgen.smc(model, "word " * 100000, PHONE, **RUN)
    with pytest.raises(ValueError, match="empty stop string"):
        smcgen.smc(model, "Phone: ", PHONE, stop="", **RUN)
    with pytest.raises(ValueError, match="stop"):
        smcgen.smc(model, "Phone: ", PHONE, stop=[str(i) for i in range(17)], **RUN)


def test_bad_critic_specs():
    for bad in ["nosuch", "sql:/nonexistent.sqlite", "pddl:/nonexistent.pddl", "plugin:/nonexistent.so"]:
        with pytest.raises(ValueError):
            smcgen.critics.from_spec(bad)


def test_ctrl_c_stops_a_run(model):
    """A pending SIGINT (here raised by the critic's first call, as Ctrl-C would be)
    stops the run at the next step with KeyboardInterrupt; the model stays usable."""
    import _thread

    class Interrupts(smcgen.Critic):
        calls = 0

        def prefix(self, text):
            Interrupts.calls += 1
            if Interrupts.calls == 1:
                _thread.interrupt_main()
            return 0.0

    with pytest.raises(KeyboardInterrupt):
        smcgen.smc(model, "Phone: ", PHONE, Interrupts(), **RUN)
    assert len(smcgen.smc(model, "Phone: ", PHONE, **RUN)) > 0
