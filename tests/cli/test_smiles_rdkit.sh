#!/usr/bin/env bash
# test_smiles_rdkit.sh — the SMILES critic agrees with RDKit on QM9/ZINC strings
# and mutated copies (>= 99.5% on complete strings, no prefix of an RDKit-valid
# string rejected). $1 is the smcgen binary; the verdict printer
# test_smiles_verdicts is looked up beside it. Skips (77) without RDKit or data.
set -u
bin_dir=$(dirname "${1:-./build/smcgen}")
verdicts="$bin_dir/test_smiles_verdicts"
if [ ! -x "$verdicts" ]; then
    echo "SKIP: $verdicts is not built"; exit 77
fi
shared="${SMCGEN_SHARED:-$(pwd)/../shared}"
if [ ! -d "$shared/data/molecules" ]; then
    echo "SKIP: $shared/data/molecules is absent"; exit 77
fi
py=""
for cand in python3 /usr/bin/python3; do
    if command -v "$cand" >/dev/null 2>&1 && "$cand" -c "import rdkit" >/dev/null 2>&1; then
        py="$cand"; break
    fi
done
if [ -z "$py" ]; then
    echo "SKIP: no python3 can import rdkit (apt-get install python3-rdkit)"; exit 77
fi
"$py" tests/potentials/rdkit_agreement.py "$verdicts" "$shared/data/molecules" --per-set 20000
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    echo "FAIL: SMILES critic disagrees with RDKit beyond the target"
fi
exit $rc
