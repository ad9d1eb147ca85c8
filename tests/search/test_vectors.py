"""The in-memory vector copy answers exactly what Qdrant answers, and stays in step with it."""

from __future__ import annotations

import os

import numpy as np
import pytest

from hub.core import Hub
from hub.settings import Settings
from search.semantic import qdrant_filter

pytestmark = pytest.mark.skipif(bool(os.environ.get("HUB_QDRANT_URL")),
                                reason="the in-memory copy is for embedded mode")

QUESTIONS = ["street lighting and crime at night", "youth violence prevention programmes",
             "marches exploratoires des femmes", "policía de proximidad en barrios"]
FILTERS = [None, {"language": ["fr"]}, {"doc_type": ["document"]}, {"tags": ["policing"]}, {"year": (2010, 2030)}]


@pytest.mark.parametrize("flt", FILTERS)
def test_same_ranking_as_qdrant(documents_hub, embedder, flt) -> None:
    semantic = documents_hub.semantic
    assert semantic.mirror is not None
    for q in QUESTIONS:
        vector = embedder.embed_query(q)
        ours = semantic.search(vector, 20, flt)
        theirs = semantic.client.query_points(semantic.collection, query=vector.tolist(), limit=20,
                                              query_filter=qdrant_filter(flt), with_payload=["chunk_id"]).points
        assert [c for c, _ in ours] == [p.payload["chunk_id"] for p in theirs], (q, flt)
        assert np.allclose([s for _, s in ours], [p.score for p in theirs], atol=1e-5)


def test_copy_follows_writes_and_survives_reopening(make_hub, library_copy) -> None:
    hub = make_hub()
    hub.ingest([library_copy / "documents"])
    before = hub.semantic.mirror.count()
    victim = hub.documents()[0]
    passages = len(hub.catalog.chunks_of(victim.id))
    hub.remove(victim.id)
    assert hub.semantic.mirror.count() == before - passages
    assert hub.check().ok
    home = hub.settings.home
    hub.close()
    again = Hub(Settings.from_env({}, home=home, progress=False), embedder=hub._embedder)
    assert again.semantic.mirror.count() == again.catalog.counts()["passages"]
    assert again.semantic._client is None  # searching never opened the local Qdrant store
    assert again.search("street lighting").hits
    assert again.semantic._client is None
    assert again.check().ok
    again.close()


def test_a_home_without_the_copy_rebuilds_it_from_qdrant(make_hub, library_copy, tmp_path) -> None:
    hub = make_hub()
    hub.ingest([library_copy / "documents"])
    home = hub.settings.home
    hub.close()
    (home / "vectors.sqlite").unlink()
    for extra in home.glob("vectors.sqlite-*"):
        extra.unlink()
    again = Hub(Settings.from_env({}, home=home, progress=False), embedder=hub._embedder)
    assert again.semantic.mirror.count() == again.catalog.counts()["passages"] > 0
    assert again.check().ok
    again.close()


def test_check_reports_a_copy_out_of_step(make_hub, library_copy) -> None:
    hub = make_hub()
    hub.ingest([library_copy / "documents" / "community-policing-evidence.en.txt"])
    chunk = next(iter(hub.catalog.chunk_ids()))
    hub.semantic.mirror.delete_chunks([chunk])
    report = hub.check()
    assert not report.ok and any("in-memory vector copy lacks 1 passage" in p for p in report.problems)
    # a re-ingest with --force repairs it
    hub.ingest([library_copy / "documents" / "community-policing-evidence.en.txt"], force=True)
    assert hub.check().ok


def test_qdrant_only_mode_still_works(make_hub, library_copy) -> None:
    hub = make_hub(vector_copy=False)
    hub.ingest([library_copy / "documents"])
    assert hub.semantic.mirror is None
    assert hub.search("street lighting").hits and hub.check().ok


def _payload(i: int) -> dict:
    return {"doc_id": f"d{i // 10}", "doc_type": "evaluation" if i % 2 else "review", "language": "en",
            "tags": [], "year": 2000 + i % 20}


def test_int8_scan_finds_what_exact_search_finds(tmp_path) -> None:
    """Above INT8_FROM_ROWS an int8 matrix picks the shortlist: the answers must still be the
    exact cosine ranking, for rows packed, rows added after packing, and never deleted rows."""
    import time

    from search.vectors import VectorStore

    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((3000, 64)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    store = VectorStore(tmp_path / "vectors.sqlite")
    store.INT8_FROM_ROWS = 1000
    store.upsert([f"c{i}" for i in range(2500)], matrix[:2500], [_payload(i) for i in range(2500)])
    queries = matrix[rng.choice(3000, 20)] + 0.3 * rng.standard_normal((20, 64)).astype(np.float32)

    def exact(q: np.ndarray, alive: list[int], limit: int) -> list[str]:
        scores = matrix[alive] @ q
        return [f"c{alive[i]}" for i in np.argsort(-scores, kind="stable")[:limit]]

    store.search(queries[0], 10)
    assert store._packing is None, "a one-off command (no warm-up) should not pack"
    store.warm()  # a server: its next search packs the int8 rows in a thread
    store.search(queries[0], 10)
    deadline = time.monotonic() + 30
    while store._packed is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store._packed is not None and store._packed[0] == 2500
    alive = list(range(2500))
    for q in queries:
        assert [c for c, _ in store.search(q, 50)] == exact(q, alive, 50)

    # Rows added after packing are scored exactly beside the packed ones; deleted
    # rows are gone at once.
    store.upsert([f"c{i}" for i in range(2500, 3000)], matrix[2500:], [_payload(i) for i in range(2500, 3000)])
    store.delete_chunks([f"c{i}" for i in range(0, 3000, 3)])
    alive = [i for i in range(3000) if i % 3]
    for q in queries:
        found = store.search(q, 50)
        assert [c for c, _ in found] == exact(q, alive, 50)
        assert all(abs(s - float(matrix[int(c[1:])] @ q)) < 1e-5 for c, s in found)  # exact cosines
    store.close()
