"""The same soft critic as test_critics.SoftCritic, as an exec: process
(JSON lines; with --batch it asks for batches)."""
import json
import sys


def score(text, complete):
    if "77" in text:
        return None                      # -inf: JSON has no infinity
    s = -0.35 * text.count("5") + 0.2 * text.count("1")
    return s + (0.9 if complete and text.endswith("3") else 0.0)


if "--batch" in sys.argv:
    print(json.dumps({"batch": True}), flush=True)
for line in sys.stdin:
    r = json.loads(line)
    if r["op"] == "batch":
        out = {"logws": [score(q["text"], q["op"] == "complete") for q in r["requests"]]}
    else:
        out = {"logw": score(r["text"], r["op"] == "complete")}
    print(json.dumps(out), flush=True)
