"""HTML pages as people publish them: the article is what gets indexed, whatever surrounds it."""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import httpx
import pytest

from ingest.html import load_html
from tests.conftest import serving
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
READABILITY = ROOT.parent / "shared" / "benchmarks" / "realworld" / "readability" / "test" / "test-pages"

ARTICLE = " ".join(
    f"Paragraph {i}: the evaluation followed {i + 12} street segments in Lyon where the city added "
    "lighting, trimmed hedges and opened the ground floors of buildings onto the pavement; residents "
    "reported feeling safer walking home after dark, and recorded burglaries fell over two years."
    for i in range(40))


def _page() -> str:
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in ARTICLE.split(".") if s.strip())
    return f"""<!doctype html><html lang="en-GB"><head><title>Lighting and natural surveillance in Lyon</title>
      <meta name="author" content="C. Ville"><meta name="keywords" content="lighting, CPTED">
      <meta name="citation_publication_date" content="2021/05/04">
      <script>var SCRIPTWORD = 1;</script><style>.x{{color:red}}</style></head>
      <body><nav><a href="/">Home</a> <a href="/topics">Topics</a></nav>
      <aside class="related"><article class="card"><h3>Related</h3><p>CARDWORD newsletter signup</p></article></aside>
      <main><article><h1>Lighting and natural surveillance in Lyon</h1>
      <!-- COMMENTWORD editorial note: check figures -->
      <esi:include src="/fragments/ESIWORD"/>
      <h2>What was done</h2>{paragraphs[: len(paragraphs) // 2]}
      <template><p>TEMPLATEWORD</p></template><noscript>NOSCRIPTWORD enable javascript</noscript>
      <h2>What changed</h2>{paragraphs[len(paragraphs) // 2:]}
      </article></main>
      <footer>FOOTERWORD © City of Lyon</footer></body></html>"""


def test_long_main_article_is_indexed_not_the_sidebar_card(hub, tmp_path: Path) -> None:
    page = tmp_path / "lyon.html"
    page.write_text(_page(), encoding="utf-8")
    report = hub.ingest([page])
    assert report.exit_code == 0 and report.warnings == []
    doc = hub.document(report.doc_ids[0])
    text = " ".join(c.text for c in doc.chunks)
    assert len(text.split()) >= 0.95 * len(ARTICLE.split())
    assert "Paragraph 0:" in text and "Paragraph 39:" in text
    for junk in ("CARDWORD", "COMMENTWORD", "ESIWORD", "SCRIPTWORD", "TEMPLATEWORD", "NOSCRIPTWORD",
                 "FOOTERWORD", "color:red"):
        assert junk not in text, junk
    assert {c.heading for c in doc.chunks} >= {"What was done", "What changed"}
    assert doc.title == "Lighting and natural surveillance in Lyon" and doc.language == "en"
    assert doc.authors == ["C. Ville"] and doc.year == 2021 and set(doc.tags) >= {"lighting", "cpted"}
    assert "warnings" not in doc.extra
    assert not hub.search("CARDWORD newsletter", mode="keyword").hits
    hits = hub.search("hedges ground floors pavement Lyon", mode="keyword").hits
    assert hits and hits[0].doc_id == doc.id


def test_comments_and_esi_never_reach_passages_even_without_an_article(hub, tmp_path: Path) -> None:
    page = tmp_path / "notes.html"
    page.write_text("""<html><body><div>Street lighting notes from the ward meeting
      <!-- COMMENTWORD do not publish --><esi:include src="/ESIWORD"/>
      <esi:remove>ESIREMOVED fallback</esi:remove>
      <div>Lamps were replaced on four streets and residents reported feeling safer.</div>
      </div></body></html>""", encoding="utf-8")
    report = hub.ingest([page])
    assert report.exit_code == 0
    text = " ".join(c.text for c in hub.document(report.doc_ids[0]).chunks)
    assert "Lamps were replaced" in text
    for junk in ("COMMENTWORD", "ESIWORD", "ESIREMOVED"):
        assert junk not in text


def test_page_without_a_recognisable_article_lands_with_a_warning_naming_it(hub, tmp_path: Path, capsys) -> None:
    from hub.cli import main

    # Nothing but headings (a list of report titles): trafilatura finds no article in it.
    titles = "".join(f"<h3>Ward {i} patrol log entry number {i} filed by the duty officer</h3>" for i in range(12))
    page = tmp_path / "patrol-log.html"
    page.write_text(f"<html><body>{titles}</body></html>", encoding="utf-8")
    code = main(["--home", str(hub.settings.home), "ingest", str(page)])
    err = capsys.readouterr().err
    assert code == 0
    assert f"warning {page}: main content not recognised" in err
    report = hub.ingest([page], force=True)
    assert report.added or report.updated
    assert len(report.warnings) == 1 and report.warnings[0].startswith(f"{page}: ")
    # The document keeps its warning, and its page shows it to whoever reads it later.
    doc = hub.document(report.doc_ids[0])
    assert doc.extra["warnings"][0].startswith("main content not recognised")
    with serving(create_app(hub)) as base:
        html = httpx.get(f"{base}/documents/{doc.id}").text
    assert "Check when reading" in html and "main content not recognised" in html


def _words(text: str) -> Counter:
    return Counter(w.lower() for w in re.findall(r"\w+", text))


@pytest.mark.skipif(not READABILITY.is_dir(), reason="shared/benchmarks/realworld/readability is not here")
def test_readability_reference_pages_reach_the_targets() -> None:
    """A sample of readability's pages (bench/html_extraction.py measures all of them)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from html_extraction import _with_headings, html_text

    names = ["001", "ars-1", "bbc-1", "cnn", "guardian-1", "lemonde-1", "medium-1", "nytimes-1",
             "wikipedia", "wordpress", "herald-sun-1", "mozilla-1"]
    precision, recall = [], []
    for name in names:
        folder = READABILITY / name
        expected = _words(html_text((folder / "expected.html").read_text(encoding="utf-8")))
        got = _words(_with_headings(load_html(name, (folder / "source.html").read_text(encoding="utf-8"))))
        common = sum((got & expected).values())
        precision.append(common / sum(got.values()))
        recall.append(common / sum(expected.values()))
    precision.sort()
    recall.sort()
    assert precision[len(names) // 2] >= 0.95, precision
    assert recall[len(names) // 2] >= 0.98, recall


@pytest.mark.skipif(not READABILITY.is_dir(), reason="shared/benchmarks/realworld/readability is not here")
def test_pages_whose_text_is_mostly_not_the_article_carry_a_warning() -> None:
    """Two pages where trafilatura keeps mostly other stories (precision 0.20 and 0.31 against
    readability's reference): kept, with a warning; well-read pages get none."""
    for name in ("bug-1255978", "yahoo-3"):
        doc = load_html(name, (READABILITY / name / "source.html").read_text(encoding="utf-8"))
        assert doc.sections
        assert len(doc.extra["warnings"]) == 1 and doc.extra["warnings"][0].startswith("main content uncertain")
    for name in ("guardian-1", "lemonde-1", "wikipedia"):
        doc = load_html(name, (READABILITY / name / "source.html").read_text(encoding="utf-8"))
        assert "warnings" not in doc.extra, name
