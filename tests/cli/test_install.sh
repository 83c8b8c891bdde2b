#!/usr/bin/env bash
# test_install.sh — `cmake --install` into a temporary prefix, then a small
# program (tests/install/use_smcgen.c) built against the installed copy
# three ways: pkg-config (shared), find_package with smcgen::smcgen
# (shared) and smcgen::smcgen_static; each runs and gives the same answers
# as the build tree's smcgen. Also: the installed smcgen --version, the
# soname, and the header alone compiling as C and C++.
# Usage: bash tests/cli/test_install.sh /path/to/build/smcgen   (from the repository root)
set -u
SMCGEN=${1:?usage: test_install.sh /path/to/build/smcgen}
BUILD=$(cd "$(dirname "$SMCGEN")" && pwd)
MODEL=$PWD/models/default.gguf
if [ -n "${SMC_TEST_SANITIZED:-}" ]; then
    echo "SKIP: the install test runs in the normal build (a sanitized library needs sanitized programs)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@"; then echo "ok: $what"; else echo "FAILED: $what"; fail=1; fi
}
prefix=$tmp/prefix
cmake --install "$BUILD" --prefix "$prefix" > "$tmp/install.log" 2>&1
check "cmake --install exits 0" test $? -eq 0 || cat "$tmp/install.log"
libdir=$(dirname "$(find "$prefix" -name 'libsmcgen.a' | head -1)")
check "static library installed" test -f "$libdir/libsmcgen.a"
check "shared library with soname libsmcgen.so.0" bash -c "objdump -p '$libdir/libsmcgen.so' | grep -q 'SONAME *libsmcgen.so.0$'"
check "versioned file and links" test -f "$libdir/libsmcgen.so.0.1.0" -a -L "$libdir/libsmcgen.so.0" -a -L "$libdir/libsmcgen.so"
check "header installed" test -f "$prefix/include/smcgen.h"
check "installed smcgen --version" bash -c "'$prefix/bin/smcgen' --version | grep -q '^smcgen 0.1.0'"
check "header compiles alone as C and C++" bash -c "echo '#include <smcgen.h>' > '$tmp/h.c' && cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I'$prefix/include' '$tmp/h.c' && cp '$tmp/h.c' '$tmp/h.cpp' && { ! command -v c++ >/dev/null || c++ -Wall -Werror -fsyntax-only -I'$prefix/include' '$tmp/h.cpp'; }"

# The answers the build tree gives: chat bytes, and the tokens of CCO.
want_tokens=$("$SMCGEN" tokenize -m "$MODEL" --ids --no-bos CCO | tr ',' '\n' | grep -c .)
want=$(printf 'version 0.1.0\nchat %d bytes\nCCO: %d tokens' \
       "$(printf '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' | wc -c)" "$want_tokens")

# 1. pkg-config, shared library.
export PKG_CONFIG_PATH=$libdir/pkgconfig
flags=$(pkg-config --cflags --libs smcgen)
check "pkg-config --cflags --libs smcgen ($flags)" test $? -eq 0
cc -std=c11 -Wall -Wextra -o "$tmp/use_pc" tests/install/use_smcgen.c $flags
check "builds with pkg-config" test $? -eq 0
check "runs against the installed shared library" \
    test "$(LD_LIBRARY_PATH=$libdir "$tmp/use_pc" "$MODEL")" = "$want"
check "it really used the installed library" \
    bash -c "LD_LIBRARY_PATH='$libdir' ldd '$tmp/use_pc' | grep -q '$libdir/libsmcgen.so.0'"

# 2. find_package(smcgen): smcgen::smcgen and smcgen::smcgen_static.
cmake -S tests/install -B "$tmp/user" -DCMAKE_PREFIX_PATH="$prefix" > "$tmp/user.log" 2>&1 &&
    cmake --build "$tmp/user" >> "$tmp/user.log" 2>&1
check "builds with find_package(smcgen)" test $? -eq 0 || cat "$tmp/user.log"
check "smcgen::smcgen runs" test "$(LD_LIBRARY_PATH=$libdir "$tmp/user/use_shared" "$MODEL")" = "$want"
check "smcgen::smcgen_static runs (no libsmcgen.so needed)" \
    bash -c "! ldd '$tmp/user/use_static' | grep -q libsmcgen && test \"\$('$tmp/user/use_static' '$MODEL')\" = '$want'"
exit $fail
