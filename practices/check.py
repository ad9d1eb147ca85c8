"""``hub practices check``: what a profile says, checked against what it cites.

Each problem is one line naming the file and the field (:class:`Problem`)::

    library/practices/cctv.md: summary: "13 percent" is on no cited page (cited: situational-prevention-public-space.en.pdf p. 2)

The checks:

1. **Numbers.** Every number written in digits in a profile's summary, its translated
   ``summaries``, its ``emmie`` notes and its outcomes' ``size`` and ``note`` appears on a page
   the profile cites. A source with ``pages`` gives those pages; a source without pages, or in a
   format without pages (Markdown, HTML, text), gives the whole document.
2. **Sources.** Every cited file is in the hub (ingested, so its text can be read) and has the
   pages named.
3. **Ratings.** Each outcome's rating meets the scale's definition given the number and design
   of its studies (``ratings.check_outcome``); a method has no outcomes; an intervention without
   outcomes is in the older format (one line saying so).
4. **Forum ids.** Every practice id a forum lists (``practices``) or links (``links``) has a
   profile.
5. **Forum links.** A forum that lists a practice but leads only to a home page for it (a URL
   whose path is empty, ``/``, a bare language code such as ``/fr/``, or ``/index.html``) gives a
   ``reason`` (why no better page exists), or is flagged.
6. **Summaries cite their studies.** A document of provenance ``summary`` (the hub team's
   summary of published research, ingest/records.py) lists the studies it reports (``cites``:
   front matter, HTML ``<meta name="cites">``, PDF ``/Cites``), or is flagged, one line naming
   its file. The documents are those passed as ``documents`` (the hub's, for ``hub practices
   check``).

How numbers are compared. Digit groups are read with their separators: thousands separators
("1,200", "1.200", "1 200" with a space, a no-break or a thin space) and decimal commas ("0,5") are
normalised, so "1,200" in a profile meets "1200" on a page and "13,5 %" meets "13.5%". A group such
as "1,200" or "1.200" is ambiguous (thousands in one language, a decimal in another): it stands for
both readings, and matches when either is on the page. On the cited pages, numbers written as words
("thirteen", "forty", "treize", "cuarenta") count too: a page that says "forty years" supports a
profile that says "40 years". The profile side is digits only.

What is not ignored. Nothing is skipped: years are numbers like any other (a profile that says
"Piza et al. (2019)" needs a cited page naming the 2019 study), and so are single digits. Exempting
the digits 1 to 9 (as list ordinals) was considered and refused: these fields hold prose, not
numbered lists, and the bundled library's 89 numbers in them (53 before its rewrite) hold no single
digit at all, so there is no false alarm to avoid, while an exemption would hide claims such as
"2 randomised trials"; a page that writes the count in words ("two trials") supports it through
the number words above. The studies count of an outcome (``studies``) is a field, not text, and
is not looked for on the pages; its ``note`` is text and is.

At ingest (``Hub.ingest``) the profiles the batch added or updated, and those citing a document it
added or updated, are checked, and the lines become the report's warnings; the forum registry is
not part of an ingest and is checked by ``hub practices check`` only.

The module gets everything it needs passed in (the practices, a function giving the text of a
cited document page by page, the forums), so it runs wherever profiles are: ``hub.core.Hub``
wires it to the catalog, after an ingest and for ``hub practices check``.
"""

from __future__ import annotations

import re
from pathlib import Path
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable, Iterable
from urllib.parse import urlsplit

from practices.profile import Practice, Source, source_path
from practices.ratings import DESIGNS, check_outcome

#: The start of the line for a profile in the older format (the ingest hook uses it not to
#: repeat the warning the profile's validation already gave).
OLDER_FORMAT = "in the older format"


@dataclass(frozen=True)
class Problem:
    """One problem: the file, the field in it, and what is wrong."""
    file: str
    field: str
    problem: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.problem}"

    def to_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Cited:
    """A document a profile cites, as the hub holds it."""
    #: How messages name it (its file name).
    name: str
    #: Its number of pages; None for a format without pages (Markdown, HTML, text).
    page_count: int | None
    #: Its text page by page (key None: the text of a document without pages).
    texts: dict[int | None, str]

    def text_of(self, pages: Iterable[int]) -> str:
        """The text of these pages, or of the whole document when no page is named or the
        format has none."""
        pages = list(pages)
        if not pages or self.page_count is None:
            return "\n".join(self.texts.values())
        return "\n".join(self.texts.get(n, "") for n in pages)


#: ``cited(practice, source)``: the document the source names, or None when it is not in the hub.
CitedOf = Callable[[Practice, Source], "Cited | None"]


def cited_in(catalog: Any) -> CitedOf:
    """``cited(practice, source)`` over a catalog: the cited document's text page by page, found
    by its path resolved from the profile's folder (as practices/linking.py does); a byte-identical
    copy held under another path stands in for it."""
    found: dict[str, Cited | None] = {}

    def cited(practice: Practice, source: Source) -> Cited | None:
        target = source_path(practice, source)
        if target not in found:
            doc = catalog.document_by_path(target)
            if doc is None and (twin := catalog.copy_of(target)) is not None:
                doc = catalog.document(twin)
            found[target] = None if doc is None else _cited_text(doc, catalog.chunks_of(doc.id))
        return found[target]

    return cited


def _cited_text(doc: Any, chunks: list[Any]) -> Cited:
    paged = [c.page for c in chunks if c.page]
    if doc.format != "pdf" and not paged:
        return Cited(Path(doc.source).name, None, {None: "\n".join(c.text for c in chunks)})
    texts: dict[int | None, str] = {}
    for c in chunks:
        texts[c.page] = (texts[c.page] + "\n" if c.page in texts else "") + c.text
    return Cited(Path(doc.source).name, doc.pages or max(paged, default=0), texts)


def check_practices(practices: Iterable[Practice], cited: CitedOf, forums: Iterable[Any] = (), *,
                    file_of: Callable[[Practice], str] | None = None, known_ids: Iterable[str] | None = None,
                    forums_file: str = "forums.yaml", documents: Iterable[Any] = ()) -> list[Problem]:
    """Every problem of these profiles, of these documents (rule 6) and of the forum registry,
    profile by profile.

    ``file_of`` names a profile's file in messages (default: its document id); ``known_ids`` are
    the practice ids that exist (default: those of ``practices``), against which forum entries
    are checked; ``documents`` (catalogued documents: ``source`` and ``extra``) are checked for
    summaries that cite no study."""
    practices = list(practices)
    name_of = file_of or (lambda p: p.doc_id)
    problems: list[Problem] = []
    for p in practices:
        problems += check_practice(p, cited, name_of(p))
    problems += check_summaries(documents)
    forums = list(forums)
    if forums:
        ids = set(known_ids) if known_ids is not None else {p.id for p in practices}
        problems += check_forums(forums, ids, forums_file)
    return problems


def check_practice(p: Practice, cited: CitedOf, file: str) -> list[Problem]:
    problems: list[Problem] = []
    texts, described = [], []
    for i, src in enumerate(p.sources):
        doc = cited(p, src)
        if doc is None:
            problems.append(Problem(file, f"sources[{i}].file",
                                    f"{src.file} is not in the hub (ingest it, or correct the path)"))
            described.append(f"{_base(src.file)} (not in the hub)")
            continue
        pages = src.pages if doc.page_count is not None else []
        beyond = [n for n in pages if n > doc.page_count] if doc.page_count is not None else []
        if beyond:
            problems.append(Problem(file, f"sources[{i}].pages",
                                    f"{doc.name} has {doc.page_count} page{'s' if doc.page_count != 1 else ''}, "
                                    f"not page {', '.join(map(str, beyond))}"))
        texts.append(doc.text_of(pages))
        described.append(doc.name + (f" p. {', '.join(map(str, pages))}" if pages else ""))
    on_pages = page_numbers("\n".join(texts))
    cited_as = f"cited: {'; '.join(described)}" if described else "the profile cites no source"
    for field_name, text in claims(p):
        missing = [shown for shown, values in numbers(text) if not values & on_pages]
        missing = list(dict.fromkeys(missing))
        if missing:
            quoted = ", ".join(f'"{m}"' for m in missing)
            verb = "is" if len(missing) == 1 else "are"
            problems.append(Problem(file, field_name, f"{quoted} {verb} on no cited page ({cited_as})"))
    problems += check_ratings(p, file)
    return problems


def claims(p: Practice) -> list[tuple[str, str]]:
    """The fields whose numbers must be on a cited page: (field, text)."""
    out = [("summary", p.summary)]
    for lang, text in sorted(p.summaries.items()):
        if lang != p.language or text != p.summary:
            out.append((f"summaries.{lang}", text))
    out += [(f"emmie.{key}", text) for key, text in p.emmie.items()]
    for i, o in enumerate(p.outcomes):
        out += [(f"outcomes[{i}].{key}", text) for key, text in (("size", o.size), ("note", o.note)) if text]
    return out


def check_ratings(p: Practice, file: str) -> list[Problem]:
    if p.kind == "method":
        if p.outcomes:
            return [Problem(file, "outcomes", "a method (kind: method) is described, not rated on an effect: "
                                              "remove its outcomes, or make it an intervention")]
        return []
    if not p.outcomes:
        return [Problem(file, "outcomes", f"{OLDER_FORMAT}: a single rating ({p.rating.key}) and no per-outcome "
                                          "ratings; rate each outcome with the number and design of its studies")]
    problems = []
    for i, o in enumerate(p.outcomes):
        reason = check_outcome(o)
        if reason:
            problems.append(Problem(file, f"outcomes[{i}].rating",
                                    f"{reason}; it rests on {_studies(o.studies, o.design)}"))
    return problems


def _studies(n: int | None, design: str | None) -> str:
    if not n:
        return "no study"
    noun = "study" if n == 1 else "studies"
    return f"{n} {noun} ({design})" if design in DESIGNS else f"{n} {noun} of no stated design"


def check_summaries(documents: Iterable[Any]) -> list[Problem]:
    """A line for each document of provenance ``summary`` without ``cites``, in file order."""
    missing = sorted(str(d.source) for d in documents
                     if (d.extra or {}).get("provenance") == "summary" and not (d.extra or {}).get("cites"))
    return [Problem(source, "cites", "provenance is summary but it cites no study: list the studies it reports "
                                     "(cites: in front matter, <meta name=\"cites\"> in HTML, /Cites in a PDF)")
            for source in missing]


# --- forums --------------------------------------------------------------------------------------
_HOME_PATH = re.compile(r"^/?([a-z]{2}([-_][a-z]{2})?/?)?(index\.(html?|php|aspx?)|home/?)?$", re.I)


def is_home_page(url: str) -> bool:
    """A site's home page: no path (or ``/``, a bare language code such as ``/fr/``, ``/index.html``)
    and no query."""
    parts = urlsplit(url)
    return not parts.query and bool(_HOME_PATH.match(parts.path))


def check_forums(forums: Iterable[Any], known_ids: set[str], file: str) -> list[Problem]:
    problems = []
    for forum in forums:
        links = dict(getattr(forum, "links", None) or {})
        reason = getattr(forum, "reason", None)
        where = f"forums[{forum.id}]"
        # (the loader lists a linked practice among the forum's practices: said once, under links)
        unknown = [pid for pid in forum.practices if pid not in known_ids and pid not in links]
        if unknown:
            problems.append(Problem(file, f"{where}.practices", _unknown(unknown)))
        unknown = [pid for pid in links if pid not in known_ids]
        if unknown:
            problems.append(Problem(file, f"{where}.links", _unknown(unknown)))
        home = [pid for pid in dict.fromkeys([*forum.practices, *links])
                if pid in known_ids and is_home_page(str(links.get(pid) or forum.url)) and not _reason_for(reason, pid)]
        if home:
            urls = sorted({str(links.get(pid) or forum.url) for pid in home})
            problems.append(Problem(file, f"{where}.links",
                                    f"only a home page ({', '.join(urls)}) for {', '.join(home)}: link the page "
                                    "on each practice, or give a reason why there is none"))
    return problems


def _reason_for(reason: Any, practice_id: str) -> bool:
    if isinstance(reason, dict):
        return bool(str(reason.get(practice_id) or "").strip())
    return bool(str(reason or "").strip())


def _unknown(ids: list[str]) -> str:
    listed = ", ".join(repr(i) for i in ids)
    return f"unknown practice id{'s' if len(ids) > 1 else ''} {listed} (no profile has {'them' if len(ids) > 1 else 'it'})"


def _base(file: str) -> str:
    return file.replace("\\", "/").rsplit("/", 1)[-1]


# --- numbers -------------------------------------------------------------------------------------
_SPACE = "\u00a0\u202f\u2009 "
# Thousands grouped by spaces ("12 000"), else digits with . or , between them ("1,200.5").
_NUMBER = re.compile(rf"(?<![\d.,])(?:\d{{1,3}}(?:[{_SPACE}]\d{{3}})+(?!\d)(?:[.,]\d+)?|\d+(?:[.,]\d+)*)")
_UNIT = re.compile(r"[ \u00a0\u202f\u2009]?(%|[^\W\d_]+)")


def numbers(text: str) -> list[tuple[str, set[str]]]:
    """Each number in ``text``: as written (with the word after it, "13 percent"), and its
    normalised values (two for an ambiguous "1,200")."""
    out = []
    for m in _NUMBER.finditer(text or ""):
        unit = _UNIT.match(text, m.end())
        shown = m.group(0) + (unit.group(0) if unit else "")
        out.append((shown, values(m.group(0))))
    return out


def values(token: str) -> set[str]:
    """The normalised readings of one number as written."""
    grouped = re.fullmatch(rf"(\d{{1,3}}(?:[{_SPACE}]\d{{3}})+)(?:[.,](\d+))?", token)
    if grouped:
        whole = re.sub(rf"[{_SPACE}]", "", grouped.group(1))
        return {_norm(whole + ("." + grouped.group(2) if grouped.group(2) else ""))}
    parts = re.split(r"([.,])", token)
    digits, seps = parts[0::2], parts[1::2]
    if not seps:
        return {_norm(token)}
    if len(seps) == 1:
        decimal = _norm(f"{digits[0]}.{digits[1]}")
        if len(digits[1]) == 3 and digits[0] != "0" and not digits[0].startswith("0"):
            return {decimal, _norm(digits[0] + digits[1])}  # "1,200": 1200, or 1.2 with a decimal comma
        return {decimal}
    groups_of_3 = all(len(d) == 3 for d in digits[1:-1])
    if len(set(seps)) == 1 and groups_of_3 and len(digits[-1]) == 3:
        return {_norm("".join(digits))}  # "1,234,567"
    if len(set(seps[:-1])) == 1 and seps[-1] != seps[0] and groups_of_3:
        return {_norm("".join(digits[:-1]) + "." + digits[-1])}  # "1,234.5" or "1.234,5"
    return {_norm(d) for d in digits}  # "2.3.1": a section number, its parts


def _norm(text: str) -> str:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


_WORDS = {
    # English
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
    "thousand": 1000, "dozen": 12,
    # French
    "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60, "mille": 1000,
    "douzaine": 12,
    # Spanish ("once", eleven, is left out: in English it means one time)
    "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8,
    "nueve": 9, "diez": 10, "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciséis": 16,
    "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "treinta": 30, "cuarenta": 40,
    "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90, "cien": 100, "ciento": 100,
    "mil": 1000, "docena": 12,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60,
         "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
         "noventa": 90}
_UNITS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "un": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "sept": 7, "huit": 8, "neuf": 9,
          "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9}
_COMPOUND = re.compile(rf"\b({'|'.join(_TENS)})(?:-| y | et |-et-)({'|'.join(_UNITS)})\b", re.I)
_WORD = re.compile(r"[^\W\d_]+")


def page_numbers(text: str) -> set[str]:
    """Every number on the cited pages, normalised: digits (with every reading of an ambiguous
    group, and the parts of a space-grouped one), and numbers written as words."""
    found: set[str] = set()
    for m in _NUMBER.finditer(text or ""):
        found |= values(m.group(0))
        if any(c in _SPACE for c in m.group(0)):
            found |= {_norm(p) for p in re.split(rf"[{_SPACE}]", m.group(0)) if p}
    lowered = (text or "").lower()
    for m in _COMPOUND.finditer(lowered):
        found.add(str(_TENS[m.group(1)] + _UNITS[m.group(2)]))
    for m in re.finditer(r"\bveinti(uno|dós|dos|trés|tres|cuatro|cinco|séis|seis|siete|ocho|nueve)\b", lowered):
        found.add(str(20 + _UNITS[m.group(1).replace("ó", "o").replace("é", "e")]))
    for word in _WORD.findall(lowered):
        if word in _WORDS:
            found.add(str(_WORDS[word]))
    return found
