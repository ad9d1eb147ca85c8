"""Text that reads right: ligatures, running headers and page numbers, hyphens across lines."""

from __future__ import annotations

from pathlib import Path

from ingest.cleaning import (BROKEN_BELOW, better_reading, clean_sections, normalise, repair_hyphens,
                             strip_running_lines, vocabulary, word_validity)
from ingest.records import Section
from tests.pdfs import text_pdf


def ligature_pdf(path: Path, pages: list[list[str]]) -> Path:
    """A PDF whose font draws "ffi", "fi" and "fl" as single ligature glyphs, as typeset reports
    do: pypdf reads them back as U+FB03, U+FB01, U+FB02."""
    font = ("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
            "/BaseEncoding /WinAnsiEncoding /Differences [1 /ffi 2 /fi 3 /fl] >> >>")
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects = ["<< /Type /Catalog /Pages 2 0 R >>",
               f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>", font]
    for i, lines in enumerate(pages):
        ops = ["BT /F1 11 Tf 14 TL 72 760 Td"]
        for line in lines:
            line = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({line.replace('ﬃ', chr(1)).replace('ﬁ', chr(2)).replace('ﬂ', chr(3))}) Tj T*")
        stream = "\n".join(ops + ["ET"])
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>")
        objects.append(f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
    return path


def test_ligatures_are_stored_and_found_like_plain_letters(hub, tmp_path: Path) -> None:
    pdf = ligature_pdf(tmp_path / "patrols.pdf", [[
        "Foot patrols in hot spots",
        "Police oﬃcers on foot patrol were assigned to the ﬁfty busiest street corners.",
        "The oﬃcers reported their time on each corner and the ﬂow of calls for service.",
        "Violent crime fell by a ﬁfth on the patrolled corners compared with the controls.",
    ]])
    (tmp_path / "lighting.txt").write_text(
        "Street lighting\n\nNew lamps were installed along the canal path and in two car parks, "
        "and residents were asked whether they felt safer walking at night.\n")
    (tmp_path / "mediation.txt").write_text(
        "School mediation\n\nPupils trained as peer mediators helped classmates settle disputes "
        "in the playground before they turned into fights.\n")
    report = hub.ingest([pdf, tmp_path / "lighting.txt", tmp_path / "mediation.txt"])
    assert report.exit_code == 0, [str(r) for r in report.rejected]
    doc = next(hub.document(i) for i in report.doc_ids if hub.document(i).format == "pdf")
    text = " ".join(c.text for c in doc.chunks)
    assert "Police officers" in text and "fifty" in text and "flow" in text
    assert not any(ch in text for ch in "ﬀﬁﬂﬃﬄ")
    for mode in ("hybrid", "keyword"):
        hits = hub.search("police officers", mode=mode).hits
        assert hits and hits[0].doc_id == doc.id, mode


def test_normalise_drops_surrogates_and_control_characters_but_keeps_lines() -> None:
    assert normalise("a\ud800b\x00c\x07d\te\r\nf\u00adg ﬁ") == "abcd\te\nfg fi"


BODY = ("Residents of the estate were surveyed about their sense of safety after dark, and the "
        "answers were compared with police records of incidents on each street of the area.")


def test_running_headers_and_page_numbers_leave_passages_and_headings(hub, tmp_path: Path) -> None:
    streets = ["Elm", "Oak", "Ash", "Yew", "Fir"]
    pages = [f"Safer Streets Review 2024\n{i}\n{streets[i - 1]} Street block {i}. {BODY}\n"
             f"Page {i} of 5" for i in range(1, 6)]
    pages[2] = f"- 3 -\nSafer Streets Review 2024\nAsh Street block 3. {BODY}\nPage 3 of 5"
    pdf = text_pdf(tmp_path / "streets.pdf", pages, title="Safer streets: a review")
    doc = hub.document(hub.ingest([pdf]).doc_ids[0])
    assert doc.title == "Safer streets: a review"
    assert sorted({c.page for c in doc.chunks}) == [1, 2, 3, 4, 5]
    for chunk in doc.chunks:
        assert "Safer Streets Review 2024" not in chunk.text and "of 5" not in chunk.text
        assert chunk.heading is None or ("Safer Streets" not in chunk.heading and any(
            ch.isalpha() for ch in chunk.heading)), chunk.heading
        assert chunk.text.startswith(f"{streets[chunk.page - 1]} Street block {chunk.page}."), chunk.text


def test_a_line_on_few_pages_is_not_a_running_header() -> None:
    pages = ["Introduction\nText one.", "Methods\nText two.", "Results\nText three.", "Results\nMore."]
    assert strip_running_lines(pages) == pages
    assert strip_running_lines(["xiv\nPreface text.", "Body\nText.\n15"]) == ["Preface text.", "Body\nText."]


def test_hyphens_at_line_ends_join_words_but_keep_compounds(hub, tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "survey.pdf", [
        "Victimisation was measured by self-\nreports of young people in the evaluated crime preven-\n"
        "tion programme, and rates were age-\nadjusted before comparison. The evidence-\nbased and cost-\n"
        "effective measures were kept; the programme kept its commu-\nnity wardens."])
    doc = hub.document(hub.ingest([pdf]).doc_ids[0])
    text = " ".join(c.text for c in doc.chunks)
    for kept in ("self-reports", "age-adjusted", "evidence-based", "cost-effective"):
        assert kept in text, (kept, text)
    assert "prevention programme" in text and "community wardens" in text


def test_hyphen_repair_uses_the_documents_own_words() -> None:
    texts = ["The wardens patrolled at night on the late shift.", "Night ward-\nens and night-\nshift youth workers."]
    words, compounds = vocabulary(texts)
    assert repair_hyphens(texts[1], words, compounds) == "Night wardens and night-shift youth workers."
    cleaned = clean_sections([Section(text="A well-known method.\nThe well-\nknown one.", heading="15")])
    assert cleaned[0].text.endswith("The well-known one.") and cleaned[0].heading is None


GARBLED = ["The)sample)size)required)for)each)arm)was)computed)", "o(hô..i.p3xSTR 7fQ)u%$ Zx*(q"] * 6
READABLE = ["The sample size required for each arm was computed from the pilot study.",
            "Wardens patrolled the estate on foot every evening for a year."] * 6


def test_broken_text_is_read_again_or_reported_with_its_score(caplog) -> None:
    assert word_validity(" ".join(GARBLED)) < BROKEN_BELOW <= word_validity(" ".join(READABLE))
    assert better_reading("r.pdf", GARBLED, lambda: READABLE) == READABLE
    assert better_reading("r.pdf", READABLE, lambda: GARBLED) == READABLE
    with caplog.at_level("WARNING", logger="ingest.cleaning"):
        assert better_reading("broken.pdf", GARBLED, lambda: None) == GARBLED
    assert "broken.pdf" in caplog.text and "word validity 0." in caplog.text
    found: list[str] = []
    assert better_reading("broken.pdf", GARBLED, lambda: None, found) == GARBLED
    assert len(found) == 1 and found[0].startswith("text may read badly (word validity 0.")


def test_a_clause_repeated_under_every_heading_is_body_text_not_a_header() -> None:
    """A form's short pages: the same clause under each heading, on every page. It is read."""
    clause = "This clause applies to every party to the agreement."
    pages = [f"Agreement, page {i}\nPart {i}\n{clause}\nSection {i}.1\n{clause}" for i in range(1, 5)]
    cleaned = strip_running_lines(pages)
    for i, page in enumerate(cleaned, start=1):
        assert page.count(clause) == 2, page
        assert f"Agreement, page {i}" not in page  # the real running header still goes


def test_a_pdf_that_reads_badly_lands_with_its_score_in_the_report_and_on_the_document(hub, tmp_path: Path) -> None:
    pdf = text_pdf(tmp_path / "glued.pdf", [" ".join(GARBLED[:2]) * 3] * 3)
    report = hub.ingest([pdf])
    assert report.added and len(report.warnings) == 1
    assert report.warnings[0].startswith(f"{pdf}: text may read badly (word validity 0.")
    assert hub.document(report.doc_ids[0]).extra["warnings"] == [report.warnings[0].split(": ", 1)[1]]
