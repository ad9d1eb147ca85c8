"""Killing an ingest at any moment loses nothing and duplicates nothing: a second run repairs it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from hub.core import Hub
from hub.settings import Settings


def _documents(catalog: Path) -> int:
    if not catalog.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=1) as db:
            return db.execute("SELECT count(*) FROM documents").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_sigkill_during_ingest_then_rerun_is_consistent(tmp_path: Path, embedder) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(40):
        (lib / f"note-{i:02d}.txt").write_text(
            f"Field note {i}\n\n" + f"Residents of block {i} walked the route at night and noted dark corners. " * 12
            + "\n\n" + f"The city replaced lamps on street {i} and trimmed the hedges near the stop. " * 12)
    home = tmp_path / "home"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HUB_INGEST_GROUP_PASSAGES": "4"}
    proc = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(home), "ingest", str(lib)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.time() + 180
    while _documents(home / "catalog.sqlite") < 3 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, "ingest finished before it could be killed; make the library bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _documents(home / "catalog.sqlite")
    assert 0 < killed_at < 40

    with Hub(Settings.from_env({}, home=home, progress=False), embedder=embedder) as hub:
        report = hub.ingest([lib])
        assert report.exit_code == 0
        assert len(report.unchanged) >= killed_at
        check = hub.check()
        assert check.ok, check.problems
        assert check.documents == 40
        assert check.semantic == check.keyword == check.passages


def test_a_run_killed_before_its_originals_were_renamed_is_mended_by_the_next(hub, tmp_path: Path) -> None:
    """The catalog commits a group, then each kept original goes from ``.part`` to its name: a
    kill in between left a catalogued document without its original, and the next run found it
    unchanged and left it so (`hub check`: "original file ... is missing")."""
    from ingest.pipeline import original_path

    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(2):
        (lib / f"note-{i}.txt").write_text(f"Field note {i}\n\nResidents walked block {i} at night.\n")
    assert hub.ingest([lib]).exit_code == 0
    doc = hub.catalog.document_by_path(str((lib / "note-1.txt").resolve()))
    final = original_path(hub.settings, doc)
    os.replace(final, final.with_name(final.name + ".part"))  # as the kill left it
    assert not hub.check().ok
    report = hub.ingest([lib])
    assert len(report.unchanged) == 2 and not report.added
    assert hub.check().ok, hub.check().problems
    assert final.read_bytes() == (lib / "note-1.txt").read_bytes()
    assert not final.with_name(final.name + ".part").exists()
