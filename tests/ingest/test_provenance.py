"""Who wrote a document: ``provenance`` declared by Markdown and plain-text front matter, HTML
meta and the PDF document information, stored in ``Document.extra`` and shown on its page."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx

from ingest.text import load_text
from tests.conftest import serving
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PDF = ROOT / "library" / "documents" / "hot-spots-and-focused-deterrence.en.pdf"

MARKDOWN = """---
title: Night walk in an invented neighbourhood
language: en
authors: [Urban Safety Knowledge Hub editors]
provenance: illustrative
---
A scenario written for the hub: residents of an invented district walk its streets after dark
and note the underpasses and paths where they feel unsafe, then agree on changes with the city.
"""

HTML = """<!doctype html><html lang="en"><head><title>Safety audits, a sample page</title>
<meta name="author" content="Urban Safety Knowledge Hub editors">
<meta name="provenance" content="illustrative"></head>
<body><main><h1>Safety audits, a sample page</h1>
<p>A sample page written for the hub: a small group of residents audits a park at night, lists what
makes them feel unsafe, such as broken lamps, blind corners and locked gates, and sends the list to
the parks department, which answers in writing within a month with what it will repair and when.</p>
<p>The walkers meet again three months later to check what was done and what is still missing, and
publish a short note for the neighbourhood with photographs of the changes.</p></main></body></html>
"""

TEXT = """---
provenance: summary
authors: [Urban Safety Knowledge Hub editors]
---
Street lighting: what the reviews say

A summary written for the hub of published reviews on street lighting and recorded crime.
"""


def ingest_with_sample_pdf(hub, tmp_path: Path, files: dict[str, str]) -> dict:  # type: ignore[no-untyped-def]
    """These texts and a bundled summary PDF (its /Provenance and /Cites set by
    scripts/build_sample_pdfs.py), ingested; their documents by file name."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    shutil.copy(SAMPLE_PDF, folder / SAMPLE_PDF.name)
    report = hub.ingest([folder])
    assert report.rejected == [], [str(r) for r in report.rejected]
    return {Path(hub.document(i).source).name: hub.document(i) for i in report.doc_ids}


def test_provenance_is_stored_and_shown_on_the_document_page(hub, tmp_path: Path) -> None:
    docs = ingest_with_sample_pdf(hub, tmp_path, {"walk.md": MARKDOWN, "audit.html": HTML, "lighting.txt": TEXT})
    expected = {"walk.md": "illustrative", "audit.html": "illustrative", "lighting.txt": "summary",
                SAMPLE_PDF.name: "summary"}
    assert {name: doc.extra.get("provenance") for name, doc in docs.items()} == expected
    # The front matter of the text file is metadata, not text or title.
    assert docs["lighting.txt"].title == "Street lighting: what the reviews say"
    assert docs["lighting.txt"].authors == ["Urban Safety Knowledge Hub editors"]
    assert "provenance" not in " ".join(c.text for c in hub.catalog.chunks_of(docs["lighting.txt"].id))

    with serving(create_app(hub)) as base:
        pages = {name: httpx.get(f"{base}/documents/{doc.id}").text for name, doc in docs.items()}
        french = httpx.get(f"{base}/documents/{docs['walk.md'].id}", headers={"Accept-Language": "fr"}).text
        spanish = httpx.get(f"{base}/documents/{docs['audit.html'].id}", headers={"Accept-Language": "es"}).text
    for name in ("walk.md", "audit.html"):
        assert "Provenance" in pages[name] and "written for the hub to illustrate a practice" in pages[name]
    assert "written for the hub, summarising published research" in pages["lighting.txt"]
    assert 'data-provenance="summary"' in pages[SAMPLE_PDF.name]
    assert "rédigé pour le hub pour illustrer une pratique" in french
    assert "Procedencia" in spanish and "escrito para el hub para ilustrar una práctica" in spanish


def test_unknown_provenance_is_dropped_with_a_warning() -> None:
    doc = load_text("x.txt", "---\nprovenance: folklore\n---\nA title\n\nSome text to read here.\n")
    assert "provenance" not in doc.extra
    assert doc.extra["warnings"] == ["provenance 'folklore' is not one of illustrative, summary, original; ignored"]


def test_text_whose_first_block_is_not_metadata_stays_text() -> None:
    doc = load_text("x.txt", "---\njust a rule\n---\nMore text after it.\n")
    assert doc.title == "---" and "just a rule" in doc.text and doc.extra == {}


def test_bundled_documents_all_declare_their_provenance() -> None:
    from ingest.loaders import load

    formats = {".md": "markdown", ".html": "html", ".txt": "text", ".pdf": "pdf"}
    missing = []
    for path in sorted((ROOT / "library" / "documents").iterdir()):
        if path.suffix in formats:
            loaded = load(formats[path.suffix], path.name, path.read_bytes())
            if loaded.extra.get("provenance") not in ("illustrative", "summary", "original"):
                missing.append(path.name)
            # Texts written for the hub name no outside source as if it had published them.
            if loaded.extra.get("provenance") == "illustrative":
                assert not loaded.source_url, path.name
    assert missing == []


def test_briefs_note_texts_written_for_the_hub_in_their_references(hub, tmp_path: Path) -> None:
    from hub.brief_export import render

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "walk.md").write_text(MARKDOWN, encoding="utf-8")
    shutil.copy(SAMPLE_PDF, folder / SAMPLE_PDF.name)
    report = hub.ingest([folder])
    docs = {Path(hub.document(i).source).name: hub.document(i) for i in report.doc_ids}
    user = hub.accounts.register("ada", "admin-password-1", role="admin")
    brief = hub.briefs.create(user, {"title": "Night walks"})
    hub.briefs.add_passage(user, brief.id, hub.catalog.chunks_of(docs["walk.md"].id)[0].id)
    on_page = [c for c in hub.catalog.chunks_of(docs[SAMPLE_PDF.name].id) if c.page == 3][0]
    hub.briefs.add_passage(user, brief.id, on_page.id)
    loaded = hub.briefs.get(user, brief.id)
    assert loaded.provenance == {docs["walk.md"].id: "illustrative", docs[SAMPLE_PDF.name].id: "summary"}

    markdown = render(loaded, "md")
    assert "1. Night walk in an invented neighbourhood (illustrative text written for the hub)" in markdown
    assert "2. Hot Spots Policing and Focused Deterrence - An Evidence Review, p. 3 (summary written for the hub)" \
        in markdown
    assert "(illustrative text written for the hub)" in str(render(loaded, "html"))
    assert "(texte d'illustration rédigé pour le hub)" in str(render(loaded, "md", "fr"))
    assert "(texto ilustrativo escrito para el hub)" in str(render(loaded, "md", "es"))


CITED_MARKDOWN = """---
title: Street lighting, a summary
language: en
provenance: summary
cites:
- 'Welsh, B. C. and Farrington, D. P. (2008). Effects of improved street lighting on crime. Campbell Systematic Reviews.'
- 'Painter, K. A. and Farrington, D. P. (2001). The financial benefits of improved street lighting, based on
  crime reduction. Lighting Research and Technology, 33(1), 3-12.'
---
A summary written for the hub of two published studies of street lighting and recorded crime, with what
they found about crime by day and by night and about the cost of the lighting schemes.
"""

CITED_TEXT = """---
provenance: summary
cites: 'Villaveces, A. et al. (2000). Effect of a ban on carrying firearms on homicide rates in 2 Colombian cities. JAMA.'
---
Firearm carrying bans in Colombian cities

A summary written for the hub of a published study of bans on carrying firearms on weekends and holidays.
"""

CITED_HTML = """<!doctype html><html lang="en"><head><title>Community policing, a summary</title>
<meta name="provenance" content="summary">
<meta name="cites" content="Gill, C., Weisburd, D., Telep, C. W., Vitter, Z. and Bennett, T. (2014).
  Community-oriented policing: a systematic review. Journal of Experimental Criminology.">
<meta name="cites" content="Skogan, W. G. (2006). Police and community in Chicago. Oxford University Press.">
</head><body><main><h1>Community policing, a summary</h1>
<p>A summary written for the hub of a systematic review and of a long evaluation of community policing:
satisfaction with the police and its legitimacy improved, while the effects on crime and on fear of crime
were limited. Beat meetings helped residents and officers identify local problems together.</p>
</main></body></html>
"""


def test_cites_of_every_format_reach_extra_as_a_list_of_strings(hub, tmp_path: Path) -> None:
    import yaml

    docs = ingest_with_sample_pdf(hub, tmp_path, {"lighting.md": CITED_MARKDOWN, "bans.txt": CITED_TEXT,
                                                  "policing.html": CITED_HTML})
    source = yaml.safe_load((ROOT / "scripts" / "pdf_sources" / f"{SAMPLE_PDF.stem}.yaml").read_text(encoding="utf-8"))
    assert {name: doc.extra.get("cites") for name, doc in docs.items()} == {
        "lighting.md": [
            "Welsh, B. C. and Farrington, D. P. (2008). Effects of improved street lighting on crime. "
            "Campbell Systematic Reviews.",
            "Painter, K. A. and Farrington, D. P. (2001). The financial benefits of improved street lighting, "
            "based on crime reduction. Lighting Research and Technology, 33(1), 3-12."],
        "bans.txt": ["Villaveces, A. et al. (2000). Effect of a ban on carrying firearms on homicide rates in 2 "
                     "Colombian cities. JAMA."],
        "policing.html": [
            "Gill, C., Weisburd, D., Telep, C. W., Vitter, Z. and Bennett, T. (2014). Community-oriented policing: "
            "a systematic review. Journal of Experimental Criminology.",
            "Skogan, W. G. (2006). Police and community in Chicago. Oxford University Press."],
        SAMPLE_PDF.name: source["cites"],
    }
    assert len(source["cites"]) > 10
    # The references page comes after the source's pages, whose numbers (cited by profiles) stay.
    pdf = docs[SAMPLE_PDF.name]
    assert pdf.pages == len(source["pages"]) + 1
    # ...and is read as the list of studies cited, not as passages (ingest/references.py)
    assert not [c for c in hub.catalog.chunks_of(pdf.id) if c.page == pdf.pages]
    assert any(c.page == pdf.pages - 1 for c in hub.catalog.chunks_of(pdf.id))
    # References are metadata, not text, in the formats with front matter or meta.
    assert "cites" not in " ".join(c.text for c in hub.catalog.chunks_of(docs["bans.txt"].id))

    with serving(create_app(hub)) as base:
        page = httpx.get(f"{base}/documents/{docs['policing.html'].id}").text
        french = httpx.get(f"{base}/documents/{pdf.id}", headers={"Accept-Language": "fr"}).text
        spanish = httpx.get(f"{base}/documents/{docs['lighting.md'].id}", headers={"Accept-Language": "es"}).text
    assert "<dt>Studies cited</dt>" in page and "<li>Skogan, W. G. (2006). Police and community in Chicago." in page
    assert "<dt>Études citées</dt>" in french and "Criminology &amp; Public Policy" in french
    assert "<dt>Estudios citados</dt>" in spanish


def test_bundled_summaries_all_cite_the_studies_they_report() -> None:
    from ingest.loaders import load

    formats = {".md": "markdown", ".html": "html", ".txt": "text", ".pdf": "pdf"}
    uncited = []
    for folder in ("documents", "evidence"):
        for path in sorted((ROOT / "library" / folder).iterdir()):
            if path.suffix in formats:
                loaded = load(formats[path.suffix], path.name, path.read_bytes())
                cites = loaded.extra.get("cites")
                assert cites is None or (isinstance(cites, list) and all(isinstance(c, str) and c for c in cites))
                if loaded.extra.get("provenance") == "summary" and not cites:
                    uncited.append(path.name)
    assert uncited == []
