"""Build the sample library's PDFs from their YAML sources (scripts/pdf_sources/*.yaml).

    python scripts/build_sample_pdfs.py

Each YAML file holds a title, author, subject, provenance (who wrote it: illustrative, summary or
original, see ingest/records.py; stored as the document information key /Provenance) and a list of
pages (heading + paragraphs); each page of the PDF carries exactly one page of the source, so
citations by page can be checked.
An optional ``cites`` list holds the published studies the text reports, one full reference each
("Authors (year). Title. Venue."): they are printed on one last page, "References" in the
document's language, after the source's pages (whose numbers do not change), and stored as the
document information key /Cites, one reference a line.
Output is deterministic (fixed creation date), so rebuilding does not change unchanged files.
"""

from __future__ import annotations

import io
import sys
from datetime import datetime, timezone
from pathlib import Path

import yaml
from fpdf import FPDF

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "scripts" / "pdf_sources"
PROVENANCE = ("illustrative", "summary", "original")  # as ingest/records.py
#: The heading of the references page, by the document's language.
REFERENCES = {"en": "References", "fr": "Références", "es": "Referencias"}
OUT = ROOT / "library" / "documents"


def _check(source: Path, spec: dict) -> None:
    """Core fonts only know latin-1: refuse curly quotes, long dashes, the oe ligature and the like."""
    if spec.get("provenance") not in PROVENANCE:
        sys.exit(f"{source.name}: provenance must be one of {', '.join(PROVENANCE)}")
    cites = spec.get("cites") or []
    if not isinstance(cites, list) or not all(isinstance(c, str) and c.strip() for c in cites):
        sys.exit(f"{source.name}: cites must be a list of references (text)")
    if cites and spec.get("language") not in REFERENCES:
        sys.exit(f"{source.name}: cites needs a language among {', '.join(REFERENCES)} (the references page's heading)")
    texts = [spec["title"], spec["author"], spec.get("subject", ""), *cites]
    for page in spec["pages"]:
        texts += [page["heading"], *page["paragraphs"]]
    for text in texts:
        bad = sorted({c for c in text if c.encode("latin-1", "replace") == b"?" and c != "?"})
        if bad:
            sys.exit(f"{source.name}: characters outside latin-1: {' '.join(bad)}")


def build(source: Path) -> Path:
    spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    _check(source, spec)
    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))
    pdf.set_title(spec["title"])
    pdf.set_author(spec["author"])
    pdf.set_subject(spec.get("subject", ""))
    if spec.get("language"):
        pdf.set_lang(spec["language"])
    pdf.set_auto_page_break(False)
    for number, page in enumerate(spec["pages"], start=1):
        pdf.add_page()
        if number == 1:
            pdf.set_font("Helvetica", "B", 16)
            pdf.multi_cell(0, 8, spec["title"])
            pdf.ln(3)
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 7, page["heading"])
        pdf.ln(2)
        pdf.set_font("Helvetica", size=10.5)
        for paragraph in page["paragraphs"]:
            pdf.multi_cell(0, 5.5, " ".join(paragraph.split()))
            pdf.ln(2)
        if pdf.get_y() > 285:
            sys.exit(f"{source.name}: page {number} overflows; shorten it")
        _footer(pdf, spec, number)
    cites = [" ".join(c.split()) for c in spec.get("cites") or []]
    if cites:  # after the source's pages, so their numbers (cited by profiles) stay the same
        number = len(spec["pages"]) + 1
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 13)
        pdf.multi_cell(0, 7, REFERENCES[spec["language"]])
        pdf.ln(2)
        pdf.set_font("Helvetica", size=9)
        for reference in cites:
            pdf.multi_cell(0, 4.5, reference)
            pdf.ln(1.5)
        if pdf.get_y() > 285:
            sys.exit(f"{source.name}: the references page overflows")
        _footer(pdf, spec, number)
    out = OUT / f"{source.stem}.pdf"
    out.write_bytes(_with_metadata(bytes(pdf.output()), spec["provenance"], cites))
    return out


def _footer(pdf: FPDF, spec: dict, number: int) -> None:
    pdf.set_y(-15)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 5, f"{spec['title']} - page {number}", align="C")


def _with_metadata(data: bytes, provenance: str, cites: list[str]) -> bytes:
    """fpdf2 writes only the standard information keys: pypdf adds /Provenance and, when the
    source cites studies, /Cites (one reference a line), deterministically."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=io.BytesIO(data))
    writer.add_metadata({"/Provenance": provenance, **({"/Cites": "\n".join(cites)} if cites else {})})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def main() -> None:
    for source in sorted(SOURCES.glob("*.yaml")):
        print(build(source).relative_to(ROOT))


if __name__ == "__main__":
    main()
