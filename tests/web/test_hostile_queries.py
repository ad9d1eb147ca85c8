"""Hostile queries against a real `hub serve`: each answers within 2 s with a clean status, none
keeps a worker busy after it, and the server stops on SIGTERM within a few seconds."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from search.spelling import MAX_WORD


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("hostile-queries")
    lib = tmp / "lib"
    lib.mkdir()
    (lib / "lighting.txt").write_text("Street lighting and night safety\n\nBetter street lighting on the "
                                      "walk from the bus stop made women feel safer at night.\n")
    (lib / "youth.txt").write_text("Youth outreach\n\nOutreach workers met young people in the parks "
                                   "every evening and violence fell.\n")
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    log = (tmp / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(tmp / "home"), "serve", "--port", str(port),
                             "--seed", str(lib)], stdout=subprocess.DEVNULL, stderr=log, env=env)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            httpx.get(f"{base}/api/health", timeout=2)
            break
        except httpx.TransportError:
            assert proc.poll() is None, (tmp / "serve.log").read_text()
            time.sleep(0.5)
    else:
        pytest.fail("hub serve did not start")
    yield base, proc
    if proc.poll() is None:
        proc.kill()
    log.close()


def _hostile() -> dict[str, str]:
    rnd = random.Random(14)
    letters = lambda n: "".join(rnd.choice("abcdefghij") for _ in range(n))  # noqa: E731
    return {
        # "did you mean" on one long unknown word cost the cube of its length: 35 s at 3,200
        "a 1,999-letter word": letters(1999),
        "a 20,000-letter word": letters(20000),
        "a paragraph of typos": " ".join(rnd.choice(["lihgting", "womne", "safty", "polcie", "yuoth"]) + letters(2)
                                         for _ in range(180)),
        "many phrases": " ".join(f'"bus stop{i} night"' for i in range(40)),
        "many exclusions": " ".join(f"-w{i}" for i in range(200)) + " lighting",
        "many filters": " ".join(f"tag:t{i}" for i in range(200)) + " lighting",
        "nested quotes and colons": '"' * 500 + ":" * 500 + "title:" * 200,
    }


@pytest.mark.parametrize("path", ["/api/search", "/api/recommend", "/"])
def test_no_query_costs_more_than_a_normal_one(served, path: str) -> None:
    base, _ = served
    for name, q in _hostile().items():
        started = time.perf_counter()
        r = httpx.get(f"{base}{path}", params={"q": q}, timeout=30)
        took = time.perf_counter() - started
        assert took < 2, f"{name}: {took:.1f}s"
        assert r.status_code in (200, 400), f"{name}: {r.status_code}"
        if r.status_code == 400 and path.startswith("/api"):
            assert "limit" in r.text, r.text


def test_a_long_word_gets_no_slow_suggestion(served) -> None:
    base, _ = served
    word = "lightingg" * 5
    assert len(word) > MAX_WORD
    r = httpx.get(f"{base}/api/search/full", params={"q": word}, timeout=30)
    assert r.status_code == 200 and r.json()["suggestion"] is None
    # a normal typo still gets its suggestion
    r = httpx.get(f"{base}/api/search/full", params={"q": "ligthing"}, timeout=30)
    assert r.json()["suggestion"] == "lighting"


def test_forty_hostile_requests_at_once_leave_the_server_answering(served) -> None:
    base, _ = served
    queries = list(_hostile().values()) * 6
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda q: httpx.get(f"{base}/api/search", params={"q": q}, timeout=60).status_code,
                                 queries[:40]))
    assert set(statuses) <= {200, 400}
    started = time.perf_counter()
    assert httpx.get(f"{base}/api/search", params={"q": "street lighting"}, timeout=10).status_code == 200
    assert time.perf_counter() - started < 2


def test_the_server_stops_on_sigterm_within_seconds(served) -> None:
    base, proc = served
    # a client holding a keep-alive connection and requests in flight do not keep it up
    client = httpx.Client(timeout=10)
    client.get(f"{base}/api/health")
    with ThreadPoolExecutor(4) as pool:
        for _ in range(8):
            pool.submit(lambda: httpx.get(f"{base}/api/search", params={"q": "night safety"}, timeout=10))
        time.sleep(0.2)
        started = time.perf_counter()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
    assert time.perf_counter() - started < 6
    # uvicorn raises the signal again once it has shut down; the hub then closes and exits cleanly
    assert proc.returncode == 0
    client.close()
