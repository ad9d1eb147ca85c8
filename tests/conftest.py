"""Shared fixtures: the real model (loaded once per session), real stores in temp folders."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hub.core import Hub  # noqa: E402
from hub.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "library"
DOCUMENTS = LIBRARY / "documents"
JUDGED = ROOT / "bench" / "judged"


@pytest.fixture(scope="session")
def embedder():
    from search.embedder import Embedder

    return Embedder()


@pytest.fixture
def make_hub(tmp_path: Path, embedder) -> Callable[..., Hub]:
    """A fresh hub in its own home; settings can be overridden per test."""
    hubs: list[Hub] = []

    def factory(**overrides) -> Hub:
        home = tmp_path / f"home{len(hubs)}"
        hub = Hub(Settings.from_env({}, home=home, progress=False, **overrides), embedder=embedder)
        hubs.append(hub)
        return hub

    yield factory
    for hub in hubs:
        hub.close()


@pytest.fixture
def hub(make_hub) -> Hub:
    return make_hub()


@pytest.fixture(scope="session")
def library_home(tmp_path_factory, embedder) -> Path:
    """A home with the bundled sample library ingested once for the whole session."""
    home = tmp_path_factory.mktemp("library-home")
    with Hub(Settings.from_env({}, home=home, progress=False), embedder=embedder) as h:
        report = h.ingest([LIBRARY])
    assert report.rejected == [], [str(r) for r in report.rejected]
    return home


@pytest.fixture(scope="session")
def library_hub(library_home: Path, embedder) -> Hub:
    h = Hub(Settings.from_env({}, home=library_home, progress=False), embedder=embedder)
    yield h
    h.close()


@pytest.fixture(scope="session")
def documents_hub(tmp_path_factory, embedder) -> Hub:
    """The sample evidence documents alone: what the judged search set grades."""
    home = tmp_path_factory.mktemp("documents-home")
    h = Hub(Settings.from_env({}, home=home, progress=False), embedder=embedder)
    assert h.ingest([DOCUMENTS]).rejected == []
    yield h
    h.close()


@pytest.fixture
def library_copy(tmp_path: Path) -> Path:
    """A private copy of the sample library, for tests that change files."""
    dest = tmp_path / "library"
    shutil.copytree(LIBRARY, dest)
    return dest
