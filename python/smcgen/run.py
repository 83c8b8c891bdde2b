"""smcgen.smc(): one SMC (or baseline) run through libsmcgen.

Its keyword arguments are not written here: they, their defaults, type hints
and the lines of the docstring come from the library's run-option table
(``smc_opt_at``), the same table the CLI's flags and the HTTP API's fields
come from, and values are checked by the library (``smc_run_opts_set_json``)
with the same messages. Only the arguments that are Python objects here
(model, prompt, constraint, critic) are described in this file.
"""
from __future__ import annotations

import inspect
import json
import textwrap
from typing import Any, Dict, List, Literal, Optional, Sequence, Union

from . import _core
from .grammar import Grammar
from .model import Model
from .posterior import Posterior

# Table options that are objects or positional arguments in Python.
_OBJECT_OPTIONS = {"prompt", "grammar", "lark", "regex", "json_schema", "critic"}
_OPTIONS: List[Dict[str, Any]] = [o for o in _core.options() if o["json"] and o["name"] not in _OBJECT_OPTIONS]
_BY_NAME = {o["name"]: o for o in _OPTIONS}


def _annotation(o: Dict[str, Any]) -> Any:
    if o["type"] == "choice":
        return Optional[Literal[tuple(o["choices"].split("|"))]] if o["default"] is None \
            else Literal[tuple(o["choices"].split("|"))]
    return {"int": int, "float": float, "bool": bool, "string": Optional[str],
            "strings": Union[str, Sequence[str], None]}[o["type"]]


def _default(o: Dict[str, Any]) -> Any:
    d = o["default"]
    if d is None:
        return None
    return {"int": int, "float": float, "bool": lambda s: s in ("true", "1")}.get(o["type"], str)(d)


def _describe(o: Dict[str, Any]) -> str:
    if o["type"] == "choice":
        what = "one of " + ", ".join(repr(c) for c in o["choices"].split("|"))
    elif o["type"] in ("int", "float"):
        lo = "(" if o["min_open"] else "["
        fmt = (lambda x: f"{x:.0f}") if o["type"] == "int" else (lambda x: f"{x:g}")
        what = f"{o['type']} in {lo}{fmt(o['min'])}, {fmt(o['max'])}]"
    else:
        what = {"bool": "bool", "string": "str", "strings": "str or list of str"}[o["type"]]
    default = "" if o["default"] is None else f"; default {_default(o)!r}"
    return f"{o['help'][0].upper()}{o['help'][1:]} ({what}{default}; CLI {o['flag']})."


_DOC_HEAD = """Samples completions of ``prompt`` by sequential Monte Carlo (or one of the baselines).

The target is p_LM(text) · constraint(text) · exp(critic(text)) over texts that end
with EOS (or a stop string) within ``max_tokens`` tokens; the run returns a weighted
set of particles approximating it. The GIL is released while the engine decodes; a
Python critic is called in-process, with the GIL, once per SMC step for every
particle that reached a boundary or ended.

Args:
    model: the :class:`smcgen.Model` to sample from.
    prompt: the prompt text (tokenized with BOS unless ``no_bos``), or None with
        ``chat`` or ``messages``: the model's chat template (or ``chat_template``)
        writes the prompt, as :meth:`Model.chat` does.
    constraint: a :class:`smcgen.Grammar` the completion must match (the cheap
        potential that masks tokens), or None: a built-in critic's own grammar,
        or no constraint (then only ``method="plain"`` is possible).
    critic: the expensive potential: a built-in critic from :mod:`smcgen.critics`
        (``critics.sql(db)``, ``critics.smiles()``, ...) or any object with
        ``prefix(text) -> float`` and ``complete(text) -> float`` log-weights
        (``-inf`` rejects) and optionally ``batch(texts, complete_flags)``.
"""

_DOC_TAIL = """
Returns:
    a :class:`smcgen.Posterior`: mapping text → probability, with ``.log_z``,
    ``.ess``, ``.particles``, ``.timings`` and ``.to_json()`` (as ``smcgen smc --json``).

Raises:
    ValueError: a bad option value (named, with its range or choices), a method
        that needs a critic or a constraint without one, a prompt too long.
    TypeError: an unknown keyword argument; a critic without prefix/complete, or
        returning something that is not a number.
    SmcgenError: the run failed in the library (e.g. an exec: critic died).
    Any exception a Python critic raises, unchanged (with a note naming the critic).
"""


def _doc() -> str:
    lines = []
    for o in _OPTIONS:
        body = textwrap.fill(_describe(o), 88, initial_indent=" " * 8, subsequent_indent=" " * 8,
                             break_on_hyphens=False)
        lines.append(f"    {o['name']}:\n{body}")
    return _DOC_HEAD + "\n".join(lines) + "\n" + _DOC_TAIL


def smc(model: Model, prompt: Optional[str], constraint: Optional[Grammar] = None, critic: Any = None,
        **options: Any) -> Posterior:
    unknown = sorted(set(options) - set(_BY_NAME))
    if unknown:
        raise TypeError(f"smc() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                        f"the options are: {', '.join(_BY_NAME)}")
    given = {k: v for k, v in options.items() if v is not None}
    try:
        text = json.dumps(given, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"smc() options must be numbers, strings, bools or lists of strings: {e}") from None
    return Posterior(_core.run(model, prompt, text, constraint, critic))


_params = [inspect.Parameter("model", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Model),
           inspect.Parameter("prompt", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Optional[str]),
           inspect.Parameter("constraint", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                             annotation=Optional[Grammar]),
           inspect.Parameter("critic", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None, annotation=Any)]
_params += [inspect.Parameter(o["name"], inspect.Parameter.KEYWORD_ONLY, default=_default(o),
                              annotation=_annotation(o)) for o in _OPTIONS]
smc.__signature__ = inspect.Signature(_params, return_annotation=Posterior)  # type: ignore[attr-defined]
smc.__doc__ = _doc()
