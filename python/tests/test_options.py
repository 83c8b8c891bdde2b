"""smc()'s keyword arguments come from the library's run-option table: the
same names, defaults and checks as the CLI's flags and the HTTP API's fields."""
import inspect
import subprocess

import pytest

import smcgen
from smcgen import _core

PHONE = smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}")
OBJECTS = {"prompt", "grammar", "lark", "regex", "json_schema", "critic"}


def test_signature_and_doc_follow_the_table():
    table = [o for o in _core.options() if o["json"] and o["name"] not in OBJECTS]
    sig = inspect.signature(smcgen.smc)
    kw = [p for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY]
    assert [p.name for p in kw] == [o["name"] for o in table]
    assert {"particles", "ess_threshold", "resample", "max_tokens", "method", "seed", "proposal",
            "temperature", "stop"} <= {p.name for p in kw}
    for p, o in zip(kw, table):
        if o["default"] is None:
            assert p.default is None
        else:
            assert str(p.default).lower() == o["default"] or float(p.default) == float(o["default"])
    doc = smcgen.smc.__doc__
    for name in ["model", "prompt", "constraint", "critic"] + [o["name"] for o in table]:
        assert f"    {name}:" in doc, name
    for o in table:
        assert o["help"][1:20] in doc.replace("\n", " ").replace("  ", " "), o["name"]


@pytest.mark.parametrize("kw, flag, value, match", [
    ({"particles": 0}, "--particles", "0", r"particles: 0 is not an integer in \[1, 100000\]"),
    ({"ess_threshold": 1.5}, "--ess", "1.5", r"ess_threshold: 1.5 is not a number in \[0, 1\]"),
    ({"resample": "best"}, "--resample", "best", r"resample: unknown value 'best'"),
    ({"temperature": 0}, "--temp", "0", r"temperature: 0 is not a number in \(0,"),
])
def test_bad_values_rejected_as_by_the_cli(model, cli, kw, flag, value, match):
    with pytest.raises(ValueError, match=match):
        smcgen.smc(model, "Phone: ", PHONE, **kw)
    out = subprocess.run([cli, "smc", "-p", "Phone: ", "--regex", "[0-9]", flag, value], capture_output=True, text=True)
    assert out.returncode != 0 and flag in out.stderr


def test_unknown_and_badly_typed_options(model):
    with pytest.raises(TypeError, match="particle.*the options are"):
        smcgen.smc(model, "Phone: ", PHONE, particle=3)
    with pytest.raises(TypeError):
        smcgen.smc(model, "Phone: ", PHONE, particles=object())
    with pytest.raises(ValueError, match="particles"):
        smcgen.smc(model, "Phone: ", PHONE, particles="many")


def test_method_defaults_and_checks(model):
    assert smcgen.smc(model, "Phone: ", PHONE, particles=2, max_tokens=10).method == "smc"
    assert smcgen.smc(model, "Phone: ", particles=2, max_tokens=4).method == "plain"
    assert smcgen.smc(model, "Phone: ", PHONE, smcgen.Critic(), particles=2, max_tokens=10).method == "smc-full"
    with pytest.raises(ValueError, match="smc-full needs a critic"):
        smcgen.smc(model, "Phone: ", PHONE, method="smc-full")
    with pytest.raises(ValueError, match="smc needs a constraint"):
        smcgen.smc(model, "Phone: ", method="smc")
    with pytest.raises(ValueError, match="constraint"):
        smcgen.smc(model, "Phone: ", None, smcgen.Critic(), particles=2)


def test_same_run_as_the_cli(model, cli):
    """Same options, same seed: the CLI's --json run and smc()'s are the same run."""
    import json
    args = dict(particles=6, max_tokens=12, seed=5, ess_threshold=0.5, resample="systematic")
    post = smcgen.smc(model, "Phone: ", PHONE, **args)
    out = subprocess.run([cli, "smc", "-q", "--json", "-t", "1", "-p", "Phone: ", "--regex", "[0-9]{3}-[0-9]{4}",
                          "--particles", "6", "--max-tokens", "12", "--seed", "5", "--ess", "0.5",
                          "--resample", "systematic"], capture_output=True, text=True, check=True)
    ref = json.loads(out.stdout)
    mine = post.as_dict()
    assert [p["text"] for p in mine["posterior"]] == [p["text"] for p in ref["posterior"]]
    assert mine["log_z"] == pytest.approx(ref["log_z"], abs=1e-9)
    assert mine["particles"] == ref["particles"]
