"""A document that one store refuses ends up in none of them; the rest of its batch lands.

The refusals are real: a SQLite trigger in the catalog (as a constraint added by an operator
would), and a year the in-memory vector copy and Whoosh cannot hold (int32), which Qdrant and the
catalog accept.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

TEXT = "{title}\n\n{body} The lamps on the square were replaced and the hedges near the stop trimmed.\n"


def _refuse_titles(catalog: Path, prefix: str) -> None:
    with sqlite3.connect(catalog) as db:
        db.execute(f"CREATE TRIGGER refuse BEFORE INSERT ON documents WHEN NEW.title LIKE '{prefix}%' "
                   "BEGIN SELECT RAISE(ABORT, 'refused by the catalog'); END")


def _doc_ids_in_indexes(hub) -> set[str]:  # type: ignore[no-untyped-def]
    whoosh = {f["doc_id"] for f in hub.index.keyword.searcher().all_stored_fields()}
    return set(hub.index.store.passages().values()) | whoosh


def test_a_document_the_catalog_refuses_leaves_nothing_in_the_indexes(hub, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a-kept.txt").write_text(TEXT.format(title="Night walks", body="Residents walked the route."))
    (folder / "b-refused.txt").write_text(TEXT.format(title="Refused report", body="Wardens patrolled the park."))
    (folder / "c-kept.txt").write_text(TEXT.format(title="Lighting audit", body="The audit counted dark corners."))
    _refuse_titles(hub.settings.catalog_path, "Refused")

    report = hub.ingest([folder])

    assert sorted(Path(s).name for s in report.added) == ["a-kept.txt", "c-kept.txt"]
    [rejected] = report.rejected
    assert Path(rejected.source).name == "b-refused.txt"
    assert rejected.reason == "cannot be catalogued (IntegrityError: refused by the catalog)"
    assert _doc_ids_in_indexes(hub) == {d.id for d in hub.documents()}
    assert not (hub.settings.originals_path / "b-refused").exists()
    check = hub.check()
    assert check.ok, check.problems
    assert hub.health()["consistent"] is True


def test_a_document_an_index_refuses_leaves_nothing_anywhere_and_the_group_lands(hub, tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("a", "b", "c"):
        (folder / f"{name}.txt").write_text(TEXT.format(title=f"Report {name}", body=f"Block {name} was audited."))
    huge_year = {(folder / "b.txt").resolve(): {"year": 10**12}}

    report = hub.ingest([folder], overrides=huge_year)

    assert sorted(Path(s).name for s in report.added) == ["a.txt", "c.txt"]
    [rejected] = report.rejected
    assert Path(rejected.source).name == "b.txt" and rejected.reason.startswith("cannot be indexed (")
    assert _doc_ids_in_indexes(hub) == {d.id for d in hub.documents()}
    check = hub.check()
    assert check.ok, check.problems


def test_a_refused_update_keeps_the_previous_version_in_every_store(hub, tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_text(TEXT.format(title="Park report", body="The first version speaks of benches."))
    first = hub.ingest([path])
    assert first.added == [str(path)]
    before = {c.id for c in hub.document(first.doc_ids[0]).chunks}

    path.write_text(TEXT.format(title="Refused park report", body="The second version speaks of fences."))
    _refuse_titles(hub.settings.catalog_path, "Refused")
    second = hub.ingest([path])

    assert second.updated == [] and [r.source for r in second.rejected] == [str(path)]
    doc = hub.document(first.doc_ids[0])
    assert doc.title == "Park report" and {c.id for c in doc.chunks} == before
    check = hub.check()
    assert check.ok, check.problems
    assert set(hub.index.store.passages()) == before
    hits = hub.search("benches", mode="keyword").hits
    assert hits and hits[0].doc_id == doc.id


def test_a_batch_of_many_groups_lands_around_a_refused_one(make_hub, tmp_path: Path) -> None:
    """A large batch is embedded and written in groups. Every document lands in every store,
    in whichever group, and the one an index refuses, in a group between others, is the only
    one missing."""
    hub = make_hub(ingest_group_passages=2)
    folder = tmp_path / "batch"
    folder.mkdir()
    names = [f"{i:02d}" for i in range(9)]
    for name in names:
        (folder / f"{name}.txt").write_text(TEXT.format(title=f"Report {name}", body=f"Block {name} was audited."))
    refused = {(folder / "04.txt").resolve(): {"year": 10**12}}

    report = hub.ingest([folder], overrides=refused)

    assert sorted(Path(s).name for s in report.added) == [f"{n}.txt" for n in names if n != "04"]
    assert [Path(r.source).name for r in report.rejected] == ["04.txt"]
    assert report.embedded == len(names)  # each passage read by the encoders once
    assert _doc_ids_in_indexes(hub) == {d.id for d in hub.documents()}
    check = hub.check()
    assert check.ok, check.problems
    first, last = (hub.search(f"Report {n}", mode="keyword", limit=1).hits[0].title for n in ("00", "08"))
    assert (first, last) == ("Report 00", "Report 08")
