"""smcgen.smc(): one SMC (or baseline) run through libsmcgen."""
from __future__ import annotations

from typing import Any, Optional, Sequence, Union

from . import _core
from .grammar import Grammar
from .model import Model
from .posterior import Posterior


def smc(model: Model, prompt: str, constraint: Optional[Grammar] = None, critic: Any = None, *,
        method: Optional[str] = None, particles: int = 10, ess_threshold: float = 0.9,
        resample: str = "stratified", max_tokens: int = 64, temperature: float = 1.0, seed: int = 1,
        proposal: str = "masked", stop: Union[str, Sequence[str], None] = None,
        no_default_stop: bool = False, no_bos: bool = False) -> Posterior:
    """Sample completions of ``prompt`` by sequential Monte Carlo."""
    if method is None:
        method = "smc-full" if critic is not None else "smc" if constraint is not None else "plain"
        if method == "plain" and isinstance(critic, _core.BuiltinCritic):
            method = "smc-full"
    r = _core.run(model, prompt, method, particles, ess_threshold, resample, max_tokens, temperature, seed,
                  proposal, constraint, critic, stop, not no_default_stop, not no_bos)
    return Posterior(r)
