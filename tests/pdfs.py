"""Real PDFs built for the tests: multi-page text, encrypted, image-only, corrupt."""

from __future__ import annotations

import io
from pathlib import Path


def text_pdf(path: Path, pages: list[str], title: str | None = None, author: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def encrypted_pdf(path: Path, pages: list[str], password: str = "secret") -> Path:
    from pypdf import PdfReader, PdfWriter

    plain = text_pdf(path.with_suffix(".plain.pdf"), pages)
    writer = PdfWriter(clone_from=PdfReader(plain))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    with path.open("wb") as fh:
        writer.write(fh)
    plain.unlink()
    return path


def image_only_pdf(path: Path, pages: int = 2) -> Path:
    """What a scanner produces: pages with pictures and no text layer."""
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(pages):
        pdf.add_page()
        pdf.set_fill_color(90, 90, 90)
        for row in range(20):
            pdf.rect(20, 20 + row * 12, 170, 6, style="F")
    pdf.output(str(path))
    return path


def corrupt_pdf(path: Path) -> Path:
    """A PDF header followed by garbage, as left by a failed download."""
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 20)
    return path


def truncated_pdf(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def pdf_bytes(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    buf = io.BytesIO()
    pdf.output(buf)
    return buf.getvalue()
