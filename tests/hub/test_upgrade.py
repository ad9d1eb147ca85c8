"""A home made by an earlier hub (vectors in qdrant-client's local store, with copies in
vectors.sqlite, terms.sqlite and their snapshots) is refused with one line naming the command
that upgrades it; `hub upgrade` rebuilds the passage index from the catalog and the embedding
cache without re-embedding, and the hub then answers as before."""

from __future__ import annotations

import shutil
from pathlib import Path

from hub.core import Hub
from tests.conftest import LIBRARY, settings_for
from tests.hub.test_cli import hub_cli


def _earlier_home(home: Path) -> None:
    """What an earlier hub left: its files, and no Qdrant Edge shard."""
    shutil.rmtree(home / "edge")
    (home / "qdrant" / "collection" / "passages").mkdir(parents=True)
    (home / "qdrant" / "collection" / "passages" / "storage.sqlite").write_bytes(b"")
    (home / "vectors.sqlite").write_bytes(b"")
    (home / "terms.sqlite").write_bytes(b"")
    (home / "terms.snapshot-0a1b2c3d4e5f-7").mkdir()


def test_an_earlier_home_is_refused_then_upgraded_without_re_embedding(tmp_path: Path, embedder) -> None:
    home = tmp_path / "home"
    with Hub(settings_for(home), embedder=embedder) as hub:
        hub.ingest([LIBRARY / "documents"])
        before = [h.doc_id for h in hub.search("street lighting and crime at night", limit=8).hits]
        passages = hub.catalog.counts()["passages"]
    _earlier_home(home)

    refused = hub_cli(home, "search", "street lighting")
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert f"run `hub --home {home} upgrade`" in refused.stderr, refused.stderr

    done = hub_cli(home, "upgrade")
    assert done.returncode == 0, done.stderr
    assert f"{passages} passages" in done.stdout and ", 0 embedded," in done.stdout, done.stdout
    assert "qdrant, vectors.sqlite, terms.sqlite" in done.stdout
    assert sorted(p.name for p in home.iterdir() if p.name.startswith(("qdrant", "vectors", "terms"))) == []

    with Hub(settings_for(home), embedder=embedder) as hub:
        assert hub.check().ok
        assert [h.doc_id for h in hub.search("street lighting and crime at night", limit=8).hits] == before


def _float32_shard(home: Path) -> None:
    """The shard as the hub wrote it before half precision: the same points, float32 vectors and
    disk-backed payload (qdrant_edge's defaults)."""
    import qdrant_edge as e

    from search.store import KEYWORD, EdgeDriver, PassageStore

    store = PassageStore(settings_for(home))
    points = [p for batch in store.points() for p in batch]
    dims = dict(store.dims)
    store.close()
    shutil.rmtree(home / "edge")
    e.EdgeShard.create(str(home / "edge"), e.EdgeConfig(
        vectors={n: e.EdgeVectorParams(size=d, distance=e.Distance.Cosine) for n, d in dims.items()},
        sparse_vectors={KEYWORD: e.EdgeSparseVectorParams(modifier=e.Modifier.Idf)})).close()
    driver = EdgeDriver(home / "edge")  # the hub's own writer, into the shard of the earlier layout
    driver.upsert(points)
    driver.flush()
    driver.close()


def test_a_shard_of_the_earlier_float32_layout_answers_and_upgrades_to_half_the_size(tmp_path: Path, embedder) -> None:
    from search.upgrade import outdated_shard

    home = tmp_path / "home"
    with Hub(settings_for(home), embedder=embedder) as hub:
        hub.ingest([LIBRARY / "documents"])
        before = [h.doc_id for h in hub.search("street lighting and crime at night", limit=8).hits]
    _float32_shard(home)
    assert outdated_shard(settings_for(home))
    with Hub(settings_for(home), embedder=embedder) as hub:  # opens and answers as it is
        assert [h.doc_id for h in hub.search("street lighting and crime at night", limit=8).hits] == before
    checked = hub_cli(home, "check")  # and says how to make it smaller
    assert checked.returncode == 0 and "note: the passage index has an earlier layout" in checked.stdout, checked.stdout
    assert "`hub upgrade`" in checked.stdout

    done = hub_cli(home, "upgrade")
    assert done.returncode == 0, done.stderr
    assert not outdated_shard(settings_for(home))
    assert "note:" not in hub_cli(home, "check").stdout
    with Hub(settings_for(home), embedder=embedder) as hub:
        assert hub.check().ok
        assert [h.doc_id for h in hub.search("street lighting and crime at night", limit=8).hits] == before


def home_of_the_first_analysis(tmp_path: Path, embedder, monkeypatch) -> Path:  # type: ignore[no-untyped-def]
    """A home whose keyword terms were made by the first analysis, which kept "mujeres" as
    "mujer" (today it is "muj", like "mujer"), as the catalog records."""
    from search import analysis, sparse

    def forget() -> None:
        for cached in (analysis.analyzer, analysis._word_terms, analysis.query_terms, sparse._query_keys):
            cached.cache_clear()

    home, text = tmp_path / "home", tmp_path / "paradas.md"
    text.write_text("---\ntitle: Paradas nocturnas\nlanguage: es\n---\nLas mujeres que esperan el autobús de "
                    "noche piden paradas a demanda, más cerca de su casa, y mejor iluminación en los "
                    "trayectos que recorren a pie.\n")
    monkeypatch.setattr(analysis, "_SINGULAR", {lang: str for lang in ("en", "fr", "es")})
    forget()
    with Hub(settings_for(home), embedder=embedder) as hub:
        hub.ingest([text])
        hub.catalog.set_meta("analysis", "1")
    monkeypatch.undo()
    forget()
    return home


def test_keyword_terms_of_an_earlier_analysis_are_noted_and_made_again(tmp_path: Path, embedder, monkeypatch) -> None:
    """A home whose terms were made by the first analysis misses today's keyword questions on
    those words; `hub check` notes it, and `hub upgrade` makes the terms again (Whoosh's too):
    then they match."""
    home = home_of_the_first_analysis(tmp_path, embedder, monkeypatch)
    with Hub(settings_for(home), embedder=embedder) as hub:
        assert hub.search("mujeres", mode="keyword").hits == []
        assert hub.search('"las mujeres que esperan"', mode="keyword").hits == []
    checked = hub_cli(home, "check")
    assert checked.returncode == 0 and "note: the keyword terms were made by an earlier text analysis" in checked.stdout
    assert "`hub upgrade`" in checked.stdout

    for cache in home.glob("embeddings.sqlite*"):  # the vectors stay as they are: none is needed
        cache.unlink()
    done = hub_cli(home, "upgrade")
    assert done.returncode == 0, done.stderr
    assert ", 0 embedded, their vectors kept as they were" in done.stdout, done.stdout
    assert "note:" not in hub_cli(home, "check").stdout
    with Hub(settings_for(home), embedder=embedder) as hub:
        assert hub.check().ok
        for question in ("mujeres", "mujer", '"las mujeres que esperan"'):
            assert [h.title for h in hub.search(question, mode="keyword").hits] == ["Paradas nocturnas"], question


def _payload_indexes_in_heap(home: Path) -> None:
    """The shard as the hub wrote it before its payload indexes were mapped: the same points,
    indexes that every opening loads into memory (qdrant_edge's default)."""
    import qdrant_edge as e

    shard = e.EdgeShard.load(str(home / "edge"))
    for name in ("doc_id", "doc_type", "language", "tags"):
        shard.update(e.UpdateOperation.delete_field_index(name))
        shard.update(e.UpdateOperation.create_field_index(name, e.KeywordIndexParams()))
    shard.update(e.UpdateOperation.delete_field_index("year"))
    shard.update(e.UpdateOperation.create_field_index("year", e.IntegerIndexParams(lookup=True, range=True)))
    shard.optimize()
    shard.flush()
    shard.close()


def test_payload_indexes_held_in_memory_answer_and_upgrade_to_mapped_ones_in_place(tmp_path: Path, embedder) -> None:
    from search.upgrade import payload_indexes_in_heap

    home = tmp_path / "home"

    def answers(hub: Hub) -> list[list[str]]:
        # filters on each indexed field, and none
        return [[h.doc_id for h in hub.search(q, limit=8, filters=f).hits] for q, f in [
            ("street lighting and crime at night", {}), ("sécurité des femmes", {"language": "fr"}),
            ("evaluation", {"doc_type": ["guide"]}), ("youth violence", {"year": (2000, 2030)}),
            ("homicidios", {"tags": ["violencia"]})]]

    with Hub(settings_for(home), embedder=embedder) as hub:
        hub.ingest([LIBRARY / "documents"])
        before = answers(hub)
        passages = hub.catalog.counts()["passages"]
    assert all(before) and not payload_indexes_in_heap(settings_for(home))  # a new shard maps them
    _payload_indexes_in_heap(home)
    assert payload_indexes_in_heap(settings_for(home))
    with Hub(settings_for(home), embedder=embedder) as hub:  # opens and answers as it is
        assert answers(hub) == before
    checked = hub_cli(home, "check")
    assert checked.returncode == 0 and "note: the passage index loads its payload indexes" in checked.stdout

    done = hub_cli(home, "upgrade")
    assert done.returncode == 0, done.stderr
    assert f"mapped the passage index's payload indexes from their files ({passages} passages" in done.stdout
    assert not payload_indexes_in_heap(settings_for(home))
    assert "note:" not in hub_cli(home, "check").stdout
    with Hub(settings_for(home), embedder=embedder) as hub:
        assert hub.check().ok and answers(hub) == before
