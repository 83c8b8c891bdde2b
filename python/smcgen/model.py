"""smcgen.Model: a GGUF model, its tokenizer and its raw logits."""
from __future__ import annotations

import os
from typing import Any, Dict, Sequence, Union

from . import _core

try:  # numpy is optional: logits come as a list of lists without it
    import numpy as _np
except ImportError:  # pragma: no cover
    _np = None

_PACKAGED_MODEL = os.path.join(os.path.dirname(__file__), "data", "default.gguf")

# The model settings of the library's option table (kept across runs, e.g.
# prompt_cache, load): Model()'s keyword arguments, checked by the library.
_MODEL_OPTIONS = {o["name"]: o for o in _core.options() if o["model"]}


def _option_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, str)):
        return str(v)
    raise TypeError(f"Model() options must be numbers, strings or bools, not {type(v).__name__}")


def _model_doc() -> str:
    lines = []
    for o in _MODEL_OPTIONS.values():
        kind = (f"one of {o['choices']}" if o["choices"] else
                f"{o['type']} in [{o['min']:.0f}, {o['max']:.0f}]")
        lines.append(f"        {o['name']}: {o['help'][0].upper()}{o['help'][1:]} ({kind}; "
                     f"default {o['default']}; CLI {o['flag']}).")
    return "\n".join(lines)


class Model(_core.Model):
    """A language model in a GGUF file (llama, qwen2 or qwen3 architecture).

    Args:
        path: the ``.gguf`` file. ``None`` (the default): ``$SMCGEN_MODEL`` if
            set, else the bundled default model, as the CLI does.
        threads: threads for the engine; 0 (the default) uses every core.
{model_options}

    Loading maps the file; a model is read-only and may be shared by threads
    (runs and logits calls on one model take turns).
    """

    def __init__(self, path: Union[str, os.PathLike, None] = None, threads: int = 0, **options: Any) -> None:
        if path is None and not os.environ.get("SMCGEN_MODEL") and os.path.exists(_PACKAGED_MODEL):
            path = _PACKAGED_MODEL
        unknown = sorted(set(options) - set(_MODEL_OPTIONS))
        if unknown:
            raise TypeError(f"Model() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}; "
                            f"the model options are: {', '.join(_MODEL_OPTIONS)}")
        given = {k: _option_text(v) for k, v in options.items() if v is not None}
        super().__init__(path, threads, given)

    def chat(self, messages: Sequence[Dict[str, str]], constraint: Any = None, critic: Any = None,
             **options: Any) -> Any:
        """Samples the assistant's reply to a conversation: ``smcgen.smc`` with the
        prompt written by the model's chat template (or ``chat_template=NAME``), as
        the CLI's ``--messages`` and the server's ``/v1/chat/completions`` do.

        Args:
            messages: ``[{"role": "system"|"user"|"assistant", "content": "..."}, ...]``.
            constraint, critic, options: as for :func:`smcgen.smc` (``system``,
                ``chat_template``, ``particles``, ...).

        Returns:
            a :class:`smcgen.Posterior` over the reply.
        """
        from .run import smc  # run imports this module
        if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
            raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
        return smc(self, None, constraint, critic, messages=list(messages), **options)

    def __repr__(self) -> str:
        i = self.info()
        return f"<smcgen.Model {self.path or 'default'!s}: {i['arch']}, {i['n_vocab']} tokens>"

    def tokenize(self, text: Union[str, bytes], add_special: bool = True, parse_special: bool = False) -> list[int]:
        """Token ids of ``text``, as ``smcgen tokenize --ids`` gives them.

        Args:
            text: the text (str, encoded as UTF-8, or bytes).
            add_special: prepend BOS (and append EOS) as the vocabulary asks.
            parse_special: recognise control-token texts such as ``<|endoftext|>``.
        """
        return super().tokenize(text, add_special, parse_special)

    def detokenize(self, ids: Sequence[int], render_special: bool = False) -> str:
        """The text of token ids (invalid UTF-8 as U+FFFD); see :meth:`detokenize_bytes`."""
        return self.detokenize_bytes(ids, render_special).decode("utf-8", "replace")

    def detokenize_bytes(self, ids: Sequence[int], render_special: bool = False) -> bytes:
        """The exact bytes of token ids (control tokens give their text when render_special)."""
        return super().detokenize_bytes(list(ids), render_special)

    def token_bytes(self, token_id: int) -> bytes:
        """The bytes one token stands for in generated text (empty for control tokens)."""
        return super().token_bytes(token_id)

    def logits(self, prompt: Union[str, Sequence[int]], all_positions: bool = False) -> Any:
        """The model's raw next-token logits, as ``smcgen logits`` computes them.

        Args:
            prompt: text (tokenized with BOS, as the CLI's ``-p``) or token ids.
            all_positions: logits at every position (shape ``(n, n_vocab)``)
                instead of the last one only (shape ``(n_vocab,)``).

        Returns:
            a float32 numpy array, or nested lists when numpy is not installed.
        """
        ids = self.tokenize(prompt) if isinstance(prompt, (str, bytes)) else list(prompt)
        raw, rows = self.logits_raw(ids, all_positions)
        nv = self.n_vocab
        if _np is not None:
            a = _np.frombuffer(raw, dtype=_np.float32).reshape(rows, nv)
            return a if all_positions else a[0]
        import array
        flat = array.array("f", raw).tolist()
        out = [flat[k * nv:(k + 1) * nv] for k in range(rows)]
        return out if all_positions else out[0]

    @property
    def n_vocab(self) -> int:
        """Number of tokens in the vocabulary."""
        return self.info()["n_vocab"]

    @property
    def eos(self) -> int:
        """The end-of-sequence token id (-1 when none)."""
        return self.info()["eos"]

    @property
    def bos(self) -> int:
        """The beginning-of-sequence token id (-1 when none)."""
        return self.info()["bos"]


Model.__doc__ = (Model.__doc__ or "").replace("{model_options}", _model_doc())
