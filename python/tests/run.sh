#!/usr/bin/env bash
# run.sh PYTHON — runs the smcgen package's pytest suite (ctest's python_pytest).
# Skips (77) when pytest is missing. In the sanitizer build the extension
# needs the ASan runtime loaded first, and CPython's own allocations are not
# leak-checked.
set -euo pipefail
py="${1:-python3}"
if ! "$py" -c 'import pytest' 2>/dev/null; then
  echo "SKIP: pytest is not installed for $py (apt-get install python3-pytest)"
  exit 77
fi
if [ -n "${SMC_TEST_SANITIZED:-}" ]; then
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
fi
export PYTHONDONTWRITEBYTECODE=1
cd "$(dirname "$0")"
exec "$py" -m pytest -q -p no:cacheprovider .
