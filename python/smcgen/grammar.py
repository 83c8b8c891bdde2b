"""smcgen.Grammar: hard constraints (GBNF, Lark, regex, JSON Schema), compiled
by the library into one byte-level recognizer with token masks."""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional, Union

from . import _core


class Grammar(_core.Grammar):
    """A compiled constraint. Build one with :meth:`gbnf`, :meth:`lark`,
    :meth:`regex` or :meth:`json_schema`; errors (with ``line:column``) raise
    ``ValueError``. A grammar is immutable and may be reused by many runs."""

    @classmethod
    def gbnf(cls, text: str, root: Optional[str] = None) -> "Grammar":
        """A GBNF grammar (llama.cpp syntax); ``root`` names the start rule (default ``root``)."""
        return cls("gbnf", text, root)

    @classmethod
    def lark(cls, text: str, start: Optional[str] = None) -> "Grammar":
        """A Lark grammar; ``start`` names the start rule (default ``start``)."""
        return cls("lark", text, start)

    @classmethod
    def regex(cls, pattern: str) -> "Grammar":
        """A regular expression the whole generated text must match."""
        return cls("regex", pattern)

    @classmethod
    def json_schema(cls, schema: Union[str, Mapping[str, Any]]) -> "Grammar":
        """JSON that validates against ``schema`` (a dict or JSON text)."""
        text = schema if isinstance(schema, str) else json.dumps(schema)
        return cls("json_schema", text)

    def classify(self, text: Union[str, bytes]) -> str:
        """``"complete"`` (in the language), ``"prefix"`` (can still become so) or ``"invalid"``."""
        return super().classify(text)

    def __repr__(self) -> str:
        src = self.source if len(self.source) <= 40 else self.source[:37] + "..."
        return f"<smcgen.Grammar {self.kind} {src!r}>"
