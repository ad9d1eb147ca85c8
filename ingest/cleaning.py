"""Text that reads right: what every loader's sections go through before chunking.

- Unicode NFKC (ligatures "ﬃ" become "ffi", so "oﬃcers" embeds and matches like "officers"),
  lone surrogates and control characters other than newline and tab removed: no store ever sees
  them.
- Words hyphenated across a line break are joined only when the joined word is one the
  document itself uses, or the hyphen cannot be a compound's ("preven-/tion"); a compound of two
  words the document knows keeps its hyphen ("self-/reports", "cost-/effective").
- Running headers, footers and page numbers (:func:`strip_running_lines`) go before a PDF's
  headings are guessed, so a running header never becomes a heading.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from dataclasses import replace
from typing import Callable

from ingest.records import Section

log = logging.getLogger(__name__)

# Every C0/C1 control character except \t and \n; \r becomes \n first.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_LETTERS = r"A-Za-zÀ-ÖØ-öø-ÿĀ-ſ"
_HYPHEN_BREAK = re.compile(rf"([{_LETTERS}]+)-[ \t]*\n[ \t]*([{_LETTERS}]+)")
_WORD = re.compile(rf"[{_LETTERS}]+(?:-[{_LETTERS}]+)*")
#: First halves that make compounds, not word pieces, when the document gives no better clue.
_COMPOUND_HEADS = {"self", "non", "cost", "age", "evidence", "well", "cross", "multi", "anti", "long",
                   "short", "high", "low", "full", "part", "place", "school", "community", "crime",
                   "gender", "risk", "follow", "problem", "time", "data", "peer", "city", "area"}
_ROMAN = r"(?=[ivx])(?:x{0,3}(?:ix|iv|v?i{0,3}))"
#: A line that is only a page number: "15", "- 41 -", "xiv", "Page 3 of 40", "p. 7", "3/40".
PAGE_NUMBER = re.compile(
    rf"^\W*(?:(?:page|p\.|pág(?:ina)?\.?|seite)\s*)?(?:\d(?: ?\d){{0,3}}|{_ROMAN})(?:\s*(?:of|de|sur|/|von)\s*\d{{1,4}})?\W*$",
    re.I)


def normalise(text: str) -> str:
    """NFKC, no lone surrogates or control characters, no soft hyphens, \\n line ends."""
    text = _SURROGATE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00ad", "")
    text = unicodedata.normalize("NFKC", text)
    return _CONTROL.sub("", text)


def vocabulary(texts: list[str]) -> tuple[set[str], set[str]]:
    """Words the document uses whole (lowercased), and its hyphenated words written on one line."""
    words: set[str] = set()
    compounds: set[str] = set()
    for text in texts:
        unbroken = _HYPHEN_BREAK.sub(" ", text)  # the pieces of a broken word are no evidence
        for match in _WORD.finditer(unbroken):
            word = match.group(0).lower()
            if "-" in word:
                compounds.add(word)
                words.update(word.split("-"))
            else:
                words.add(word)
    return words, compounds


def repair_hyphens(text: str, words: set[str], compounds: set[str]) -> str:
    """Join "preven-\\ntion", keep "self-\\nreports": see the module docstring."""

    def fix(match: re.Match[str]) -> str:
        head, tail = match.group(1), match.group(2)
        joined = (head + tail).lower()
        if f"{head}-{tail}".lower() in compounds:
            return f"{head}-{tail}"
        if joined in words:
            return head + tail
        if tail[:1].isupper() or head.lower() in _COMPOUND_HEADS or (
                len(head) >= 3 and head.lower() in words and tail.lower() in words):
            return f"{head}-{tail}"
        return head + tail

    return _HYPHEN_BREAK.sub(fix, text)


def is_page_number(line: str) -> bool:
    line = line.strip()
    return bool(line) and bool(PAGE_NUMBER.match(line))


def _line_key(line: str) -> str:
    """Lines that differ only by numbers ("Page 3 of 40", "Page 4 of 40") share a key."""
    return re.sub(r"\s+", " ", re.sub(r"\d+", "#", line.strip().lower()))


def strip_running_lines(pages: list[str], zone: int = 3) -> list[str]:
    """Remove running headers and footers and page numbers from each page's text.

    A line among the first or last ``zone`` non-empty lines of a page is a running line when the
    same line (digits aside) sits in that zone on at least a quarter of the pages with text, and
    on at least 3: a report's appendix, cover and full-page figures often lack the running header
    (a real 64-page plan carries it on 23 pages). A line that a page repeats is body text (a
    form's boilerplate clause under each heading), not a header: it stays. A bare page number in
    the zone goes on any page that has other text.
    """
    split = [[ln for ln in page.split("\n")] for page in pages]
    zones: list[set[int]] = []
    counts: Counter[str] = Counter()
    for lines in split:
        filled = [i for i, ln in enumerate(lines) if ln.strip()]
        in_zone = set(filled[:zone]) | set(filled[-zone:])
        zones.append(in_zone)
        counts.update({_line_key(lines[i]) for i in in_zone})
    with_text = sum(1 for lines in split if any(ln.strip() for ln in lines))
    repeated_within = {key for lines in split
                       for key, n in Counter(_line_key(ln) for ln in lines if ln.strip()).items() if n > 1}
    running = {key for key, n in counts.items()
               if n >= 3 and n * 4 >= with_text and key and key not in repeated_within}
    out = []
    for lines, in_zone in zip(split, zones):
        kept = [ln for i, ln in enumerate(lines)
                if i not in in_zone or not (_line_key(ln) in running or is_page_number(ln))]
        if not any(ln.strip() for ln in kept):
            kept = lines  # a page that is only a number stays what it is
        out.append("\n".join(kept))
    return out


def clean_sections(sections: list[Section]) -> list[Section]:
    """The one cleaning pass for every format: normalise, repair hyphens, drop number headings."""
    texts = [normalise(s.text) for s in sections]
    headings = [normalise(s.heading).strip() if s.heading else None for s in sections]
    # The vocabulary only serves to repair words broken at a line end: a document with none
    # (every text file, most web pages) skips it, a sixth of the cleaning's time.
    broken = any(_HYPHEN_BREAK.search(t) for t in texts)
    words, compounds = vocabulary(texts) if broken else (set(), set())
    out = []
    for section, text, heading in zip(sections, texts, headings):
        if heading is not None and (is_page_number(heading) or not re.search(r"[^\W\d_]{2}", heading)):
            heading = None
        out.append(replace(section, text=repair_hyphens(text, words, compounds) if broken else text,
                           heading=heading))
    return out


def word_validity(text: str) -> float:
    """Share of a text's tokens with letters that read as words: letters only (after outer
    punctuation), a vowel or a non-Latin script, at most 20 letters, no capital glued inside
    ("HandgunLong"). Numbers are neither good nor bad. Readable reports score 0.75 to 0.9; text
    through a broken font map ("o(hô..i.p3xSTR", "The)sample)size)required)") far less."""
    good = counted = 0
    for token in text.split():
        if not any(ch.isalpha() for ch in token):
            continue
        counted += 1
        word = token.strip(".,;:!?()[]{}\"'«»“”‘’-–—/*•")
        if (word.isalpha() and len(word) <= 20 and not re.search(r"[a-zà-ÿ][A-ZÀ-Þ]", word)
                and (re.search(r"[aeiouyàâäéèêëïîôöùûüáíóúñ]", word, re.I) or not word.isascii())):
            good += 1
    return good / counted if counted else 1.0


#: Below this a PDF's text is read again with pdfium; measured on 84 real PDFs (pypdf): tables
#: of names and codes score 0.45 to 0.7, prose 0.75 to 0.95, glued or garbled text under 0.65.
BROKEN_BELOW = 0.65


def better_reading(source: str, pages: list[str], second: Callable[[], list[str] | None],
                   warnings: list[str] | None = None) -> list[str]:
    """``pages`` when they read as words; else ``second()`` (another extractor's pages, same
    count) when it reads clearly better; else ``pages``, with a warning giving the score:
    appended to ``warnings`` (the document's, which the ingest report names the file in), or
    logged with the file's name when there is no such list."""
    text = " ".join(pages)
    score = word_validity(text)
    if score >= BROKEN_BELOW or len(text.split()) < 20:
        return pages
    try:
        other = second()
    except Exception as exc:  # noqa: BLE001 - the first reading stands
        log.debug("%s: second extraction failed: %s", source, exc)
        other = None
    if other is not None and len(other) == len(pages):
        # Only pages the first reading found text on: empty ones are repeats or scans (OCR's).
        other = [o if p.strip() else p for p, o in zip(pages, other)]
        other_text = " ".join(other)
        other_score = word_validity(other_text)
        if other_score >= score + 0.1 and len(other_text.split()) >= 0.8 * len(text.split()):
            log.info("%s: text read with pdfium (word validity %.2f, pypdf %.2f)", source, other_score, score)
            return [normalise(o) for o in other]
    message = f"text may read badly (word validity {score:.2f}, under {BROKEN_BELOW:.2f})"
    if warnings is None:
        log.warning("%s: %s", source, message)
    else:
        warnings.append(message)
    return pages


def pdfium_pages(data: bytes) -> list[str] | None:
    """Each page's text by pdfium, or None when pypdfium2 is not installed."""
    try:
        import pypdfium2 as pdfium
    except ImportError:
        return None
    document = pdfium.PdfDocument(data)
    try:
        out = []
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            out.append(textpage.get_text_range().replace("\r\n", "\n").replace("\r", "\n"))
            textpage.close()
            page.close()
        return out
    finally:
        document.close()
