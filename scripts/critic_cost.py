#!/usr/bin/env python3
"""critic_cost.py — critic time per generated token, from an eval run's units.jsonl (or the
results.json / results.json.gz that holds the same units, as committed in docs/results).

For each task and model: the critic seconds (t_critic) of every smc-full run with the given number of
particles, summed, divided by the tokens of those runs' final particles, in milliseconds per token.
Usage: python3 scripts/critic_cost.py [docs/results/results.json.gz | OUT/units.jsonl] [--method M] [--particles N]
"""
import argparse
import gzip
import json
import sys


def read_units(path):
    """The units of a units.jsonl (one per line) or of a results.json[.gz] ("units": [...])."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        if path.endswith(".jsonl"):
            return [json.loads(line) for line in f]
        return json.load(f)["units"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("units", nargs="?", default="docs/results/results.json.gz")
    ap.add_argument("--method", default="smc-full")
    ap.add_argument("--particles", type=int, default=10)
    args = ap.parse_args()
    totals = {}
    try:
        for u in read_units(args.units):
            if u["method"] != args.method or u["n_particles"] != args.particles:
                continue
            t = totals.setdefault((u["task"], u["model"]), [0.0, 0, 0])
            t[0] += u["t_critic"]
            t[1] += sum(p["n_tokens"] for p in u["particles"])
            t[2] += 1
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f"critic_cost: cannot read {args.units}: {e}")
    print("| task | model | runs | tokens | critic ms/token |")
    print("|---|---|---|---|---|")
    for (task, model), (sec, toks, runs) in sorted(totals.items()):
        per = f"{1000 * sec / toks:.4f}" if toks else "-"
        print(f"| {task} | {model} | {runs} | {toks} | {per} |")


if __name__ == "__main__":
    main()
