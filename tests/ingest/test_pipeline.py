"""Incremental ingest, replacement, removal and the consistency check, on the real stores."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hub.errors import NotFound
from tests.pdfs import text_pdf


def _library(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "lighting.txt").write_text(
        "Street lighting\n\nBetter street lighting was followed by less crime, by night and by day.\n")
    (folder / "walks.md").write_text(
        "---\ntitle: Exploratory walks\nlanguage: en\n---\nResidents walk their neighbourhood at night.\n")
    text_pdf(folder / "cctv.pdf", ["CCTV works best in car parks.", "Its effect in city centres is small."])
    return folder


def test_reingesting_unchanged_files_embeds_nothing(hub, tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib")
    first = hub.ingest([lib])
    assert len(first.added) == 3 and first.embedded == first.passages > 0
    second = hub.ingest([lib])
    assert (second.added, second.updated, second.embedded, second.passages) == ([], [], 0, 0)
    assert len(second.unchanged) == 3


def test_changed_file_replaces_its_passages_everywhere(hub, tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib")
    hub.ingest([lib])
    before = hub.check()
    (lib / "lighting.txt").write_text(
        "Street lighting\n\nA new evaluation found that LED retrofits reduced night-time outdoor crime.\n")
    report = hub.ingest([lib])
    assert report.updated == [str(lib / "lighting.txt")] and report.embedded == 1
    after = hub.check()
    assert after.ok and after.passages == before.passages
    hits = hub.search("LED retrofits night-time outdoor crime", limit=3).hits
    assert hits[0].title == "Street lighting" and "LED" in hits[0].snippet
    assert not hub.search("better street lighting by day", mode="keyword").hits[0].snippet.startswith("Better")


def test_remove_deletes_from_all_three_stores(hub, tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib")
    hub.ingest([lib])
    removed = hub.remove(str(lib / "cctv.pdf"))
    assert [d.title for d in removed] and hub.catalog.counts()["documents"] == 2
    check = hub.check()
    assert check.ok and check.semantic == check.keyword == check.passages
    assert all(h.format != "pdf" for h in hub.search("CCTV car parks").hits)
    with pytest.raises(NotFound, match="not in the hub"):
        hub.remove(str(lib / "cctv.pdf"))


def test_what_a_person_removed_stays_out_of_the_library_seeded_at_each_start(hub, tmp_path: Path) -> None:
    """`make run` seeds the sample library at every start. A city that removes sample documents
    (one file, or a whole folder) must not find them back after the next restart; ingesting a
    file on purpose brings it back, and then the seed keeps it."""
    lib = _library(tmp_path / "lib")
    shutil.copy(lib / "walks.md", lib / "x-walks.md")  # a byte-identical copy, recorded with it
    hub.ingest([lib], seed=True)
    assert hub.catalog.counts()["documents"] == 3
    assert [d.title for d in hub.remove(str(lib / "walks.md"))] == ["Exploratory walks"]

    again = hub.ingest([lib], seed=True)
    assert sorted(Path(s).name for s in again.left_out) == ["walks.md", "x-walks.md"]
    assert again.added == [] and "2 removed earlier (left out)" in again.summary()
    assert sorted(d.title for d in hub.documents()) == ["CCTV works best in car parks.", "Street lighting"]
    walks = "residents walk their neighbourhood at night"
    assert "Exploratory walks" not in [h.title for h in hub.search(walks).hits]
    assert hub.check().ok

    brought = hub.ingest([lib / "walks.md"])
    assert brought.added == [str(lib / "walks.md")]
    assert "walks.md" not in {Path(s).name for s in hub.ingest([lib], seed=True).left_out}
    assert hub.search(walks).hits[0].title == "Exploratory walks"

    gone = hub.remove(str(lib))  # a folder: everything ingested from a file inside it
    assert len(gone) == 3 and hub.catalog.counts()["documents"] == 0
    assert hub.ingest([lib], seed=True).added == [] and hub.check().ok


def test_check_names_what_differs(hub, tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib")
    report = hub.ingest([lib])
    doc_id = report.doc_ids[0]
    hub.index.store.delete_documents([doc_id])  # simulate an index that lost a document
    check = hub.check()
    assert not check.ok
    assert any("Qdrant lacks" in p and doc_id in p for p in check.problems)
    # Re-ingesting with --force repairs it.
    hub.ingest([lib], force=True)
    assert hub.check().ok


def test_moved_library_keeps_working(hub, tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib")
    hub.ingest([lib])
    shutil.rmtree(lib)
    assert hub.check().ok  # originals are kept in the home, so documents stay readable
    doc = hub.documents()[0]
    assert hub.original(doc).exists()


def test_forced_reingest_and_small_edits_reuse_cached_vectors(hub, tmp_path: Path) -> None:
    lib = _library(tmp_path / "lib")
    first = hub.ingest([lib])
    forced = hub.ingest([lib], force=True)
    assert forced.passages == first.passages and forced.embedded == 0
    assert hub.check().ok
    long_text = "\n\n".join(f"Paragraph {i}: " + "residents walked the route and noted dark corners. " * 14
                            for i in range(4))
    (lib / "audit.txt").write_text("Audit\n\n" + long_text)
    added = hub.ingest([lib])
    (lib / "audit.txt").write_text("Audit\n\n" + long_text + "\n\nA new closing paragraph about lamps.")
    edited = hub.ingest([lib])
    assert edited.updated == [str(lib / "audit.txt")]
    assert 0 < edited.embedded < added.embedded + 1 and edited.embedded < edited.passages


def test_a_passage_reads_in_one_language(hub, tmp_path) -> None:
    """Short sections in different languages are not merged: a translated summary is a passage
    of its own, in its own language, down to the keyword index and the vectors' payload."""
    from tests.conftest import LIBRARY

    hub.ingest([LIBRARY / "practices" / "street-lighting.md", LIBRARY / "documents"])
    doc = next(d for d in hub.documents() if d.source.endswith("street-lighting.md"))
    chunks = hub.catalog.chunks_of(doc.id)
    english = [c for c in chunks if "Brighter, better-maintained street lighting" in c.text]
    spanish = [c for c in chunks if "Mejora del alumbrado público." in c.text]
    assert len(english) == 1 and spanish, [c.text[:80] for c in chunks]
    assert english[0] not in spanish and english[0].language == "en"
    assert all(c.language == "es" and "Brighter" not in c.text for c in spanish)
    assert {p["language"] for p in hub.index.store.payloads([c.id for c in spanish]).values()} == {"es"}
