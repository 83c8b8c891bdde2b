#!/usr/bin/env bash
# pip_install.sh PYTHON BUILD_DIR — installs the package offline into a fresh
# virtual environment, as the README says (Debian's setuptools, no build
# isolation, no index), taking the extension from BUILD_DIR, and uses it from
# outside the source tree: the bundled model, a grammar, a Python critic.
set -euo pipefail
py="$1"; build="$(cd "$2" && pwd)"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
if ! "$py" -c 'import setuptools, venv, ensurepip' 2>/dev/null; then
  echo "SKIP: $py lacks setuptools or venv (apt-get install python3-setuptools python3-venv)"
  exit 77
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp" "$repo/python/build" "$repo"/python/*.egg-info' EXIT
"$py" -m venv --system-site-packages "$tmp/venv"
cd "$repo"
PYTHONDONTWRITEBYTECODE=1 SMCGEN_BUILD_DIR="$build" "$tmp/venv/bin/python" -m pip install -q \
  --no-build-isolation --no-index --no-deps ./python
cd "$tmp"
if [ -n "${SMC_TEST_SANITIZED:-}" ]; then
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS="detect_leaks=0:abort_on_error=1"
fi
env -u SMCGEN_MODEL "$tmp/venv/bin/python" - <<'PY'
import math, os, sys
import smcgen
assert smcgen.__file__.startswith(sys.prefix), smcgen.__file__
m = smcgen.Model(threads=1)
assert m.path and m.path.endswith(os.path.join("smcgen", "data", "default.gguf")), m.path


class NoFives(smcgen.Critic):
    def prefix(self, text):
        return -math.inf if "5" in text else 0.0


post = smcgen.smc(m, "Phone: ", smcgen.Grammar.regex("[0-9]{3}-[0-9]{4}"), NoFives(), particles=4, max_tokens=12)
assert post and all("5" not in t for t in post), dict(post)
print("installed:", smcgen.__file__, post)
PY
