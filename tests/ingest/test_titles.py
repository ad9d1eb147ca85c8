"""Titles a person would write: junk metadata gives way to the page's title, never to a path."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.loaders import parse
from ingest.titles import from_file_name, is_junk_title
from tests.pdfs import text_pdf

JUNK = ["15", "- 41 -", "xiv", "Book1", "PowerPoint Presentation", "Microsoft Word - report.docx",
        "budget_2019.xlsx", "cover.psd", "Untitled", "Titre", "Notice Date Amount Total", "a\x07b title",
        "/home/ada/reports/hot-spots_review.pdf", "C:\\Reports\\audit.doc", "905_Precinct_NoOU",
        "DCF-F-2476-E (R. 04/2014)", "State / Territory Permit Handgun Long Gun*Other**Multiple", "姓",
        "Figure 1: Chart", "ibm.com/redbooks", ""]
GOOD = ["What works in place-based prevention", "Évaluation des marches exploratoires", "CCTV in car parks",
        "Plan stratégique du sentier récréatif", "安徽省建设用地使用标准(2020 年版)", "Hot spots review"]


@pytest.mark.parametrize("title", JUNK)
def test_junk_titles_are_recognised(title: str) -> None:
    assert is_junk_title(title)


@pytest.mark.parametrize("title", GOOD)
def test_real_titles_are_kept(title: str) -> None:
    assert not is_junk_title(title)


def test_file_names_are_prettified_and_never_a_path() -> None:
    assert from_file_name("/srv/library/hot-spots_review.pdf") == "Hot spots review"
    assert from_file_name("C:\\Reports\\streetLighting.pdf") == "Street Lighting"


def _titled_pdf(path: Path, meta_title: str | None, heading: str, body: str, first_line: str = "") -> Path:
    """A report whose first page sets its title in a larger font than its text."""
    from fpdf import FPDF

    pdf = FPDF()
    if meta_title:
        pdf.set_title(meta_title)
    pdf.add_page()
    if first_line:
        pdf.set_font("Helvetica", size=9)
        pdf.multi_cell(0, 5, first_line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", style="B", size=22)
    pdf.multi_cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, body)
    pdf.output(str(path))
    return path


BODY = ("Wardens walked the estate each evening and recorded what they saw; residents were asked how "
        "safe they felt before and after the scheme, and the answers were compared with police records.")


@pytest.mark.parametrize("meta", ["15", "- 41 -", "xiv", "Book1", "PowerPoint Presentation",
                                  "Microsoft Word - report.docx", "wardens.xlsx", "scheme.psd", None])
def test_junk_pdf_metadata_gives_way_to_the_largest_text_on_page_one(tmp_path: Path, meta: str | None) -> None:
    pdf = _titled_pdf(tmp_path / "r.pdf", meta, "Neighbourhood wardens on the Elm estate", BODY,
                      first_line="Annual series, issue 4")
    loaded = parse("pdf", str(pdf), pdf.read_bytes())
    assert loaded.title == "Neighbourhood wardens on the Elm estate"


def test_a_real_metadata_title_wins(tmp_path: Path) -> None:
    pdf = _titled_pdf(tmp_path / "r.pdf", "Evaluation of the Elm estate wardens", "Summary", BODY)
    assert parse("pdf", str(pdf), pdf.read_bytes()).title == "Evaluation of the Elm estate wardens"


def test_a_file_without_any_title_is_named_after_its_file_not_its_path(hub, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    pdf = text_pdf(folder / "hot-spots_review.pdf", [f"12\n\n{BODY.lower()}"], title=str(folder / "x.pdf"))
    doc = hub.document(hub.ingest([pdf]).doc_ids[0])
    assert doc.title == "Hot spots review"


def test_markdown_and_text_junk_titles_are_replaced_in_every_format(hub, tmp_path: Path) -> None:
    md = tmp_path / "walks.md"
    md.write_text(f"---\ntitle: Book1\n---\n# Night walks audit\n\n{BODY}\n")
    txt = tmp_path / "lamps_2019.txt"
    txt.write_text(f"- 41 -\n\n{BODY}\n")
    report = hub.ingest([md, txt])
    titles = {hub.document(i).format: hub.document(i).title for i in report.doc_ids}
    assert titles == {"markdown": "Night walks audit", "text": "Wardens walked the estate each evening and "
                      "recorded what they saw; residents were asked how safe they felt before and after "
                      "the scheme, and the answers were compared with police records."} or \
        titles["markdown"] == "Night walks audit" and titles["text"] == "Lamps 2019"
