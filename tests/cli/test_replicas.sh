#!/usr/bin/env bash
# test_replicas.sh — scripts/serve_replicas.sh: two `smcgen serve` replicas
# behind nginx answer every request sent through nginx, and both serve some.
set -u
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "SKIP: nginx is not installed"; exit 77; }
# nginx's port: a free one, asked again if something took it between the look and nginx's bind
for attempt in 1 2 3; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  out=$(bash scripts/serve_replicas.sh --requests 6 --port "$port" 2>&1); rc=$?
  grep -q "Address already in use" <<< "$out" || break
done
echo "$out"
fail=0
[ $rc -eq 0 ] || { echo "FAIL: serve_replicas.sh exited $rc"; fail=1; }
grep -q "6 of 6 requests answered 200" <<< "$out" || { echo "FAIL: not every request was answered"; fail=1; }
for r in 1 2; do
  n=$(sed -n "s/^replica $r served \([0-9]*\)/\1/p" <<< "$out")
  [ "${n:-0}" -ge 1 ] || { echo "FAIL: replica $r served no request"; fail=1; }
done
[ $fail -eq 0 ] && echo "test_replicas: all checks passed"
exit $fail
