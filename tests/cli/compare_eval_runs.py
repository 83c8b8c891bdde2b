#!/usr/bin/env python3
"""compare_eval_runs.py A B — exit 0 when two `smcgen eval` run folders hold
the same units (timings aside), the same unit order and groups in
results.json, and the same summary.md (the command block and the timing
columns aside); else print the first difference and exit 1. Used by the
shard tests (a sharded run merged vs the same run unsharded)."""
import json
import sys


def units(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def strip(u):
    return {k: v for k, v in u.items() if not k.startswith("t_")}


def key(u):
    return (u["task"], u["model"], u["method"], u["n_particles"], u["instance"], u["replicate"])


def summary(path):
    out, skip = [], False
    for line in open(path):
        if line.startswith("Made by"):
            skip = True
            continue
        if skip:
            if line.startswith("    ") or not line.strip():
                continue
            skip = False
        if line.startswith("| ") and line.count("|") == 14:   # diagnostics: drop the timing cells
            line = "|".join(line.split("|")[:9])
        out.append(line)
    return out


def main(a, b):
    ua = {key(u): strip(u) for u in units(a + "/units.jsonl")}
    ub = {key(u): strip(u) for u in units(b + "/units.jsonl")}
    if ua.keys() != ub.keys():
        return "units differ: %s" % sorted(set(ua) ^ set(ub))[:5]
    for k in ua:
        if ua[k] != ub[k]:
            return "unit %s differs" % (k,)
    ra, rb = json.load(open(a + "/results.json")), json.load(open(b + "/results.json"))
    if [key(u) for u in ra["units"]] != [key(u) for u in rb["units"]]:
        return "results.json orders the units differently"
    if [strip(g) for g in ra["groups"]] != [strip(g) for g in rb["groups"]]:
        return "results.json groups differ"
    sa, sb = summary(a + "/summary.md"), summary(b + "/summary.md")
    if sa != sb:
        return "summary.md differs: %s" % [x for x in zip(sa, sb) if x[0] != x[1]][:2]
    if not any("Paired differences" in l for l in sa):
        return "summary.md lacks the paired differences"
    return None


if __name__ == "__main__":
    why = main(sys.argv[1], sys.argv[2])
    if why:
        print("compare_eval_runs: " + why)
        sys.exit(1)
