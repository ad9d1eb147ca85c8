"""`hub migrate`: the vectors move with their ids and payloads, and the copy is verified."""

from __future__ import annotations

import pytest
from qdrant_client import QdrantClient

from hub.errors import HubError


def test_migrate_copies_and_verifies(make_hub, library_copy, tmp_path, embedder) -> None:
    hub = make_hub()
    hub.ingest([library_copy / "documents"])
    dest = QdrantClient(path=str(tmp_path / "dest"))
    report = hub.migrate(dest, batch=50)
    assert report.ok, report.problems
    assert report.copied == report.destination == hub.catalog.counts()["passages"]
    # the destination answers like the hub's own index, payload filters included
    vector = embedder.embed_query("street lighting at night")
    theirs = dest.query_points("passages", query=vector.tolist(), limit=5, with_payload=["chunk_id"]).points
    assert [p.payload["chunk_id"] for p in theirs] == [c for c, _ in hub.semantic.search(vector, 5)]
    with pytest.raises(HubError, match="already has a collection"):
        hub.migrate(dest)
    assert hub.migrate(dest, force=True).ok
    dest.close()


def test_migrate_refuses_an_empty_hub(make_hub, tmp_path) -> None:
    dest = QdrantClient(path=str(tmp_path / "dest"))
    with pytest.raises(HubError, match="holds no vectors"):
        make_hub().migrate(dest)
    dest.close()
