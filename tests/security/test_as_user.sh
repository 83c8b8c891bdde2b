#!/usr/bin/env bash
# test_as_user.sh — the security tests again as an ordinary user (CI runs
# as root, where the sandbox maps its uid to nobody; an ordinary user's
# sandbox maps its own uid and needs unprivileged user namespaces). As root:
# creates the user smcsec if needed and runs the attack binaries (copied
# where that user can read them) and, when the checkout is readable to it,
# the end-to-end attack. As anyone else: skipped, since ctest already ran
# them as this user.
set -u
bin=$(realpath "$1")   # smcgen
dir=$(dirname "$bin")
if [ "$(id -u)" -ne 0 ]; then
    echo "skipped: not root; the security tests already ran as $(id -un)"
    exit 77
fi
user=smcsec
if ! id "$user" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$user" 2>/dev/null ||
        { echo "skipped: cannot create the user $user"; exit 77; }
fi
as_user() { setpriv --reuid="$user" --regid="$user" --init-groups --reset-env "$@"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
fail=0
for t in test_python_sandbox test_run_limits test_worker_replies test_sql_bombs test_exec_leftovers; do
    cp "$dir/$t" "$tmp/"
    chmod 755 "$tmp/$t"
    (cd "$tmp" && as_user "./$t"); rc=$?
    if [ $rc -eq 77 ]; then echo "$t: skipped as $user"
    elif [ $rc -ne 0 ]; then echo "FAIL: $t as $user (exit $rc)"; fail=1
    else echo "$t: passed as $user"; fi
done
src=$(cd "$(dirname "$0")/../.." && pwd)
if as_user test -r "$src/models/default.gguf" -a -x "$bin"; then
    (cd "$tmp" && as_user bash "$src/tests/security/test_e2e_attack.sh" "$bin"); rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then echo "FAIL: test_e2e_attack as $user (exit $rc)"; fail=1; fi
else
    echo "test_e2e_attack: not run as $user (the checkout is not readable to it)"
fi
exit $fail
