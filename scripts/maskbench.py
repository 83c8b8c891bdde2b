#!/usr/bin/env python3
"""maskbench.py — smcgen's JSON Schema converter on MaskBench
(github.com/guidance-ai/jsonschemabench, folder maskbench/data: one JSON file
per schema, {"schema": ..., "tests": [{"data": ..., "valid": bool}, ...]}).

A schema "passes" as MaskBench counts it: it compiles, every valid instance is
accepted and no invalid one is. Instances are written compactly (smcgen's
default whitespace policy) in every key order up to --orders orderings, each
checked against the schema's order and with --any-order: a valid instance
counts as accepted when some order is, an invalid one is a false accept when
any order is.

    python3 scripts/maskbench.py DATA_DIR [--per-source N] [--smcgen build/smcgen]
                                 [--markdown OUT.md] [--json OUT.json] [--bench [PROG]] [--vocab V.gguf]

--per-source N takes at most N files from each source (the file-name prefix
before '---' or the trailing _NUMBER), so a sample is balanced over sources.
Prints the pass rate, false accepts (should be 0), false rejects, refusals by
cause, and compile time percentiles (measured inside smcgen: `grammar check
--json` reports compile_ms). --bench also runs bench/constraint_maskbench.c
on the same files: TTFM (compile + first mask) and TBM (one mask + one
token) percentiles on a vocabulary, as MaskBench's runner measures them,
with the machine's load average. The data is not part of this repository.
"""
import argparse
import collections
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile


def source_of(name):
    base = name[:-5] if name.endswith(".json") else name
    if "---" in base:
        return base.split("---")[0]
    return re.sub(r"_\d+$", "", base)


def orderings(v, cap):
    """Every key ordering of v (lists of compact texts), at most cap of them."""
    if isinstance(v, dict):
        keys = list(v)
        out = []
        for perm in itertools.permutations(keys):
            subs = [orderings(v[k], cap) for k in perm]
            for combo in itertools.product(*subs):
                out.append("{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + c
                                         for k, c in zip(perm, combo)) + "}")
                if len(out) >= cap:
                    return out
        return out
    if isinstance(v, list):
        subs = [orderings(e, cap) for e in v]
        out = []
        for combo in itertools.product(*subs):
            out.append("[" + ",".join(combo) + "]")
            if len(out) >= cap:
                break
        return out
    return [json.dumps(v, ensure_ascii=False, separators=(",", ":"))]


def refusal_cause(msg):
    m = re.search(r'(unsupported keyword "[^"]+"|unsupported format "[^"]+"|"oneOf"|cannot resolve \$ref|'
                  r'pattern|multipleOf|minimum/maximum|too much|too large|matches nothing|no finite)', msg)
    if m:
        return m.group(1)
    msg = re.sub(r"^smcgen: [^:]*:", "", msg.strip())      # the temporary file's name
    return re.sub(r'"[^"]*"|\d+', "…", msg.split(" at ")[0])[:70]


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100.0 * len(xs)))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--smcgen", default="build/smcgen")
    ap.add_argument("--per-source", type=int, default=0)
    ap.add_argument("--orders", type=int, default=120)
    ap.add_argument("--markdown")
    ap.add_argument("--json")
    ap.add_argument("--bench", nargs="?", const="build/bench_constraint_maskbench",
                    help="also run the timing benchmark (TTFM, TBM as MaskBench measures them) on the same "
                         "files (default program: build/bench_constraint_maskbench)")
    ap.add_argument("--vocab", help="vocabulary GGUF for --bench (default: its own, the largest in ../shared/vocab)")
    a = ap.parse_args()

    by_source = collections.defaultdict(list)
    for name in sorted(os.listdir(a.data)):
        if name.endswith(".json"):
            by_source[source_of(name)].append(name)
    files = []
    for src in sorted(by_source):
        files += by_source[src][:a.per_source] if a.per_source else by_source[src]

    stats = collections.Counter()
    causes = collections.Counter()
    compile_ms = []
    per_source = collections.defaultdict(collections.Counter)
    with tempfile.TemporaryDirectory() as tmp:
        sp, tp = os.path.join(tmp, "s.json"), os.path.join(tmp, "t.txt")
        for name in files:
            doc = json.load(open(os.path.join(a.data, name)))
            tests = doc.get("tests") or []
            src = source_of(name)
            stats["schemas"] += 1
            per_source[src]["schemas"] += 1
            if not tests:
                stats["no_tests"] += 1
            with open(sp, "w") as f:
                json.dump(doc["schema"], f)
            r = subprocess.run([a.smcgen, "grammar", "check", "--json", sp], capture_output=True, text=True)
            if r.returncode != 0:
                stats["refused"] += 1
                causes[refusal_cause(r.stderr)] += 1
                continue
            stats["compiled"] += 1
            per_source[src]["compiled"] += 1
            compile_ms.append(json.loads(r.stdout)["compile_ms"])
            texts, owner = [], []
            for i, t in enumerate(tests):
                for text in orderings(t["data"], a.orders):
                    texts.append(text)
                    owner.append(i)
            if any("\n" in t for t in texts):
                raise SystemExit("internal: compact text with a newline")
            with open(tp, "w") as f:
                f.write("\n".join(texts) + ("\n" if texts else ""))
            accepted = [False] * len(tests)
            # the schema's order, each ordering tried; then any order (--any-order, as validators accept)
            for extra in ([], ["--any-order"]):
                if not texts:
                    break
                r = subprocess.run([a.smcgen, "grammar", "accept"] + extra + ["--lines", "-f", tp, sp],
                                   capture_output=True, text=True)
                for i, v in zip(owner, r.stdout.split()):
                    accepted[i] |= v == "complete"
            ok = True
            for t, acc in zip(tests, accepted):
                stats["tests"] += 1
                if acc and not t["valid"]:
                    stats["false_accepts"] += 1
                    ok = False
                    print("FALSE ACCEPT", name, json.dumps(t["data"])[:200], file=sys.stderr)
                elif t["valid"] and not acc:
                    stats["false_rejects"] += 1
                    ok = False
                    print("false reject", name, json.dumps(t["data"])[:200], file=sys.stderr)
            if ok:
                stats["passed"] += 1
                per_source[src]["passed"] += 1

    n = stats["schemas"] or 1
    summary = {
        "schemas": stats["schemas"], "compiled": stats["compiled"], "passed": stats["passed"],
        "pass_rate": stats["passed"] / n, "false_accepts": stats["false_accepts"],
        "false_rejects": stats["false_rejects"], "tests": stats["tests"],
        "compile_ms_p50": pct(compile_ms, 50), "compile_ms_p99": pct(compile_ms, 99),
        "compile_ms_max": max(compile_ms) if compile_ms else float("nan"),
        "refusals": dict(causes.most_common()),
        "per_source": {k: dict(v) for k, v in sorted(per_source.items())},
    }
    print("schemas %d  compiled %d  passed %d (%.1f%%)  false accepts %d  false rejects %d  tests %d" % (
        stats["schemas"], stats["compiled"], stats["passed"], 100 * summary["pass_rate"], stats["false_accepts"],
        stats["false_rejects"], stats["tests"]))
    print("compile ms: p50 %.2f  p99 %.2f  max %.2f" % (summary["compile_ms_p50"], summary["compile_ms_p99"],
                                                         summary["compile_ms_max"]))
    for c, k in causes.most_common(15):
        print("  refused %4d  %s" % (k, c))
    bench_out = None
    if a.bench:
        cmd = [a.bench] + (["--vocab", a.vocab] if a.vocab else []) + [os.path.join(a.data, n) for n in files]
        load = os.getloadavg()
        r = subprocess.run(cmd, capture_output=True, text=True)
        bench_out = "load average before: %.1f %.1f %.1f (%d CPUs)\n%s" % (load + (os.cpu_count(), r.stdout))
        print(bench_out, end="")
        summary["bench"] = bench_out
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            raise SystemExit("benchmark failed")
    if a.json:
        json.dump(summary, open(a.json, "w"), indent=1)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write("| source | schemas | compiled | passed |\n|---|---|---|---|\n")
            for s, c in sorted(per_source.items()):
                f.write("| %s | %d | %d | %d |\n" % (s, c["schemas"], c["compiled"], c["passed"]))
            f.write("| **all** | %d | %d | %d (%.1f%%) |\n" % (stats["schemas"], stats["compiled"], stats["passed"],
                                                             100 * summary["pass_rate"]))
            f.write("\nFalse accepts: %d. False rejects: %d (of %d tests). Compile time inside smcgen: "
                    "p50 %.2f ms, p99 %.2f ms, max %.2f ms.\n\nRefusals by cause:\n\n" % (
                        stats["false_accepts"], stats["false_rejects"], stats["tests"], summary["compile_ms_p50"],
                        summary["compile_ms_p99"], summary["compile_ms_max"]))
            for c, k in causes.most_common(20):
                f.write("- %d × %s\n" % (k, c))
            if bench_out:
                f.write("\nTimings (bench_constraint_maskbench, microseconds):\n\n```\n%s```\n" % bench_out)
    return 1 if stats["false_accepts"] else 0


if __name__ == "__main__":
    sys.exit(main())
