"""Byte-identical files are one document with every path recorded; near-identical ones are listed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from hub.cli import main

REPORT = ("Street lighting review\n\n" + " ".join(
    f"Sentence {i} of the review says that better street lighting on route {i} cut night-time "
    f"robberies and made residents feel safer walking home." for i in range(40)) + "\n")


def test_identical_files_become_one_document_with_every_path(make_hub, tmp_path: Path) -> None:
    hub = make_hub()
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "review.txt").write_text(REPORT)
    (first / "review-copy.txt").write_text(REPORT)
    (first / "other.txt").write_text("Youth outreach\n\nOutreach workers met young people in the parks.\n")
    report = hub.ingest([first])
    assert sorted(Path(s).name for s in report.added) == ["other.txt", "review-copy.txt"] or \
        sorted(Path(s).name for s in report.added) == ["other.txt", "review.txt"]
    assert len(report.duplicates) == 1 and "identical to another file" in report.summary()
    shutil.copy(first / "review.txt", second / "review.txt")
    later = hub.ingest([second])
    assert later.added == [] and len(later.duplicates) == 1
    # one document, three paths; a search finds it once
    assert hub.catalog.counts()["documents"] == 2
    doc_id = later.doc_ids[0]
    assert len(hub.catalog.copies(doc_id)) == 2
    hits = hub.search("street lighting robberies", limit=5).hits
    assert [h.title for h in hits].count("Street lighting review") == 1
    assert hub.check().ok
    # the same files again: nothing new
    again = hub.ingest([first, second])
    assert again.added == [] and again.duplicates == [] and len(again.unchanged) == 4


def test_a_copy_that_changes_becomes_a_document_of_its_own(make_hub, tmp_path: Path) -> None:
    hub = make_hub()
    (tmp_path / "a-review.txt").write_text(REPORT)  # ingested first: the document
    (tmp_path / "b-copy.txt").write_text(REPORT)
    hub.ingest([tmp_path])
    assert hub.catalog.counts()["documents"] == 1
    (tmp_path / "b-copy.txt").write_text(REPORT.replace("Street lighting review", "Lighting review, second edition"))
    report = hub.ingest([tmp_path / "b-copy.txt"])
    assert [Path(s).name for s in report.added] == ["b-copy.txt"] and hub.catalog.copies() == []
    assert hub.catalog.counts()["documents"] == 2
    assert hub.check().ok


def test_near_identical_documents_are_listed(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / "v1.txt").write_text(REPORT)
    (folder / "v2.txt").write_text(REPORT.replace("Sentence 7 of", "The seventh sentence of"))
    (folder / "v2-again.txt").write_text(REPORT.replace("Sentence 7 of", "The seventh sentence of"))
    (folder / "other.txt").write_text("Youth outreach\n\n" + "Outreach workers met young people in the parks "
                                      "every evening, and fights fell. " * 20 + "\n")
    home = str(tmp_path / "home")
    assert main(["--home", home, "ingest", "-q", str(folder)]) == 0
    capsys.readouterr()
    assert main(["--home", home, "documents", "--duplicates", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [Path(c["source"]).name for c in found["copies"]] == ["v2.txt"]  # v2-again.txt sorts first
    pairs = {(Path(n["first_source"]).name, Path(n["second_source"]).name) for n in found["near"]}
    assert {tuple(sorted(p)) for p in pairs} == {("v1.txt", "v2-again.txt")}
    assert all(n["overlap"] >= 0.8 for n in found["near"])
