"""Critics: the expensive potentials SMC weighs particles by.

Built-in critics (the same as the CLI's ``--critic``) each bring their
domain's grammar and stop string. Your own critic is any object with

* ``prefix(text) -> float``: log-weight of a text that may still grow
  (``-inf`` rejects it and every extension of it);
* ``complete(text) -> float``: log-weight of a finished text;
* optionally ``batch(texts, complete_flags) -> list[float]``: the same scores
  for all the particles of one SMC step at once;
* optionally ``name``: used in error messages (default: the class name).

It is called in-process from the sampler (with the GIL held only during
the call). An exception, or a score that is not a number, NaN or +inf, stops
the run and is raised from :func:`smcgen.smc`.
"""
from __future__ import annotations

import os
from typing import Any, Mapping, Union

from . import _core

BuiltinCritic = _core.BuiltinCritic
_Path = Union[str, os.PathLike]


class Critic:
    """Base class for Python critics: override :meth:`prefix` (and :meth:`complete`
    when a finished text scores differently, and :meth:`batch` to score a
    step's texts together). Scores are natural-log weights."""

    def prefix(self, text: str) -> float:
        """Log-weight of ``text`` as a prefix (default 0: no opinion)."""
        return 0.0

    def complete(self, text: str) -> float:
        """Log-weight of ``text`` as a finished string (default: :meth:`prefix`)."""
        return self.prefix(text)


def smiles() -> BuiltinCritic:
    """SMILES chemistry: valences, rings, aromaticity (grammar: SMILES syntax)."""
    return BuiltinCritic("smiles")


def sql(db_path: _Path) -> BuiltinCritic:
    """SQL on a SQLite database (read-only): names in scope while writing, the
    query runs at the end (grammar: SELECT over the database's names)."""
    return BuiltinCritic("sql:" + os.fspath(db_path))


def pddl(problem_path: _Path) -> BuiltinCritic:
    """Blocksworld PDDL goals satisfiable from the problem's state (grammar:
    goals over its objects)."""
    return BuiltinCritic("pddl:" + os.fspath(problem_path))


def python(problem: Union[_Path, Mapping[str, Any]]) -> BuiltinCritic:
    """Python that parses and runs in the sandboxed worker. ``problem`` is a
    JSON file or a dict with optional ``"setup"`` and ``"test"`` code."""
    if isinstance(problem, Mapping):
        setup = problem.get("setup", problem.get("context_setup"))
        return BuiltinCritic("python", setup, problem.get("test"))
    return BuiltinCritic("python:" + os.fspath(problem))


def plugin(path: _Path, arg: Union[str, None] = None) -> BuiltinCritic:
    """A C plug-in (a shared library exporting ``smcgen_critic_init``; see
    ``examples/critic_plugin.c``), given ``arg``."""
    return BuiltinCritic("plugin:" + os.fspath(path) + (":" + arg if arg is not None else ""))


def exec(command: str) -> BuiltinCritic:  # noqa: A001 - the CLI's name for it
    """An external process speaking JSON lines (``{"op":"prefix"|"complete","text":...}``
    answered by ``{"logw": x}``), started with ``sh -c command``."""
    return BuiltinCritic("exec:" + command)


def from_spec(spec: str) -> BuiltinCritic:
    """A critic from a CLI spec string such as ``"sql:db.sqlite"``."""
    return BuiltinCritic(spec)


__all__ = ["Critic", "BuiltinCritic", "smiles", "sql", "pddl", "python", "plugin", "exec", "from_spec"]
