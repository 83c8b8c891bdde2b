#!/usr/bin/env python3
"""The Python critic's cost per token in `smcgen eval`'s smc-full on pydata,
inside the sandbox and without it (--unsafe-no-sandbox), and optionally for a
second smcgen binary (a build from before a change): the runs alternate
(sandbox, no sandbox, other build, ...) so that a loaded machine weighs on
all of them alike. Per setting: critic seconds / tokens over all units of
all rounds (the unit's t_critic over its particles' n_tokens), and the
median of the per-round figures. Also the load average at the start and end.

    python3 bench/python_critic_eval_cost.py build/smcgen [--before OTHER/smcgen]
        [--rounds 3] [--limit 4] [--particles 8] [-m ../shared/models/small-q8_0.gguf]

Wall-clock figures on a shared machine are noisy: compare the rows of one
run with each other, not across runs.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def one_run(smcgen, args, unsafe, out):
    cmd = [smcgen, "eval", "--task", "pydata", "--methods", "smc-full", "--limit", str(args.limit),
           "--replicates", "1", "--particles", str(args.particles), "-m", args.model, "-t", "1", "-q",
           "--out", out]
    if unsafe:
        cmd.append("--unsafe-no-sandbox")
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    crit = toks = 0.0
    with open(os.path.join(out, "units.jsonl")) as f:
        for line in f:
            u = json.loads(line)
            crit += u["t_critic"]
            toks += sum(p.get("n_tokens", 0) for p in u["particles"])
    return crit, toks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("smcgen")
    ap.add_argument("--before", help="another smcgen binary to compare (e.g. a build of main before a change)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--particles", type=int, default=8)
    ap.add_argument("-m", "--model", default="../shared/models/small-q8_0.gguf")
    args = ap.parse_args()
    if not os.path.exists(args.model):
        print("no model %s (../shared absent?): nothing to measure" % args.model)
        return 0
    settings = [("sandbox", args.smcgen, False), ("no sandbox", args.smcgen, True)]
    if args.before:
        settings += [("before: sandbox", args.before, False), ("before: no sandbox", args.before, True)]
    load0 = os.getloadavg()
    per = {name: [] for name, _, _ in settings}
    tot = {name: [0.0, 0.0] for name, _, _ in settings}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for name, binary, unsafe in settings:
                out = os.path.join(tmp, "%d-%s" % (r, name.replace(" ", "_").replace(":", "")))
                crit, toks = one_run(binary, args, unsafe, out)
                per[name].append(1e3 * crit / max(toks, 1))
                tot[name][0] += crit
                tot[name][1] += toks
    load1 = os.getloadavg()
    print("load average %.2f %.2f %.2f at the start, %.2f %.2f %.2f at the end" % (load0 + load1))
    print("pydata smc-full, %d instances x %d particles, %d rounds alternating; model %s" %
          (args.limit, args.particles, args.rounds, os.path.basename(args.model)))
    print("%-22s %10s %14s %16s" % ("setting", "tokens", "critic ms/tok", "median of rounds"))
    for name, _, _ in settings:
        c, t = tot[name]
        print("%-22s %10d %14.3f %16.3f" % (name, t, 1e3 * c / max(t, 1), statistics.median(per[name])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
