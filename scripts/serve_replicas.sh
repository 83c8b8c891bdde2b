#!/usr/bin/env bash
# serve_replicas.sh — two `smcgen serve` replicas behind nginx on localhost,
# requests sent through nginx, and which replica served how many.
#   scripts/serve_replicas.sh [--requests N] [--port P] [--keep] [-- SERVE OPTIONS...]
# --keep leaves everything running until Ctrl-C (nginx on http://127.0.0.1:P,
# default 8080). The server keeps no state between requests, so any load
# balancer works; nginx needs proxy_buffering off for streamed (SSE) answers.
set -euo pipefail
cd "$(dirname "$0")/.."
requests=8 port=8080 keep=0 extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --requests) requests=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --) shift; extra=("$@"); break ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "serve_replicas.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
bin=./build/smcgen
[ -x "$bin" ] || { echo "serve_replicas.sh: build first (bash scripts/setup.sh)" >&2; exit 1; }
nginx=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$nginx" ] || { echo "serve_replicas.sh: nginx is not installed (apt-get install nginx)" >&2; exit 1; }
dir=$(mktemp -d)
chmod 755 "$dir"
pids=()
stop() {
  [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$dir"
}
trap stop EXIT INT TERM

ports=()
for r in 1 2; do
  "$bin" serve --port 0 -t 1 "${extra[@]}" 2> "$dir/replica$r.log" &
  pids+=($!)
  for _ in $(seq 1 3000); do   # up to 300 s: a loaded machine starts slowly
    p=$(sed -n 's/^smcgen: listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$dir/replica$r.log")
    [ -n "$p" ] && break
    sleep 0.1
  done
  [ -n "$p" ] || { echo "replica $r did not start:"; cat "$dir/replica$r.log"; exit 1; }
  ports+=("$p")
  echo "replica $r: http://127.0.0.1:$p"
done

mkdir -p "$dir/tmp" && chmod 777 "$dir/tmp"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 256; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    upstream smcgen {
        least_conn;
        server 127.0.0.1:${ports[0]} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:${ports[1]} max_fails=1 fail_timeout=5s;
    }
    server {
        listen 127.0.0.1:$port;
        client_max_body_size 1m;
        location / {
            proxy_pass http://smcgen;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;             # stream SSE as it comes
            proxy_read_timeout 600s;
            proxy_next_upstream error timeout http_503;   # a busy replica: try the other
        }
    }
}
CONF
"$nginx" -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" || { cat "$dir/error.log"; exit 1; }
echo "nginx: http://127.0.0.1:$port -> replicas ${ports[*]}"

for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
body='{"prompt":"Phone: ","regex":"[0-9]{3}-[0-9]{4}","max_tokens":12,"smc":{"particles":4}}'
cpids=()
for i in $(seq 1 "$requests"); do
  curl -s -o "$dir/out$i.json" -w '%{http_code}\n' -H 'Content-Type: application/json' --data-binary "$body" \
    "http://127.0.0.1:$port/v1/completions" > "$dir/code$i" &
  cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p"; done
ok=0
for i in $(seq 1 "$requests"); do [ "$(cat "$dir/code$i")" = 200 ] && ok=$((ok + 1)); done
echo "through nginx: $ok of $requests requests answered 200; e.g. $(python3 -c "import json;print(json.load(open('$dir/out1.json'))['choices'][0]['text'])" 2>/dev/null)"
served=()
for r in 0 1; do
  n=$(curl -s "http://127.0.0.1:${ports[$r]}/metrics" | awk '$1=="smcgen_requests_total"{print $2}')
  served+=("$n")
  echo "replica $((r + 1)) served $n"
done
[ "$ok" = "$requests" ] || { echo "serve_replicas.sh: some requests failed"; exit 1; }
if [ "$keep" = 1 ]; then
  echo "running; Ctrl-C stops nginx and both replicas"
  wait "${pids[0]}"
fi
