#!/usr/bin/env bash
# test.sh — builds (if needed) and runs the whole test suite with ctest.
#   scripts/test.sh             normal build in build/
#   scripts/test.sh --sanitize  AddressSanitizer + UBSan build in build-asan/
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build; flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMC_WERROR=ON"
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan; flags="-DCMAKE_BUILD_TYPE=Debug -DSMC_SANITIZE=ON -DSMC_WERROR=ON"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export SMC_TEST_SANITIZED=1
fi
bash scripts/deps.sh
cmake -S . -B "$dir" $flags >/dev/null
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
