#!/usr/bin/env python3
"""ess_sweep.py — the ESS-threshold sweep of `smcgen eval` as a table and a plot.

Reads several eval run folders (their results.json, else units.jsonl) made with the same instances and seeds but different --ess (and
--resample-at) values, e.g. the commands in docs/results/README.md, and writes into OUT:
  ess_sweep.md   per task and model: score (95% bootstrap CI over instances), all-dead fraction and
                 resamples per run for every threshold; then, pooled over tasks and models, each
                 setting's paired difference to a reference setting (instance-level bootstrap CI)
  ess_sweep.dat, ess_sweep.gp, ess_sweep.png (score) and ess_sweep_dead.png (all-dead fraction),
                 the pictures when gnuplot is installed
Usage: python3 scripts/ess_sweep.py OUT RUN_DIR... [--ref smc-full/step/0.9]
Series: smc, smc-full (ESS tested after every token: step) and smc-full at critic steps (critic).
Only the standard library and gnuplot; fixed bootstrap seed.
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import sys
from collections import defaultdict

BOOT = 2000


def read_run(d):
    with open(os.path.join(d, "config.json")) as f:
        c = json.load(f)
    # results.json holds the units as scored by the report (molecules: QED by
    # RDKit); units.jsonl the raw ones.
    path = os.path.join(d, "results.json")
    if os.path.exists(path):
        with open(path) as f:
            return c, json.load(f)["units"]
    with open(os.path.join(d, "units.jsonl")) as f:
        return c, [json.loads(line) for line in f]


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def boot_ci(per_inst, rng):
    """95% percentile CI of the mean over instances (each instance: its replicates' mean)."""
    xs = list(per_inst)
    if len(xs) < 2:
        return (mean(xs), mean(xs))
    ms = sorted(mean([xs[rng.randrange(len(xs))] for _ in xs]) for _ in range(BOOT))
    return ms[int(0.025 * BOOT)], ms[int(0.975 * BOOT) - 1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--ref", default="smc-full/step/0.9", help="reference setting: METHOD/POLICY/THRESHOLD")
    a = ap.parse_args()
    # cell[(task, model, series, thr)][instance] = list of (score, all_dead, n_resamples)
    cell = defaultdict(lambda: defaultdict(list))
    for d in a.runs:
        c, units = read_run(d)
        thr = float(c["ess_threshold"])
        policy = c.get("resample_at", "step")
        for u in units:
            m = u["method"]
            if m not in ("smc", "smc-full") or u["n_particles"] != c["n_particles"]:
                continue
            if m == "smc" and policy != "step":
                continue  # without a critic the policy changes nothing
            series = f"{m}/{policy}"
            cell[(u["task"], u["model"], series, thr)][u["instance"]].append(
                (u["score"], bool(u["all_dead"]), u["n_resamples"]))
    if not cell:
        sys.exit("ess_sweep.py: no smc or smc-full units in the runs")
    tasks = sorted({k[0] for k in cell}, key=lambda t: ["spider", "molecules", "blocksworld", "pydata"].index(t))
    models = sorted({k[1] for k in cell}, key=lambda m: (m != "small", m))
    series = sorted({k[2] for k in cell}, key=lambda s: ["smc/step", "smc-full/step", "smc-full/critic"].index(s))
    thrs = sorted({k[3] for k in cell})
    rng = random.Random(14)
    os.makedirs(a.out, exist_ok=True)
    md = ["# ESS-threshold sweep", "",
          "Score = posterior-weighted accuracy, mean over instances (each the mean of its replicates) with a",
          "95% bootstrap CI over instances; dead = fraction of runs whose particles all died; res = resamples",
          "per run. `step`: the ESS is tested after every token; `critic`: smc-full tests it only after a",
          "step in which the critic scored a particle (`--resample-at critic`).", ""]
    dat = []
    for t in tasks:
        for mo in models:
            md += [f"## {t} / {mo}", "", "| series | " + " | ".join(f"ESS {x:g}" for x in thrs) + " |",
                   "|---|" + "---|" * len(thrs)]
            for s in series:
                row, block = [], []
                for x in thrs:
                    insts = cell.get((t, mo, s, x))
                    if not insts:
                        row.append("–")
                        continue
                    per = [mean([r[0] for r in rs]) for rs in insts.values()]
                    runs = [r for rs in insts.values() for r in rs]
                    lo, hi = boot_ci(per, rng)
                    dead = mean([r[1] for r in runs])
                    res = mean([r[2] for r in runs])
                    row.append(f"{mean(per):.3f} [{lo:.3f}, {hi:.3f}] dead {dead:.2f} res {res:.1f} (n={len(per)})")
                    block.append(f"{x:g} {mean(per):.4f} {lo:.4f} {hi:.4f} {dead:.4f}")
                md.append(f"| {s} | " + " | ".join(row) + " |")
                dat.append((t, mo, s, block))
            md.append("")
    # Pooled over tasks and models: paired difference of each setting to the reference.
    rm, rp, rt = a.ref.split("/")
    ref = (rm + "/" + rp, float(rt))

    def per_key(s, x):
        out = {}
        for (t, mo, s2, x2), insts in cell.items():
            if s2 == s and x2 == x:
                for i, rs in insts.items():
                    out[(t, mo, i)] = mean([r[0] for r in rs])
        return out

    base = per_key(*ref)
    md += [f"## Pooled over tasks and models: paired difference to {a.ref}", "",
           "Instances common to both settings; difference of the per-instance means; 95% bootstrap CI over",
           "instances. A CI that crosses 0 is undecided.", "",
           "| setting | instances | score | minus reference | 95% CI | verdict |", "|---|---|---|---|---|---|"]
    for s in series:
        for x in thrs:
            cur = per_key(s, x)
            keys = sorted(set(cur) & set(base))
            if not keys:
                continue
            diffs = [cur[k] - base[k] for k in keys]
            lo, hi = boot_ci(diffs, rng)
            verdict = "better" if lo > 0 else "worse" if hi < 0 else "undecided"
            if (s, x) == ref:
                verdict = "reference"
            md.append(f"| {s} {x:g} | {len(keys)} | {mean([cur[k] for k in keys]):.4f} | {mean(diffs):+.4f} | "
                      f"[{lo:+.4f}, {hi:+.4f}] | {verdict} |")
    md.append("")
    with open(os.path.join(a.out, "ess_sweep.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(a.out, "ess_sweep.dat"), "w") as f:
        for t, mo, s, block in dat:
            f.write(f"# {t} {mo} {s}\n" + "\n".join(block) + "\n\n\n")
    # One panel per task and model; one line per series (shifted a little
    # sideways so that the error bars stay apart): the score, then the
    # all-dead fraction.
    gp = []
    for out, col, ylabel in (("ess_sweep.png", "2:3:4", "score (95% CI over instances)"),
                             ("ess_sweep_dead.png", "5", "fraction of runs all dead")):
        gp += [f"set terminal pngcairo size {400 * len(tasks)},{320 * len(models)} noenhanced font ',10'",
               f"set output '{out}'", f"set multiplot layout {len(models)},{len(tasks)}",
               "set xrange [-0.05:1.05]", "set yrange [0:1.05]", "set xtics 0.1",
               "set xlabel 'ESS threshold T (resample when ESS < T*N)'", f"set ylabel '{ylabel}'", "set grid",
               "set key top right font ',8' opaque"]
        for mo in models:
            for t in tasks:
                plots = []
                for i, (t2, mo2, s, _) in enumerate(dat):
                    if (t2, mo2) != (t, mo):
                        continue
                    dx = 0.012 * (series.index(s) - 1)
                    style = "yerrorlines" if col != "5" else "linespoints"
                    plots.append(f"'ess_sweep.dat' index {i} using ($1+{dx}):{col} with {style} title '{s}'")
                gp += [f"set title '{t} / {mo}'", "plot " + ", ".join(plots)]
        gp.append("unset multiplot")
    with open(os.path.join(a.out, "ess_sweep.gp"), "w") as f:
        f.write("\n".join(gp) + "\n")
    if shutil.which("gnuplot"):
        subprocess.run(["gnuplot", "ess_sweep.gp"], cwd=a.out, check=True)
    print(os.path.join(a.out, "ess_sweep.md"))


if __name__ == "__main__":
    main()
