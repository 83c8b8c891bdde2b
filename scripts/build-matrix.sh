#!/usr/bin/env bash
# build-matrix.sh — builds (no tests) every build type with gcc and clang,
# warnings as errors, so a user's `cmake -DCMAKE_BUILD_TYPE=Release` (or
# Debug, or clang) builds clean. scripts/test.sh already covers gcc
# RelWithDebInfo (and Debug under the sanitizers), so it is skipped here.
#   scripts/build-matrix.sh [COMPILER:TYPE ...]   (default: all the others)
set -euo pipefail
cd "$(dirname "$0")/.."
combos=("$@")
[ ${#combos[@]} -gt 0 ] || combos=(gcc:Debug gcc:Release clang:Debug clang:Release clang:RelWithDebInfo)
for combo in "${combos[@]}"; do
    cc=${combo%%:*} type=${combo#*:}
    dir=build-matrix/$cc-$type
    echo "== $cc $type ($dir)"
    CC=$cc cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" -DSMC_WERROR=ON >/dev/null
    cmake --build "$dir" -j"$(nproc)" >"$dir.log" 2>&1 || { tail -40 "$dir.log"; echo "build-matrix: $cc $type failed"; exit 1; }
done
echo "build-matrix: ${#combos[@]} builds clean"
