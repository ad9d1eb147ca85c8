"""`hub prepare` (hub/prepare.py): the model cache made at install, so that a server's first start
makes no copy of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hub.core import Hub
from tests.conftest import DOCUMENTS, settings_for


def _prepare(cache: Path, home: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "HUB_MODEL_CACHE": str(cache), "HUB_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "hub", "prepare"], env=env, capture_output=True,
                          text=True, timeout=600)


def _copies(cache: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}


def test_a_server_started_after_hub_prepare_makes_no_model_file(tmp_path: Path, embedder) -> None:
    home = tmp_path / "home"
    with Hub(settings_for(home), embedder=embedder) as hub:  # a library ingested with the session's models
        assert not hub.ingest([DOCUMENTS / "situational-prevention-public-space.en.pdf"]).rejected

    cache = tmp_path / "model-cache"
    first = _prepare(cache, tmp_path / "no-home")
    assert first.returncode == 0, first.stderr
    assert "files made" in first.stdout, first.stdout
    made = _copies(cache)
    assert sum(name.endswith(".onnx") for name in made) == 2, made  # both encoders' question graphs
    assert not (tmp_path / "no-home").exists(), "preparing needs no home and makes none"

    again = _prepare(cache, tmp_path / "no-home")
    assert again.returncode == 0 and "already prepared" in again.stdout, again.stdout + again.stderr
    assert _copies(cache) == made

    # A server's start on the home, with the prepared cache and models of its own (as `hub serve`
    # loads them): every copy read, none written.
    with Hub(settings_for(home, model_cache=cache)) as hub:
        hub.warm_up(requests=True)
        assert hub.search("street lighting", limit=1).hits
    assert _copies(cache) == made



def test_a_model_cache_that_cannot_be_written_is_named_in_one_line(tmp_path: Path) -> None:
    # /proc takes no new folder, even from root (the tests may run as root, whom permissions do not stop)
    done = _prepare(Path("/proc/urban-safety-hub-model-cache"), tmp_path / "no-home")
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot write the model cache /proc/urban-safety-hub-model-cache")
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
