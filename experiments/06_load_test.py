"""06: a loopback load test of ``animefeat serve`` (waitress), good and bad images mixed.

Starts the server on 127.0.0.1 (a free port) as a subprocess, runs N concurrent clients
for a fixed time (bounded in time and request count; loopback only), and reports
requests/s, p50/p95/p99 latency, answers by status, dropped connections, and the
server's memory sampled over the run (peak and first/last quarter, to show it is flat).

    python experiments/06_load_test.py [--clients 8] [--seconds 30]
"""

import argparse
import base64
import http.client
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np
from _common import RESULTS, write_json

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from badinputs import corpus
from synth import anime, cartoon, encode

HOST = "127.0.0.1"  # loopback only, by design


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def multipart(data, name="image.png"):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def payloads():
    """(kind, body, content type): good drawings in both transports, and the bad corpus."""
    out = []
    for i in range(6):
        img = (anime if i % 2 else cartoon)(seed=500 + i, size=480)
        png = encode(img)
        out.append(("good-multipart", *multipart(png)))
        b64 = json.dumps({"image": "data:image/png;base64," + base64.b64encode(png).decode()})
        out.append(("good-json", b64.encode(), "application/json"))
        jpg = io.BytesIO()
        from PIL import Image

        Image.fromarray(img).resize((1600, 1600)).save(jpg, "JPEG", quality=90)
        out.append(("good-large-jpeg", *multipart(jpg.getvalue(), "big.jpg")))
    for name, payload, outcome in corpus():
        if outcome != "error":
            continue
        if isinstance(payload, str):
            out.append((f"bad-{name}", json.dumps({"image": payload}).encode(),
                        "application/json"))
        else:
            out.append((f"bad-{name}", *multipart(payload)))
    return out


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--seconds", type=float, default=30.0)
    p.add_argument("--max-requests", type=int, default=20000)
    p.add_argument("--threads", type=int, default=4, help="waitress threads")
    p.add_argument("--server-timeout", type=int, default=30,
                   help="animefeat serve --timeout (waitress channel_timeout)")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args()
    started = time.time()
    port = free_port()
    # The server's log goes to a file: an unread pipe would fill up (waitress logs queue
    # depth under load) and block the server mid-test.
    log = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [sys.executable, "-m", "animefeat.cli", "serve", "--host", HOST, "--port", str(port),
         "--threads", str(args.threads), "--timeout", str(args.server_timeout)],
        stdout=subprocess.DEVNULL, stderr=log,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        wait_ready(port, server, log)
        result = run(port, server, payloads(), args)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    write_json(args.out, "06_load_test", result, started)


def wait_ready(port, server, log, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise SystemExit(f"server exited: {log.read().decode()[-2000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("server did not become ready")


def run(port, server, bodies, args):
    lock = threading.Lock()
    records = []  # (kind, status or "dropped", seconds)
    stop_at = time.time() + args.seconds
    counter = iter(range(args.max_requests))
    memory = []
    errors = []

    def client(k):
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        i = k
        while time.time() < stop_at:
            with lock:
                if next(counter, None) is None:
                    return
            kind, body, ctype = bodies[i % len(bodies)]
            i += args.clients
            t = time.perf_counter()
            try:
                conn.request("POST", "/api/classify", body=body,
                             headers={"Content-Type": ctype})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=30)
            except (OSError, http.client.HTTPException) as exc:
                status = "dropped"
                errors.append(f"{kind}: {type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
            with lock:
                records.append((kind, status, time.perf_counter() - t))

    def sampler():
        while time.time() < stop_at:
            memory.append((time.time(), rss_kib(server.pid)))
            time.sleep(0.5)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    threads.append(threading.Thread(target=sampler))
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.time() - t0
    lat = np.array([r[2] for r in records]) * 1000
    by_status = {}
    for _, status, _ in records:
        key = str(status)
        by_status[key] = by_status.get(key, 0) + 1
    good = np.array([r[2] for r in records if r[0].startswith("good")]) * 1000
    rss = np.array([m[1] for m in memory]) / 1024
    q = max(1, len(rss) // 4)
    result = {
        "clients": args.clients, "waitress_threads": args.threads, "seconds": round(elapsed, 1),
        "requests": len(records), "requests_per_second": round(len(records) / elapsed, 1),
        "latency_ms": {"p50": float(np.percentile(lat, 50)), "p95": float(np.percentile(lat, 95)),
                       "p99": float(np.percentile(lat, 99))},
        "good_image_latency_ms": {"p50": float(np.percentile(good, 50)),
                                  "p95": float(np.percentile(good, 95))},
        "by_status": by_status,
        "server_5xx": sum(v for k, v in by_status.items() if k.startswith("5")),
        "dropped_connections": by_status.get("dropped", 0),
        "dropped_by_kind": {k: sum(1 for kind, st, _ in records if kind == k and st == "dropped")
                            for k in sorted({r[0] for r in records if r[1] == "dropped"})},
        "wrong_answers": sum(1 for kind, status, _ in records
                             if (kind.startswith("good") and status != 200)
                             or (kind.startswith("bad") and not (isinstance(status, int)
                                                                 and 400 <= status < 500))),
        "first_errors": errors[:5],
        "server_rss_mib": {"peak": float(rss.max()), "first_quarter_mean": float(rss[:q].mean()),
                           "last_quarter_mean": float(rss[-q:].mean())},
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
