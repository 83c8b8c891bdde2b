#!/usr/bin/env python3
"""eval_metrics.py - RDKit metrics for `smcgen eval` (molecules task).

Reads one SMILES per line on stdin; writes one JSON object per line on
stdout: {"valid": bool, "qed": float (0 when invalid), "canon": canonical
SMILES or ""}. One process scores a whole run (smcgen calls it once per
report). Needs Debian's python3-rdkit."""
import json
import sys

from rdkit import Chem, RDLogger
from rdkit.Chem import QED

RDLogger.DisableLog("rdApp.*")


def score(smiles):
    smiles = smiles.strip()
    mol = Chem.MolFromSmiles(smiles) if smiles else None
    if mol is None:
        return {"valid": False, "qed": 0.0, "canon": ""}
    try:
        q = float(QED.qed(mol))
    except Exception:  # QED can fail on exotic valences; count as valid, QED 0
        q = 0.0
    return {"valid": True, "qed": q, "canon": Chem.MolToSmiles(mol)}


def main():
    out = sys.stdout
    for line in sys.stdin:
        out.write(json.dumps(score(line.rstrip("\n"))) + "\n")


if __name__ == "__main__":
    main()
