"""Each loader on real files: what a person would see in the catalog afterwards."""

from __future__ import annotations

from pathlib import Path

from tests.pdfs import text_pdf

PAGE_ONE = ("Hot spots policing concentrates patrols on the few street segments where most crime "
            "happens. Sherman and Weisburd tested it in Minneapolis in 1995.")
PAGE_TWO = ("Street lighting improvements were followed by fewer burglaries and robberies in the "
            "evaluated neighbourhoods of Dudley and Stoke-on-Trent.")


def test_pdf_passages_keep_their_page_and_metadata(hub, tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "review.pdf", [PAGE_ONE, PAGE_TWO],
                   title="What works in place-based prevention", author="A. Analyst; B. Reviewer")
    report = hub.ingest([pdf])
    assert report.exit_code == 0 and report.added == [str(pdf)]
    doc = hub.document(report.doc_ids[0])
    assert doc.title == "What works in place-based prevention"
    assert doc.authors == ["A. Analyst", "B. Reviewer"]
    assert doc.pages == 2 and doc.format == "pdf" and doc.language == "en"
    by_page = {c.page: c.text for c in doc.chunks}
    assert "Minneapolis" in by_page[1] and "Minneapolis" not in by_page[2]
    assert "Stoke-on-Trent" in by_page[2]


def test_html_keeps_main_text_only(hub, tmp_path: Path) -> None:
    page = tmp_path / "walks.html"
    page.write_text("""<!doctype html><html lang="fr-CA"><head><title>Marches exploratoires</title>
      <script>var tracking = "SHOULD-NOT-APPEAR";</script><style>body{color:red}</style></head>
      <body><nav><a href="/">Accueil</a> <a href="/menu">MENU-ITEM</a></nav>
      <main><h1>Marches exploratoires</h1>
      <p>Une marche exploratoire réunit des habitantes qui parcourent leur quartier de nuit pour
      repérer les lieux où elles se sentent en insécurité : éclairage, visibilité, isolement.</p>
      <h2>Après la marche</h2><p>Les constats sont remis à la municipalité avec des recommandations.</p>
      </main><footer>© 2024 Ville — FOOTER-TEXT</footer></body></html>""", encoding="utf-8")
    report = hub.ingest([page])
    doc = hub.document(report.doc_ids[0])
    text = " ".join(c.text for c in doc.chunks)
    assert doc.title == "Marches exploratoires" and doc.language == "fr"
    assert "habitantes" in text and "recommandations" in text
    for junk in ("SHOULD-NOT-APPEAR", "MENU-ITEM", "FOOTER-TEXT", "color:red"):
        assert junk not in text
    assert doc.chunks[0].page is None


def test_markdown_front_matter_becomes_metadata(hub, tmp_path: Path) -> None:
    md = tmp_path / "mapping.md"
    md.write_text("""---
title: Cartografía participativa en barrios
language: es
doc_type: Case_Study
tags: [Mapping, youth]
year: 2019
authors: [Equipo Local]
source_url: https://example.org/mapa
---
## Cómo se hizo

Los vecinos dibujaron en un mapa los lugares donde sentían miedo y los caminos que evitaban de noche.
""", encoding="utf-8")
    doc = hub.document(hub.ingest([md]).doc_ids[0])
    assert (doc.title, doc.language, doc.doc_type, doc.year) == ("Cartografía participativa en barrios", "es", "case study", 2019)
    assert doc.tags == ["mapping", "youth"] and doc.authors == ["Equipo Local"]
    assert doc.source_url == "https://example.org/mapa"
    assert doc.chunks[0].heading == "Cómo se hizo"


def test_text_first_line_is_title_and_language_is_detected(hub, tmp_path: Path) -> None:
    txt = tmp_path / "comite.txt"
    txt.write_text("Le comité local de sécurité\n\nLe comité réunit la mairie, la police, les écoles et "
                   "les associations pour partager un diagnostic et suivre un plan d'action commun.\n",
                   encoding="utf-8")
    doc = hub.document(hub.ingest([txt]).doc_ids[0])
    assert doc.title == "Le comité local de sécurité"
    assert doc.language == "fr" and doc.doc_type == "document"


def test_chunks_stay_within_size_and_page(hub, tmp_path: Path) -> None:
    long_page = " ".join(f"Sentence number {i} explains one more detail of the safety audit method." for i in range(40))
    # Two different pages: a page repeating an earlier one word for word is stored once.
    pdf = text_pdf(tmp_path / "long.pdf", [long_page, long_page.replace("safety audit", "night walk")])
    doc = hub.document(hub.ingest([pdf]).doc_ids[0])
    sizes = [len(c.text.split()) for c in doc.chunks]
    assert len(doc.chunks) >= 4
    assert all(100 <= n <= 300 for n in sizes), sizes
    assert {c.page for c in doc.chunks} == {1, 2}


def test_same_file_twice_in_one_batch_is_ingested_once(hub, tmp_path: Path) -> None:
    txt = tmp_path / "a.txt"
    txt.write_text("Title\n\nSome words about community policing and trust.\n")
    report = hub.ingest([txt, tmp_path])
    assert report.added == [str(txt)]
    assert hub.catalog.counts()["documents"] == 1


def test_pdf_with_a_placeholder_title_uses_its_first_line(hub, tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "r.pdf", ["Evaluation of school mediation\nPeer mediators were trained in six schools."],
                   title="Microsoft Word - rapport_final_v3.docx")
    doc = hub.document(hub.ingest([pdf]).doc_ids[0])
    assert doc.title == "Evaluation of school mediation"


def test_html_wrapped_in_a_form_or_odd_classes_keeps_its_text(hub, tmp_path: Path) -> None:
    page = tmp_path / "aspnet.html"
    page.write_text("""<html><head><title>Rapport annuel</title></head><body>
      <form id="aspnetForm"><div class="nav"><a href="/">Accueil</a></div>
      <div class="sidebar-layout"><p>Le conseil local a tenu six réunions et lancé trois groupes de travail
      sur la tranquillité publique, la récidive et les violences intrafamiliales.</p></div></form>
      </body></html>""", encoding="utf-8")
    bare = tmp_path / "bare.html"
    bare.write_text("<html><body>Street lighting notes<br>Lamps were replaced on four streets<br>"
                    "Residents reported feeling safer</body></html>")
    report = hub.ingest([page, bare])
    assert report.exit_code == 0, [str(r) for r in report.rejected]
    texts = {hub.document(i).title: " ".join(c.text for c in hub.document(i).chunks) for i in report.doc_ids}
    assert "six réunions" in texts["Rapport annuel"] and "Accueil" not in texts["Rapport annuel"]
    assert any("Lamps were replaced" in t for t in texts.values())
