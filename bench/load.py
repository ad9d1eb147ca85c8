"""Concurrent load against `hub serve` on loopback: throughput, errors, slowest request.

    python bench/load.py [--home DIR] [--clients 8] [--seconds 30] [--max-requests 3000]

Starts the real server in a subprocess over a hub home (by default the sample library, built once
under the bench folder), then runs a bounded number of requests from concurrent clients: searches
(with and without filters), advice, practice and document pages, the JSON API and health.
Prints throughput, error count and latency percentiles; exits 1 on any error or any request over
2 seconds.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from _common import LIBRARY, ROOT, WORK, bench_hub, judged_library


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def requests_for(hub) -> list[str]:  # type: ignore[no-untyped-def]
    queries = [j["query"] for j in judged_library()]
    docs = [d.id for d in hub.documents()][:40]
    practices = [p.id for p in hub.practices()][:20]
    urls = []
    for q in queries:
        urls += [f"/api/search?q={q}", f"/?q={q}", f"/api/search/full?q={q}&language=en",
                 f"/api/search?q={q}&doc_type=practice", f"/advise?q={q}", f"/api/recommend?q={q}"]
    urls += [f"/documents/{d}" for d in docs] + [f"/practices/{p}" for p in practices]
    urls += ["/api/health", "/practices", "/forums", "/api/practices", "/login"]
    return urls


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="an existing hub home (default: the sample library)")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--max-requests", type=int, default=3000)
    args = parser.parse_args()

    if args.home:
        home = Path(args.home)
        from hub.core import Hub
        from hub.settings import Settings

        hub = Hub(Settings.from_env({}, home=home, progress=False))
    else:
        hub, _ = bench_hub("library", [LIBRARY])
        home = hub.settings.home
    urls = requests_for(hub)
    counts = hub.catalog.counts()
    hub.close()

    port = free_port()
    # The rate limits would answer most of a load test with 429: it measures the server, not them.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), "HUB_SEARCH_LIMIT": "0",
           "HUB_EXPORT_LIMIT": "0"}
    log_path = WORK / "load-server.log"
    log_file = log_path.open("w")
    server = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(home), "serve", "--port", str(port)],
                              env={**env, "HUB_LOG_FORMAT": "json"}, stdout=subprocess.DEVNULL, stderr=log_file)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            print("server did not start:", log_path.read_text()[-2000:], file=sys.stderr)
            return 1

        latencies: list[float] = []
        timed: list[tuple[float, str]] = []
        errors: list[str] = []
        lock = threading.Lock()
        budget = [args.max_requests]
        stop_at = time.time() + args.seconds

        def client(seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=base, timeout=30) as http:
                while time.time() < stop_at:
                    with lock:
                        if budget[0] <= 0:
                            return
                        budget[0] -= 1
                    url = rng.choice(urls)
                    started = time.perf_counter()
                    try:
                        r = http.get(url)
                        status = r.status_code
                    except httpx.HTTPError as exc:
                        status = f"{type(exc).__name__}"
                    took = time.perf_counter() - started
                    with lock:
                        latencies.append(took)
                        timed.append((took, url))
                        if status != 200:
                            errors.append(f"{status} {url}")

        started = time.perf_counter()
        threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
        log_file.close()

    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000  # noqa: E731
    slow = sum(1 for t in latencies if t > 2.0)
    print(f"hub: {counts['documents']} documents, {counts['passages']} passages; {args.clients} clients, "
          f"{len(urls)} distinct URLs (search, filtered search, advice, pages, API, health)")
    print(f"requests {len(latencies)} in {elapsed:.1f}s: {len(latencies) / elapsed:.1f} req/s; "
          f"errors {len(errors)}; over 2 s: {slow}")
    print(f"latency p50 {pick(50):.0f} ms, p95 {pick(95):.0f} ms, p99 {pick(99):.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    for took, url in sorted(timed, reverse=True)[:5]:
        print(f"slowest: {took * 1000:.0f} ms {url}")
    for e in errors[:10]:
        print("error:", e)
    return 1 if errors or slow else 0


if __name__ == "__main__":
    sys.exit(main())
