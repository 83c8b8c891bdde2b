"""Model: tokenization, detokenization and logits equal the CLI's."""
import json
import subprocess

import numpy as np
import pytest

import smcgen

TEXTS = ["Hello world", "Molecule: CC(=O)O\nMolecule:", "SELECT name FROM singer WHERE age > 30;",
         "ünïcödé 日本語 🙂 tabs\tand  spaces", " leading space", "123456789 3.14159"]


@pytest.mark.parametrize("text", TEXTS)
def test_tokenize_equals_cli(model, cli, text):
    out = subprocess.run([cli, "tokenize", "--ids", text], capture_output=True, text=True, check=True)
    want = [int(x) for x in out.stdout.strip().split(",")]
    assert model.tokenize(text) == want
    assert model.tokenize(text, add_special=False) == want[1:]   # the bundled model adds BOS only


@pytest.mark.parametrize("text", TEXTS)
def test_detokenize_roundtrip_and_cli(model, cli, text):
    ids = model.tokenize(text, add_special=False)
    assert model.detokenize(ids) == text
    out = subprocess.run([cli, "detokenize", *map(str, ids)], capture_output=True, check=True)
    assert model.detokenize_bytes(ids) == out.stdout.rstrip(b"\n")
    assert b"".join(model.token_bytes(i) for i in ids) == text.encode()


@pytest.mark.parametrize("text", ["Hi", "Molecule: CC(=O)O\nMolecule:"])
def test_logits_equal_cli(model, cli, text):
    out = subprocess.run([cli, "logits", "-t", "1", "-p", text, "--json", "--all-positions"],
                         capture_output=True, text=True, check=True)
    ref = json.loads(out.stdout)
    assert ref["ids"] == model.tokenize(text)
    want = np.array([p["logits"] for p in ref["positions"]], dtype=np.float32)
    got = model.logits(text, all_positions=True)
    assert got.dtype == np.float32 and got.shape == want.shape == (len(ref["ids"]), model.n_vocab)
    # The CLI prints %.9g: float32 values round-trip exactly.
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(model.logits(ref["ids"]), want[-1])
    assert [int(np.argmax(r)) for r in got] == [p["argmax"] for p in ref["positions"]]


def test_model_errors(model):
    with pytest.raises(ValueError, match="out of range"):
        model.logits([0, model.n_vocab])
    with pytest.raises(ValueError, match="no token ids"):
        model.logits([])
    with pytest.raises(ValueError):
        smcgen.Model("/nonexistent/model.gguf")
    with pytest.raises(ValueError, match="threads"):
        smcgen.Model(threads=-1)
