"""Text saved by Windows tools as UTF-16 or UTF-32 (Notepad's "Unicode") lands like UTF-8 text."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import RejectedDocument
from ingest import files

TEXT = ("Marches exploratoires à Montréal : les habitantes repèrent l'éclairage défaillant, "
        "les passages isolés et les arrêts de bus peu visibles, puis proposent des changements.")

BOMS = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff", "utf-32-le": b"\xff\xfe\x00\x00",
        "utf-32-be": b"\x00\x00\xfe\xff", "utf-8": b"\xef\xbb\xbf"}


def _encoded(text: str, encoding: str, bom: bool = True) -> bytes:
    return (BOMS[encoding] if bom else b"") + text.encode(encoding)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "utf-8"])
def test_text_markdown_and_html_with_a_byte_order_mark_land(hub, tmp_path: Path, encoding: str) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "walks.txt").write_bytes(_encoded(f"Marches exploratoires\n\n{TEXT}\n", encoding))
    (folder / "walks.md").write_bytes(_encoded(f"---\ntitle: Marches (md)\n---\n# Marches\n\n{TEXT}\n", encoding))
    (folder / "walks.html").write_bytes(_encoded(
        f'<!doctype html><html lang="fr"><head><meta charset="{encoding}"><title>Marches (html)</title></head>'
        f"<body><main><h1>Marches</h1><p>{TEXT}</p></main></body></html>", encoding))
    report = hub.ingest([folder])
    assert report.rejected == [], [str(r) for r in report.rejected]
    assert len(report.added) == 3
    for doc_id in report.doc_ids:
        doc = hub.document(doc_id)
        text = " ".join(c.text for c in doc.chunks)
        assert "l'éclairage défaillant" in text and "\x00" not in text and "\ufeff" not in text
        assert doc.language == "fr"
    assert {hub.document(d).title for d in report.doc_ids} >= {"Marches (md)", "Marches (html)"}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read_as_text(encoding: str) -> None:
    data = _encoded(TEXT, encoding, bom=False)
    files.check_content_matches("notes.txt", "text", data)
    assert files.decode_text("notes.txt", data) == TEXT


def test_nul_bytes_that_do_not_decode_are_still_binary() -> None:
    with pytest.raises(RejectedDocument, match="binary data"):
        files.check_content_matches("notes.txt", "text", b"\xff\xfe\x00\x00binary")
    with pytest.raises(RejectedDocument, match="binary data"):
        files.check_content_matches("notes.txt", "text", bytes(range(256)) * 4)
