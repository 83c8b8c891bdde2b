#!/usr/bin/env python3
"""rdkit_agreement.py — compares smcgen's SMILES critic with RDKit.

Runs QM9 and ZINC strings from ../shared/data/molecules, plus mutated copies
(one deleted, inserted, replaced or swapped character; fixed seed), through
RDKit's Chem.MolFromSmiles and through the verdict printer
(test_smiles_verdicts with SMC_SMILES_VERDICTS=1). Reports the agreement on
the complete-string verdict and how many prefixes of RDKit-valid strings the
prefix checker rejects. Exit 0 when agreement >= 99.5% and no such prefix is
rejected, 1 otherwise, 77 when RDKit or the data is missing.

usage: rdkit_agreement.py VERDICT_BINARY MOLECULES_DIR [--per-set N] [--seed S] [--show K]
"""
import argparse
import os
import random
import subprocess
import sys

try:
    from rdkit import Chem, RDLogger
except ImportError:
    print("SKIP: rdkit is not importable", file=sys.stderr)
    sys.exit(77)


def load(molecules_dir):
    qm9, zinc = [], []
    path = os.path.join(molecules_dir, "qm9_smiles_selfies.csv")
    with open(path) as f:
        header = f.readline().strip().split(",")
        col = header.index("smiles")
        for line in f:
            parts = line.rstrip("\n").split(",")
            if len(parts) > col and parts[col]:
                qm9.append(parts[col])
    with open(os.path.join(molecules_dir, "zinc_jtnn_valid.txt")) as f:
        zinc = [l.strip() for l in f if l.strip()]
    return qm9, zinc


def mutate(s, rng, alphabet):
    kind = rng.randrange(4)
    i = rng.randrange(len(s))
    if kind == 0 and len(s) > 1:
        return s[:i] + s[i + 1:]
    if kind == 1:
        return s[:i] + rng.choice(alphabet) + s[i:]
    if kind == 2:
        return s[:i] + rng.choice(alphabet) + s[i + 1:]
    if len(s) > 1:
        j = min(i + 1, len(s) - 1) if i + 1 < len(s) else i - 1
        a, b = sorted((i, j))
        return s[:a] + s[b] + s[a + 1:b] + s[a] + s[b + 1:]
    return s + rng.choice(alphabet)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("molecules_dir")
    ap.add_argument("--per-set", type=int, default=20000, help="strings drawn from each of QM9 and ZINC (0 = all)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--show", type=int, default=15)
    args = ap.parse_args()
    if not os.path.isdir(args.molecules_dir):
        print("SKIP: no molecules data", file=sys.stderr)
        sys.exit(77)
    RDLogger.DisableLog("rdApp.*")
    rng = random.Random(args.seed)
    qm9, zinc = load(args.molecules_dir)
    originals = []
    for src in (qm9, zinc):
        if args.per_set and args.per_set < len(src):
            originals += rng.sample(src, args.per_set)
        else:
            originals += src
    alphabet = sorted(set("".join(originals)))
    mutated = [mutate(s, rng, alphabet) for s in originals]
    strings = [s for s in originals + mutated if s and "\n" not in s]
    n_orig = sum(1 for s in originals if s)

    out = subprocess.run([args.binary], input="\n".join(strings) + "\n", capture_output=True, text=True,
                         env=dict(os.environ, SMC_SMILES_VERDICTS="1"), check=True).stdout.split("\n")
    ours = [tuple(int(x) for x in line.split()) for line in out if line.strip()]
    if len(ours) != len(strings):
        print(f"FAIL: {len(ours)} verdicts for {len(strings)} strings", file=sys.stderr)
        sys.exit(1)

    agree = 0
    disagree = []
    rdkit_valid = 0
    prefix_rejected = []
    for idx, (s, (c, p)) in enumerate(zip(strings, ours)):
        ok = Chem.MolFromSmiles(s) is not None
        if ok == bool(c):
            agree += 1
        else:
            disagree.append((s, ok, c))
        if ok:
            rdkit_valid += 1
            if p != -1:
                prefix_rejected.append((s, p))
    n = len(strings)
    rate = agree / n
    orig_agree = sum(1 for s, (c, p) in zip(strings[:n_orig], ours[:n_orig]) if c)
    print(f"strings: {n} ({n_orig} originals from QM9/ZINC, {n - n_orig} mutated), seed {args.seed}")
    print(f"complete-string agreement with RDKit: {agree}/{n} = {100 * rate:.3f}%")
    print(f"originals we accept: {orig_agree}/{n_orig}")
    print(f"RDKit-valid strings: {rdkit_valid}; with a rejected prefix: {len(prefix_rejected)}")
    for s, ok, c in disagree[:args.show]:
        print(f"  disagree: {s!r} rdkit={'valid' if ok else 'invalid'} ours={'valid' if c else 'invalid'}")
    for s, p in prefix_rejected[:args.show]:
        print(f"  prefix rejected: {s[:p]!r} of valid {s!r}")
    sys.exit(0 if rate >= 0.995 and not prefix_rejected else 1)


if __name__ == "__main__":
    main()
