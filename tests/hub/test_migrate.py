"""`hub migrate`: the passage index moves with its ids, vectors and payloads to a Qdrant server
(here qdrant-client's local mode, its emulation of the server API) and back, the copy is
verified, and a hub pointed at the copy answers as the embedded one did."""

from __future__ import annotations

import pytest

from hub.core import Hub
from hub.errors import HubError
from search.migration import destination
from tests.conftest import settings_for


def _ranking(hub: Hub, query: str, mode: str) -> list[str]:
    return [h.doc_id for h in hub.search(query, mode=mode, limit=8).hits]


QUESTIONS = [("street lighting at night", "hybrid"), ("éclairage des rues la nuit", "dense"),
             ("jóvenes en riesgo", "keyword"), ('"exploratory walk"', "keyword")]


def test_migrate_to_a_server_and_back(make_hub, library_copy, tmp_path, embedder) -> None:
    hub = make_hub()
    hub.ingest([library_copy / "documents"])
    before = {q: _ranking(hub, q, mode) for q, mode in QUESTIONS}
    server = str(tmp_path / "server")

    dest = destination(server, hub.settings)
    report = hub.migrate(dest, batch=50)
    assert report.ok, report.problems
    assert report.copied == report.destination == hub.catalog.counts()["passages"]
    with pytest.raises(HubError, match="already holds"):
        hub.migrate(dest)
    assert hub.migrate(dest, force=True).ok
    dest.close()
    home = hub.settings.home
    hub.close()

    # The same home served from the "server": same answers, `hub check` clean.
    with Hub(settings_for(home, qdrant_url=server), embedder=embedder) as served:
        assert {q: _ranking(served, q, mode) for q, mode in QUESTIONS} == before
        assert served.check().ok
        # ...and back into the home's embedded index, after emptying it.
        served.settings.edge_path.rename(tmp_path / "old-edge")
        into = destination("home", served.settings)
        back = served.migrate(into)
        into.close()
        assert back.ok, back.problems
    with Hub(settings_for(home), embedder=embedder) as again:
        assert {q: _ranking(again, q, mode) for q, mode in QUESTIONS} == before
        assert again.check().ok


def test_migrate_refuses_an_empty_hub(make_hub, tmp_path) -> None:
    hub = make_hub()
    dest = destination(str(tmp_path / "dest"), hub.settings)
    with pytest.raises(HubError, match="holds no passages"):
        hub.migrate(dest)
    dest.close()
