"""`hub ingest` and `hub remove` beside a running `hub serve` (hub/serving.py, web/local.py): the
server holds the embedded index, so the command line hands it the work."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ENV = {**os.environ, "HF_HUB_OFFLINE": "1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(home: Path, log: Path, seed: Path | None = None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    command = [sys.executable, "-m", "hub", "--home", str(home), "serve", "--port", str(port)]
    proc = subprocess.Popen(command + (["--seed", str(seed)] if seed else []),
                            stdout=subprocess.DEVNULL, stderr=log.open("w"), env=ENV)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        try:
            httpx.get(f"{base}/api/health", timeout=2)
            return proc, base
        except httpx.TransportError:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.5)
    proc.kill()
    pytest.fail("hub serve did not start")


def _hub(home: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hub", "--home", str(home), *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=300)


def _titles(base: str, question: str) -> list[str]:
    return [h["title"] for h in httpx.get(f"{base}/api/search", params={"q": question}, timeout=30).json()]


def test_the_command_line_hands_its_writes_to_the_server_holding_the_home(tmp_path: Path) -> None:
    lib, more, home = tmp_path / "lib", tmp_path / "more", tmp_path / "home"
    lib.mkdir()
    more.mkdir()
    (lib / "committee.txt").write_text("Local safety committees\n\nThe mayor chairs the local safety committee.\n")
    (more / "buses.txt").write_text("Night buses\n\nRequest stops let women leave the night bus closer to home.\n")
    (more / "broken.pdf").write_bytes(b"%PDF-1.4 nothing after this")
    proc, base = _serve(home, tmp_path / "serve.log", seed=lib)
    note = home / "serving.json"
    try:
        assert stat.S_IMODE(note.stat().st_mode) == 0o600  # its secret lets a caller make the server read files

        ingest = _hub(home, "ingest", "more", cwd=tmp_path)
        assert ingest.returncode == 1, ingest.stderr  # one file refused, the other taken in
        assert "the hub serving this home" in ingest.stderr and "in use by another" not in ingest.stderr
        assert "rejected" in ingest.stderr and "broken.pdf" in ingest.stderr
        assert f"added     {more / 'buses.txt'}" in ingest.stdout
        assert _titles(base, "request stops on the night bus")[0] == "Night buses"

        removed = _hub(home, "remove", "more/buses.txt", cwd=tmp_path)
        assert removed.returncode == 0 and "removed" in removed.stdout, removed.stderr
        assert "Night buses" not in _titles(base, "request stops on the night bus")
        missing = _hub(home, "remove", "no-such-document", cwd=tmp_path)
        assert missing.returncode == 1 and "not in the hub" in missing.stderr

        # only with the note's secret
        order = {"paths": [str(more / "buses.txt")]}
        assert httpx.post(f"{base}/api/local/ingest", json=order).status_code == 403
        assert httpx.post(f"{base}/api/local/ingest", json=order,
                          headers={"X-Hub-Local-Token": "guess"}).status_code == 403
        assert httpx.get(f"{base}/api/health").json()["documents"] == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    # a stopped server takes its note away, and closes the hub
    assert code == 0 and not note.exists()
    assert _hub(home, "check", cwd=tmp_path).returncode == 0


def test_a_note_left_by_a_killed_server_does_not_stand_in_the_way(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "buses.txt").write_text("Night buses\n\nRequest stops let women leave the night bus closer to home.\n")
    proc, _ = _serve(home, tmp_path / "serve.log")
    assert json.loads((home / "serving.json").read_text())["pid"] == proc.pid
    proc.kill()
    time.sleep(1)
    # Not reaped yet: its process id still answers, as a killed server's can (a zombie, or the id
    # taken by another process); nothing listens at the note's address any more.
    ingest = _hub(home, "ingest", "buses.txt", cwd=tmp_path)
    proc.wait(timeout=30)
    assert ingest.returncode == 0, ingest.stderr
    assert "1 added" in ingest.stdout and "the hub serving" not in ingest.stderr
    assert not (home / "serving.json").exists()
    check = _hub(home, "check", cwd=tmp_path)
    assert check.returncode == 0 and "ok: the stores agree" in check.stdout
