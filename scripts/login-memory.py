#!/usr/bin/env python3
"""Peak memory of `ecpa serve` under N logins sent at once (issue: hashing under load).

    scripts/login-memory.py [ECPA_BINARY] [N]      (default target/debug/ecpa, 400)

Starts the binary on a fresh SQLite file (rate limits and the per-address connection cap
raised out of the way), sends N account logins at once from N threads (unknown accounts: each
still runs one argon2id hash of 19 MiB, as a real check would), and prints the answers, the time
and the server's peak resident memory (VmHWM)."""
import json, os, resource, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

binary = sys.argv[1] if len(sys.argv) > 1 else "target/debug/ecpa"
n = int(sys.argv[2]) if len(sys.argv) > 2 else 400
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * n + 256)), hard))
with tempfile.TemporaryDirectory() as d:
    config = os.path.join(d, "ecpa.toml")
    with open(config, "w") as f:
        f.write(f"""[server]
listen = "127.0.0.1:0"
max_connections_per_address = {2 * n}
[server.rate_limit]
login_per_minute = 1000000
login_burst = 100000
[database]
url = "sqlite:{d}/ecpa.db"
[mail]
kind = "file"
dir = "{d}/mail"
""")
    serve = subprocess.Popen([binary, "serve", "--json", "--config", config], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    url = json.loads(serve.stdout.readline())["listening"]
    codes, lock, go = {}, threading.Lock(), threading.Barrier(n)

    def login(i: int) -> None:
        body = json.dumps({"account": f"nobody{i}", "password": "Whatever#1"}).encode()
        go.wait()
        req = urllib.request.Request(url + "/api/v1/login/account", data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                code = str(r.status)
        except urllib.error.HTTPError as e:
            code = str(e.code)
        except OSError as e:
            code = type(e).__name__
        with lock:
            codes[code] = codes.get(code, 0) + 1

    threads = [threading.Thread(target=login, args=(i,)) for i in range(n)]
    start = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.time() - start
    with open(f"/proc/{serve.pid}/status") as f:
        peak = next(line.split()[1] for line in f if line.startswith("VmHWM"))
    serve.terminate()
    serve.wait()
    print(json.dumps({"binary": binary, "logins": n, "answers": codes, "seconds": round(took, 2), "peak_rss_kib": int(peak)}))
