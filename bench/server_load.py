#!/usr/bin/env python3
"""server_load.py — load test of `smcgen serve` on localhost (bounded).

Sends N mixed requests (regex, JSON Schema, GBNF, SMILES critic with smc-full)
at a given concurrency to a server it starts itself (port 0), then checks:
zero failures; RSS and KV blocks back to their baseline; and prints latency
p50/p99, total particle-tokens/s, and how much the engine batches were
shared. It then does the same requests one at a time through `smcgen smc`
(a process per request, as a script would) and through a server with
--parallel 1 (no cross-request batching), to show what continuous batching
gains. Wall-clock figures on a shared machine are noisy: compare the
columns of one run, not runs with each other.

  python3 bench/server_load.py [--requests 200] [--concurrency 8] [--time-limit 600]
"""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, threading, time
import urllib.request, urllib.error

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMCGEN = os.path.join(ROOT, "build", "smcgen")

SCHEMA = {"type": "object", "properties": {"id": {"type": "integer", "minimum": 0, "maximum": 999},
                                           "ok": {"type": "boolean"}},
          "required": ["id", "ok"], "additionalProperties": False}
KINDS = [
    ("regex", {"prompt": "Phone: ", "regex": "[0-9]{3}-[0-9]{4}", "max_tokens": 12, "smc": {"particles": 8}}),
    ("json_schema", {"prompt": "Record: ", "json_schema": SCHEMA, "max_tokens": 24, "smc": {"particles": 8}}),
    ("gbnf", {"prompt": "Answer: ", "grammar": 'root ::= ("yes" | "no" | "maybe") "."', "max_tokens": 8,
              "smc": {"particles": 8}}),
    ("smiles_critic", {"prompt": "Molecule: CCO\nMolecule: c1ccccc1\nMolecule:", "max_tokens": 24,
                       "smc": {"particles": 8, "critic": "smiles"}}),
]


def body_for(i):
    kind, body = KINDS[i % len(KINDS)]
    b = json.loads(json.dumps(body))
    b["seed"] = 1 + i
    return kind, b


def start_server(extra):
    p = subprocess.Popen([SMCGEN, "serve", "--port", "0", "--queue", "1000", *extra],
                         stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            threading.Thread(target=p.stderr.read, daemon=True).start()
            return p, m.group(1)
    raise SystemExit("the server did not start")


def post(url, body, timeout=600):
    req = urllib.request.Request(url + "/v1/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def metrics(url):
    text = urllib.request.urlopen(url + "/metrics").read().decode()
    return {l.split()[0]: float(l.split()[1]) for l in text.splitlines() if l and not l.startswith("#")}


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def run_server(n, conc, extra, deadline):
    p, url = start_server(extra)
    try:
        post(url, body_for(0)[1])  # warm: caches, critic start-up
        base_rss, base_kv = rss_kib(p.pid), metrics(url)["smcgen_kv_used_bytes"]
        m0 = metrics(url)
        lat, fails, lock, nxt = [], [], threading.Lock(), [0]

        def worker():
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= n or time.time() > deadline:
                    return
                kind, b = body_for(i)
                t = time.time()
                status, doc = post(url, b)
                dt = time.time() - t
                with lock:
                    lat.append(dt)
                    if status != 200 or "smc" not in doc:
                        fails.append((kind, status, doc))
        t0 = time.time()
        ths = [threading.Thread(target=worker) for _ in range(conc)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        wall = time.time() - t0
        m1 = metrics(url)
        time.sleep(0.5)
        end_rss, end_kv = rss_kib(p.pid), metrics(url)["smcgen_kv_used_bytes"]
        toks = m1["smcgen_particle_tokens_total"] - m0["smcgen_particle_tokens_total"]
        return dict(done=len(lat), wall=wall, fails=fails, p50=statistics.median(lat),
                    p99=sorted(lat)[max(0, int(0.99 * len(lat)) - 1)], toks=toks, tps=toks / wall,
                    shared=m1["smcgen_engine_shared_batches_total"] - m0["smcgen_engine_shared_batches_total"],
                    batches=m1["smcgen_engine_batches_total"] - m0["smcgen_engine_batches_total"],
                    rss=(base_rss, end_rss), kv=(base_kv, end_kv))
    finally:
        p.terminate()
        p.wait()


def run_cli(n, deadline):
    """The same requests through `smcgen smc`, one process at a time."""
    tmp = tempfile.mkdtemp()
    sp = os.path.join(tmp, "schema.json")
    gp = os.path.join(tmp, "g.gbnf")
    json.dump(SCHEMA, open(sp, "w"))
    open(gp, "w").write(KINDS[2][1]["grammar"] + "\n")
    lat, toks, fails = [], 0, 0
    t0 = time.time()
    for i in range(n):
        if time.time() > deadline:
            break
        kind, b = body_for(i)
        args = [SMCGEN, "smc", "-q", "--json", "-p", b["prompt"].replace("\n", "\\n"),
                "--particles", str(b["smc"]["particles"]), "--max-tokens", str(b["max_tokens"]),
                "--seed", str(b["seed"])]
        if "regex" in b: args += ["--regex", b["regex"]]
        if "json_schema" in b: args += ["--json-schema", sp]
        if "grammar" in b: args += ["--grammar", gp]
        if "critic" in b["smc"]: args += ["--critic", b["smc"]["critic"]]
        t = time.time()
        r = subprocess.run(args, capture_output=True, text=True)
        lat.append(time.time() - t)
        if r.returncode:
            fails += 1
        else:
            toks += json.loads(r.stdout)["lm_evals"]
    wall = time.time() - t0
    return dict(done=len(lat), wall=wall, fails=fails, p50=statistics.median(lat),
                p99=sorted(lat)[max(0, int(0.99 * len(lat)) - 1)], toks=toks, tps=toks / wall)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--time-limit", type=float, default=600, help="seconds for each of the three runs")
    ap.add_argument("-t", "--threads", type=int, default=0)
    a = ap.parse_args()
    extra = ["-t", str(a.threads)] if a.threads else []
    ok = True
    rows = []
    for name, fn in [("server, --parallel %d" % a.concurrency,
                      lambda d: run_server(a.requests, a.concurrency, extra + ["--parallel", str(a.concurrency)], d)),
                     ("server, --parallel 1", lambda d: run_server(a.requests, a.concurrency, extra + ["--parallel", "1"], d)),
                     ("smcgen smc, one at a time", lambda d: run_cli(a.requests, d))]:
        r = fn(time.time() + a.time_limit)
        rows.append((name, r))
        nf = len(r["fails"]) if isinstance(r["fails"], list) else r["fails"]
        print(f"{name:28s} {r['done']:4d} requests in {r['wall']:7.1f} s, {nf} failed, latency p50 {r['p50']:.2f} s "
              f"p99 {r['p99']:.2f} s, {r['toks']:.0f} particle-tokens = {r['tps']:.0f}/s", flush=True)
        if "shared" in r:
            print(f"{'':28s} engine batches {r['batches']:.0f}, shared by several requests {r['shared']:.0f}; "
                  f"RSS {r['rss'][0]} -> {r['rss'][1]} KiB; KV {r['kv'][0]:.0f} -> {r['kv'][1]:.0f} bytes")
            if r["kv"][1] != r["kv"][0]:
                print("  KV memory did not return to its baseline"); ok = False
            if r["rss"][1] > r["rss"][0] * 1.5 + 20000:
                print("  RSS grew by more than half"); ok = False
        if nf:
            print("  failures:", (r["fails"][:3] if isinstance(r["fails"], list) else nf)); ok = False
    base = rows[0][1]["tps"]
    for name, r in rows[1:]:
        print(f"continuous batching vs {name}: {base / r['tps']:.2f}x particle-tokens/s" if r["tps"] else "")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
