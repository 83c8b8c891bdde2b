"""smcgen — constrained generation with language models by sequential Monte Carlo.

A thin Python layer over libsmcgen (the C library behind the ``smcgen``
command): every step of the work runs in the library, with the GIL released
while the model decodes.

    >>> import smcgen
    >>> model = smcgen.Model()                        # the bundled default model
    >>> post = smcgen.smc(model, "Phone: ", smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}"))
    >>> post.most_probable()

Objects: :class:`Model`, :class:`Grammar` (``gbnf``/``lark``/``regex``/
``json_schema``), :mod:`smcgen.critics` (built-in critics and the
:class:`~smcgen.critics.Critic` base for your own), :func:`smc` returning a
:class:`Posterior`.
"""
from ._core import SmcgenError
from . import critics
from .critics import Critic
from .grammar import Grammar
from .model import Model
from .posterior import Particle, Posterior
from .run import smc

__all__ = ["Model", "Grammar", "Critic", "critics", "smc", "Posterior", "Particle", "SmcgenError"]
__version__ = "0.1.0"
