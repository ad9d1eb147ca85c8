"""Bad files are refused one by one, with a reason; the good ones in the same batch still land."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pdfs import corrupt_pdf, encrypted_pdf, image_only_pdf, text_pdf, truncated_pdf

GOOD_TEXT = "Women's safety audits\n\nA safety audit walks a route at night and records lighting, sightlines and exits.\n"


def _bad_files(folder: Path) -> dict[str, str]:
    """file name -> words its rejection message must contain."""
    folder.mkdir()
    corrupt_pdf(folder / "corrupt.pdf")
    good = text_pdf(folder / "source.pdf.tmp", ["Some text for a PDF that will be cut short. " * 20] * 3)
    truncated_pdf(folder / "truncated.pdf", good)
    good.unlink()
    encrypted_pdf(folder / "locked.pdf", ["Confidential evaluation of a mentoring programme."])
    image_only_pdf(folder / "scanned.pdf")
    (folder / "empty.md").write_text("")
    (folder / "blank.txt").write_text("   \n\n  ")
    (folder / "big.txt").write_text("Big file\n\n" + "words " * 300_000)
    (folder / "photo.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 500)
    (folder / "archive.html").write_bytes(b"PK\x03\x04" + b"\x00\x01" * 300)
    (folder / "slides.pptx").write_bytes(b"PK\x03\x04whatever")
    return {
        "corrupt.pdf": "corrupt PDF",
        "truncated.pdf": "corrupt PDF",
        "locked.pdf": "encrypted",
        "scanned.pdf": "no extractable text",
        "empty.md": "empty file",
        "blank.txt": "empty file",
        "big.txt": "over the 1 MB limit",
        "photo.pdf": "not a PDF",
        "archive.html": "does not match its extension",
        "slides.pptx": "unsupported file type",
    }


def test_mixed_batch_rejects_each_bad_file_and_keeps_the_good_ones(make_hub, tmp_path: Path) -> None:
    hub = make_hub(max_file_mb=1)
    expected = _bad_files(tmp_path / "bad")
    good_dir = tmp_path / "good"
    good_dir.mkdir()
    (good_dir / "audit.txt").write_text(GOOD_TEXT)
    text_pdf(good_dir / "review.pdf", ["Page one about hot spots policing in Minneapolis.",
                                       "Page two about focused deterrence in Boston."])

    seen: list[str] = []
    report = hub.ingest([tmp_path / "bad", good_dir], on_reject=lambda r: seen.append(str(r)))

    assert report.exit_code == 1
    assert sorted(Path(s).name for s in report.added) == ["audit.txt", "review.pdf"]
    reasons = {Path(r.source).name: str(r) for r in report.rejected}
    assert set(reasons) == set(expected)
    for name, words in expected.items():
        message = reasons[name]
        assert name in message and words in message, message
        assert "\n" not in message and "Traceback" not in message
    assert len(seen) == len(expected)

    # Nothing of a rejected file anywhere; the stores agree.
    titles = {d.title for d in hub.documents()}
    assert len(titles) == 2
    check = hub.check()
    assert check.ok, check.problems
    assert check.semantic == check.keyword == check.passages > 0
    assert len(list(hub.settings.originals_path.iterdir())) == 2
    run = hub.catalog.last_run()
    assert run["rejected"] == len(expected) and run["added"] == 2


def test_missing_path_is_reported_not_fatal(hub, tmp_path: Path) -> None:
    good = tmp_path / "ok.txt"
    good.write_text(GOOD_TEXT)
    report = hub.ingest([tmp_path / "nope.pdf", good])
    assert [str(r) for r in report.rejected] == [f"{tmp_path / 'nope.pdf'}: no such file or folder"]
    assert report.added == [str(good)]


@pytest.mark.parametrize("content", [b"<html><body>\x00\x01\x02</body></html>", b"\xff\xfe\x00\x00binary"])
def test_binary_content_under_text_extension_is_refused(hub, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "notes.md"
    path.write_bytes(content)
    report = hub.ingest([path])
    assert report.exit_code == 1 and "binary data" in str(report.rejected[0])
    assert hub.catalog.counts() == {"documents": 0, "passages": 0}


def test_broken_front_matter_names_the_file(hub, tmp_path: Path) -> None:
    path = tmp_path / "profile.md"
    path.write_text("---\n  - just\n - a broken: [list\n---\nBody text here for the profile.\n")
    report = hub.ingest([path])
    assert report.exit_code == 1
    assert str(report.rejected[0]).startswith(f"{path}: ") and "front matter" in str(report.rejected[0])


def test_front_matter_with_a_stray_colon_is_still_read(hub, tmp_path: Path) -> None:
    path = tmp_path / "guide.md"
    path.write_text("---\ntitle: Night safety: a guide for cities\nlanguage: French\ntags: [nuit, femmes]\n---\n"
                    "Les femmes se sentent plus en sécurité quand les arrêts sont éclairés.\n", encoding="utf-8")
    report = hub.ingest([path])
    assert report.exit_code == 0
    doc = hub.document(report.doc_ids[0])
    assert (doc.title, doc.language, doc.tags) == ("Night safety: a guide for cities", "fr", ["nuit", "femmes"])
