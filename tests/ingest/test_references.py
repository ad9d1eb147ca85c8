"""A reference list becomes the document's list of studies cited, not passages to search."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pdfs import text_pdf

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = ROOT.parent / "shared" / "benchmarks" / "realworld" / "pdfplumber" / "tests" / "pdfs" / "issue-316-example.pdf"

REVIEW = [
    "Street lighting review. Improved lighting was followed by fewer recorded crimes at night and in "
    "daytime in the areas studied, which suggests community pride rather than visibility alone.",
    "The cost of new lamps was recovered within a year in the two British towns evaluated.\n"
    "References\n"
    "Welsh, B. C. and Farrington, D. P. (2008). Effects of improved street lighting on crime. Campbell "
    "Systematic Reviews.\n"
    "Painter, K. A. and Farrington, D. P. (2001). The financial benefits of improved street lighting. "
    "Lighting Research and Technology, 33(1), 3-12.\n"
    "Chalfin, A., Hansen, B., Lerner, J. and Parker, L. (2022). Reducing crime through environmental "
    "design. Journal of Quantitative Criminology, 38(1), 127-157.",
]


def ingest_one(hub, folder: Path, name: str, content: str | bytes):  # type: ignore[no-untyped-def]
    """Ingest one file into an empty hub; its document. (The home is in tmp_path too, so the
    file goes into a folder of its own.)"""
    library = folder / "library"
    library.mkdir()
    path = library / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content, encoding="utf-8")
    report = hub.ingest([library])
    assert report.exit_code == 0, [str(r) for r in report.rejected]
    return hub.documents()[0]


def test_a_reference_list_is_kept_as_studies_cited_and_not_searched(hub, tmp_path: Path) -> None:
    doc = ingest_one(hub, tmp_path, "lighting.pdf",
                     text_pdf(tmp_path / "lighting.pdf", REVIEW, title="Lighting review").read_bytes())
    cites = doc.extra["cites"]
    assert len(cites) == 3 and cites[0].startswith("Welsh, B. C. and Farrington, D. P. (2008). Effects of improved")
    chunks = hub.document(doc.id).chunks
    text = "\n".join(c.text for c in chunks)
    # the page's own text before the heading stays, on its page; the list does not
    assert "recovered within a year" in text and {c.page for c in chunks} == {1, 2}
    assert "Campbell Systematic Reviews" not in text and "Quantitative Criminology" not in text
    hits = hub.search("Journal of Quantitative Criminology environmental design", mode="keyword").hits
    assert all("Quantitative" not in p.snippet for h in hits for p in h.passages)
    assert hub.check().ok


def test_a_references_heading_over_prose_is_text(hub, tmp_path: Path) -> None:
    doc = ingest_one(hub, tmp_path, "law.md",
                     "---\ntitle: The prevention law\nlanguage: en\n---\n# References\n\nThe law refers to the "
                     "mayor's duties in three articles and to the prefect's in two; it sets up the local council and "
                     "its working groups, which meet at least once a year and report to the council on what they did.\n")
    assert "cites" not in doc.extra
    assert "mayor's duties" in "\n".join(c.text for c in hub.document(doc.id).chunks)


def test_declared_cites_win_over_the_list_found(hub, tmp_path: Path) -> None:
    doc = ingest_one(hub, tmp_path, "review.md",
                     "---\ntitle: Review\nlanguage: en\ncites:\n- 'Welsh, B. C. and Farrington, D. P. (2008). Street "
                     "lighting.'\n---\nLighting reduced crime in the towns studied, by about a fifth on average across "
                     "the evaluations.\n\n## References\n\n- Welsh, B. C. (2008). One. Journal, 1.\n"
                     "- Painter, K. A. (2001). Two. Journal, 2.\n")
    assert doc.extra["cites"] == ["Welsh, B. C. and Farrington, D. P. (2008). Street lighting."]
    assert "Journal, 2" not in "\n".join(c.text for c in hub.document(doc.id).chunks)


@pytest.mark.skipif(not ARTICLE.is_file(), reason="shared/benchmarks/realworld/pdfplumber is not here")
def test_a_published_articles_bibliography_is_found_across_its_pages(hub, tmp_path: Path) -> None:
    doc = ingest_one(hub, tmp_path, "article.pdf", ARTICLE.read_bytes())
    cites = doc.extra["cites"]
    assert len(cites) >= 50 and cites[0].startswith("Baltes, B. and Heydens-Gahir, H. (2003)")
    text = "\n".join(c.text for c in hub.document(doc.id).chunks)
    assert "Heydens-Gahir, H. (2003)" not in text and "Heydens-Gahir" in text  # cited in the text, listed apart
    assert "added to this knowledge base" in text  # the page's text before the heading stays
