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
        check = served.check()
        assert check.ok and check.keyword is None  # a served home keeps no Whoosh
        assert set(served.health()["stores"]) == {"catalog", "qdrant"} and served.health()["consistent"]
        # Served there, the library changes: a document comes, another goes. Whoosh, which the
        # home does not keep meanwhile, is not written.
        whoosh_files = sorted(p.name for p in served.settings.whoosh_path.iterdir())
        (tmp_path / "new").mkdir()
        (tmp_path / "new" / "kiosks.txt").write_text(
            "Staffed kiosks in transit stations\n\nA staffed kiosk at the station entrance gave "
            "riders somewhere to report harassment at night.", encoding="utf-8")
        assert served.ingest([tmp_path / "new"]).added
        gone = next(d for d in served.catalog.documents() if d.id != "kiosks")
        served.remove(gone.source)
        assert served.check().ok
        assert sorted(p.name for p in served.settings.whoosh_path.iterdir()) == whoosh_files
        # ...and back into the home's embedded index, after emptying it.
        served.settings.edge_path.rename(tmp_path / "old-edge")
        into = destination("home", served.settings)
        back = served.migrate(into)
        into.close()
        assert back.ok, back.problems
    with Hub(settings_for(home), embedder=embedder) as again:
        check = again.check()
        assert check.ok, check.problems  # Whoosh was written anew from the catalog
        assert check.keyword == check.passages
        # A phrase, which Whoosh answers in embedded mode, finds the document added meanwhile.
        assert [h.source for h in again.search('"staffed kiosk"', mode="keyword").hits] == [
            str(tmp_path / "new" / "kiosks.txt")]
        assert gone.id not in {h.doc_id for h in again.search(gone.title, limit=50).hits}


def test_migrate_refuses_an_empty_hub(make_hub, tmp_path) -> None:
    hub = make_hub()
    dest = destination(str(tmp_path / "dest"), hub.settings)
    with pytest.raises(HubError, match="holds no passages"):
        hub.migrate(dest)
    dest.close()
