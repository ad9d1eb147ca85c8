"""Snapshots of the in-memory stores: a reopened hub answers exactly as before, from the snapshot
when it is current and from the tables when it is not (a write it lacks, damage, a new table)."""

from __future__ import annotations

import os

import pytest

from hub.core import Hub
from hub.settings import Settings
from search.terms import TermStore
from search.vectors import VectorStore

pytestmark = pytest.mark.skipif(bool(os.environ.get("HUB_QDRANT_URL")),
                                reason="the in-memory copies are for embedded mode")

QUESTIONS = ["street lighting and crime at night", "youth violence prevention", "marches exploratoires",
             "policía de proximidad"]
FILTERS = [None, {"language": ["fr"]}, {"tags": ["policing"]}, {"year": (2010, 2030)}]


def _answers(hub: Hub) -> list:
    out = []
    for q in QUESTIONS:
        for flt in FILTERS:
            results = hub.search(q, limit=10, filters=flt)
            out.append([(h.chunk_id, round(h.score, 5), [p.snippet for p in h.passages]) for h in results.hits])
    return out


def _reopen(hub: Hub) -> Hub:
    home = hub.settings.home
    hub.close()
    return Hub(Settings.from_env({}, home=home, progress=False), embedder=hub._embedder)


def test_a_reopened_hub_reads_its_snapshots_and_answers_the_same(make_hub, library_copy) -> None:
    hub = make_hub()
    hub.ingest([library_copy / "documents"])
    before = _answers(hub)
    again = _reopen(hub)
    for store in (again.semantic.mirror, again.keyword.terms):
        folders = list(store.snapshot_path.parent.glob(store.snapshot_path.name + "-*"))
        assert [f.name for f in folders] == [f"{store.snapshot_path.name}-{store.generation()}"]
        store._load()
        assert not store._dirty  # loaded from the snapshot, not rebuilt from the table
    assert _answers(again) == before
    assert again.check().ok
    again.close()


def test_a_write_the_snapshot_lacks_is_not_lost(make_hub, library_copy) -> None:
    """A process killed after writing the tables but before snapshotting: the next start sees
    the snapshot is older than the tables and rebuilds from them."""
    hub = make_hub()
    hub.ingest([library_copy / "documents"])
    home = hub.settings.home
    victim = hub.documents()[0]
    gone = set(c.id for c in hub.catalog.chunks_of(victim.id))
    hub.close()
    # what `hub.remove` does to these stores, minus the snapshot a clean exit would write
    for store in (VectorStore(home / "vectors.sqlite"), TermStore(home / "terms.sqlite")):
        store._load()
        store.delete_documents([victim.id])
        store._db.close()
    again = Hub(Settings.from_env({}, home=home, progress=False), embedder=hub._embedder)
    assert not gone & again.semantic.mirror.chunk_ids()
    assert not gone & again.keyword.terms.chunk_ids()
    hits = again.search(victim.title, limit=50, mode="dense").hits + again.search(victim.title, limit=50,
                                                                                   mode="keyword").hits
    assert not {p.chunk_id for h in hits for p in h.passages} & gone
    again.close()


def test_a_damaged_or_foreign_snapshot_is_ignored(make_hub, library_copy) -> None:
    hub = make_hub()
    hub.ingest([library_copy / "documents"])
    before = _answers(hub)
    home = hub.settings.home
    hub.close()
    vectors = next(home.glob("vectors.snapshot-*"))
    (vectors / "matrix.npy").write_bytes(b"not an array")
    terms = next(home.glob("terms.snapshot-*"))
    (terms / "meta.json").write_text("{")
    again = Hub(Settings.from_env({}, home=home, progress=False), embedder=hub._embedder)
    assert _answers(again) == before
    again.close()
    # a table made afresh starts its generations again: its snapshots must not be mistaken
    # for the old table's
    third = Hub(Settings.from_env({}, home=home, progress=False), embedder=hub._embedder)
    old = third.keyword.terms.generation()
    third.close()
    (home / "terms.sqlite").unlink()
    for extra in home.glob("terms.sqlite-*"):
        extra.unlink()
    fresh = TermStore(home / "terms.sqlite")
    assert fresh.generation() != old
    assert fresh.count() == 0
    fresh.close()
