"""Titles a person would write.

About a quarter of real PDFs carry a title nobody wrote: "Microsoft Word - report.docx", "Book1",
"PowerPoint Presentation", a page number, a table's header row, a file name. A title is taken
from the first source that is not junk (:func:`is_junk_title`): the file's metadata, the largest
text on the first page (PDF), the first meaningful line, and at worst the file name, prettified
("hot-spots_review.pdf" -> "Hot spots review"). Never a path.
"""

from __future__ import annotations

import math
import re
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from typing import Iterable

from ingest.cleaning import BROKEN_BELOW, is_page_number, normalise, word_validity

_FILE_NAME = re.compile(
    r"\.(docx?|pdf|xlsx?|xlsm|csv|pptx?|psd|indd|odt|ods|odp|rtf|txt|exe|ai|eps|tiff?|jpe?g|png|gif|"
    r"html?|qxd|qxp|pub|wpd|pages|key|dotx?)\s*$", re.I)
_GENERIC = re.compile(
    r"^(microsoft\s+(word|excel|powerpoint)\b.*|powerpoint\s+presentation|presentation\d*|"
    r"untitled(\s+document)?\d*|sans\s+titre\d*|sin\s+t[ií]tulo\d*|no\s+title|new\s+document|"
    r"document\d*|book\d*|sheet\d*|slide\s*\d*|title|titre|t[ií]tulo|header|name|contents|"
    r"table\s+of\s+contents|front\s+cover|cover(\s+page)?|couverture|portada|sommaire|[ií]ndice|page\s*\d*|draft|template|default|test|"
    r"adobe\s+\w+\s+document|layout\s*\d*|doc\d+|chapter\s*\d*|chapitre\s*\d*)$", re.I)
_CAPTION = re.compile(r"^(figure|fig\.|table|tableau|tabla|chart|graph(ique)?|gráfico|source)\s*\d*\s*[:.]", re.I)
_URL = re.compile(r"https?://|www\.|\b[\w-]+\.(com|org|net|gov|edu|int)\b", re.I)
#: Words of a table's header row: a "title" made mostly of them is a table header.
_HEADER_WORDS = {"no", "no.", "nr", "date", "name", "amount", "quantity", "qty", "total", "code",
                 "id", "type", "number", "description", "item", "items", "line", "location", "price",
                 "status", "payee", "obligation/service", "unit", "units", "value", "year", "month",
                 "state", "territory", "permit", "notice", "effective", "count", "rate", "%", "#",
                 "address", "city", "county", "company", "ref", "category", "page", "bill", "upc"}


def is_junk_title(title: str | None) -> bool:
    """True for a title no person would write: empty, generic ("Book1", "PowerPoint Presentation",
    "Microsoft Word - x.docx"), a file name or path, a URL, a number ("15", "- 41 -", "xiv"), a
    table's header row, control characters, fewer than 3 letters, or a whole sentence."""
    if title is None:
        return True
    if re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd\ud800-\udfff]", title):
        return True
    text = re.sub(r"\s+", " ", title).strip()
    if not text:
        return True
    letters = sum(ch.isalpha() for ch in text)
    if letters < 3 or is_page_number(text) or not re.search(r"[^\W\d_]{2}", text):
        return True
    visible = sum(not ch.isspace() for ch in text)
    if letters * 2 < visible:  # "DCF-F-2476-E (R. 04/2014)", "88300 162..177"
        return True
    if _GENERIC.match(text) or _FILE_NAME.search(text) or _URL.search(text):
        return True
    if re.search(r"(^|\s)([A-Za-z]:\\|\\\\|~?/)\S", text) or re.match(r"^\S*[/\\]\S*[/\\]\S*$", text):
        return True  # a path
    if " " not in text and ("_" in text or text.count("-") >= 2):
        return True  # a slug or file stem: "905_Precinct_NoOU", "line-char-render-example"
    words = text.split()
    if len(words) > 25 or len(text) > 250:
        return True  # a paragraph, not a title
    if len(words) >= 4 and sum(w.lower().strip("*:") in _HEADER_WORDS for w in words) * 2 >= len(words):
        return True
    if text.count("*") >= 2 or _CAPTION.match(text):
        return True
    if text.count(")") > text.count("(") or text[0] in ",.;:)]}":
        return True  # a fragment of a sentence: "Smith), wanted for ..."
    return False


def tidy(title: str) -> str:
    """One line, no control characters, without a trailing "— page 1"."""
    text = re.sub(r"\s+", " ", normalise(title)).strip()
    text = re.sub(r"\s*[—–-]\s*(page|p\.)\s*\d+\s*$", "", text, flags=re.I)
    return text[:300]


def first_good(candidates: Iterable[str | None]) -> str | None:
    for candidate in candidates:
        if candidate and not is_junk_title(tidy(candidate)):
            return tidy(candidate)
    return None


def meaningful_lines(text: str, limit: int = 12) -> list[str]:
    """The first lines of a text that could be a title, in order."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not is_page_number(line) and not line[0].islower():  # not a sentence's tail
            out.append(line[:250])
        if len(out) >= limit:
            break
    return out


def from_file_name(path: str) -> str:
    """"reports/hot-spots_review.pdf" -> "Hot spots review"; never a path."""
    name = PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name
    stem = PurePath(name).stem if "." in name else name
    words = re.sub(r"[_\-.+]+", " ", stem)
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", words)  # camelCase
    words = re.sub(r"\s+", " ", words).strip()
    if not words:
        return "Untitled document"
    return words[0].upper() + words[1:]


def choose(candidates: Iterable[str | None], path: str) -> str:
    """The first candidate that is not junk, else the prettified file name."""
    return first_good(candidates) or from_file_name(path)


def largest_text(page) -> str | None:  # type: ignore[no-untyped-def]
    """The largest-font line(s) at the top of a pypdf page: where a cover or first page states
    its title. None when the page has one font size (no line stands out)."""
    runs: list[tuple[float, float, str]] = []
    try:
        height = float(page.mediabox.height)
        bottom = float(page.mediabox.bottom)
    except Exception:  # noqa: BLE001
        height, bottom = 0.0, 0.0

    def visit(text, cm, tm, font, size):  # type: ignore[no-untyped-def]
        if not text or not text.strip():
            return
        try:
            scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
            effective = round(float(size) * (scale or 1.0), 1)
            y = float(tm[5]) * (cm[3] or 1.0) + float(cm[5])
        except Exception:  # noqa: BLE001 - odd matrices: skip the run
            return
        if effective > 0:
            runs.append((effective, y, text))

    try:
        page.extract_text(visitor_text=visit)
    except Exception:  # noqa: BLE001 - the plain text was read already; a title is optional
        return None
    if not runs:
        return None
    by_size: dict[float, int] = {}
    for size, _, text in runs:
        by_size[size] = by_size.get(size, 0) + len(text)
    body = max(by_size, key=lambda s: by_size[s])  # the size most text is set in
    top = max(size for size, _, text in runs if sum(c.isalpha() for c in text) >= 2) \
        if any(sum(c.isalpha() for c in t) >= 2 for _, _, t in runs) else 0
    if top < body * 1.15:
        return None
    parts = [text for size, y, text in runs if size >= top * 0.95]
    if height and not any(y >= bottom + height * 0.4 for size, y, _ in runs if size >= top * 0.95):
        return None  # the largest text sits low on the page: a figure or a pull quote
    title = re.sub(r"\s+", " ", " ".join(parts)).strip()
    if not 3 <= len(title) <= 250 or title[0].islower() or word_validity(title) < BROKEN_BELOW:
        return None  # glued runs ("Chapter1 WhatisEarthScience?"): the page's text reads better
    return title
