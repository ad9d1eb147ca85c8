"""A document's reference list is metadata, not passages.

A bibliography is a run of study titles: "Effects of improved street lighting on crime",
"Reducing violence by transforming neighborhoods". As passages they match questions that the
document answers elsewhere or not at all, and crowd out the pages that do: on the bundled library,
the summaries' reference pages ranked in the top five for 30 of 151 judged questions, mostly the
wrong document (bench/quality.py, validation half hybrid 0.900 -> 0.890). So the list found under a
references heading is taken out of the text to index and kept as the document's ``cites`` (shown
on its page and in the API), unless the file declares its own.

A heading alone is not enough: the run after it must read as a list of references (most entries
carry a year), so a chapter called "References to the law" stays text.
"""

from __future__ import annotations

import re

from ingest.records import Section

_HEADING = re.compile(
    r"^\s*(?:[0-9IVX]+[.)]?\s+)?(?:references|bibliography|works cited|literature cited|sources|"
    r"références(?: bibliographiques)?|bibliographie|referencias(?: bibliográficas)?|bibliografía)\s*:?\s*$",
    re.IGNORECASE)
#: What ends a reference list before the end of the document.
_AFTER = re.compile(r"^\s*(?:[0-9IVX]+[.)]?\s+)?(?:annex|appendix|annexe|anexo|apéndice)\b", re.IGNORECASE)
_YEAR = re.compile(r"\((?:1[89]|20)\d{2}[a-z]?\)|\b(?:1[89]|20)\d{2}[a-z]?[.,;)]")
#: A line that opens an entry: "Surname, A." / "Surname, Given" / "[12]" / "12." / an organisation
#: followed by a year in parentheses.
_ENTRY_START = re.compile(r"^(?:\[\d+\]|\d+\.\s|[A-ZÀ-ÝŁ][\w'’\-]+(?: [A-ZÀ-Ý][\w'’\-]+)*,\s"
                          r"(?:[A-ZÀ-Ý]\.|[A-ZÀ-Ý][a-zà-ÿ]+[\s,.])|[A-ZÀ-Ý][^()]{1,120}\((?:1[89]|20)\d{2}[a-z]?\))")
_BULLET = re.compile(r"^(?:[-*•]\s+)")
MIN_ENTRIES = 2
MIN_DATED_SHARE = 0.6
MAX_ENTRIES = 500
#: Entries longer than this on average are not a list but prose (a two-column page read across
#: both columns puts body text under the heading).
MAX_MEAN_LENGTH = 400


def entries(text: str) -> list[str]:
    """The entries of a reference list, each on one line (continuation lines joined)."""
    out: list[str] = []
    for line in (_BULLET.sub("", ln.strip()) for ln in text.splitlines()):
        if not line:
            continue
        if out and not _ENTRY_START.match(line):
            out[-1] = f"{out[-1]} {line}"
        else:
            out.append(line)
    return [re.sub(r"\s+", " ", e) for e in out]


def is_reference_list(items: list[str]) -> bool:
    return (len(items) >= MIN_ENTRIES and sum(bool(_YEAR.search(e)) for e in items) >= MIN_DATED_SHARE * len(items)
            and sum(map(len, items)) <= MAX_MEAN_LENGTH * len(items))


def split_references(sections: list[Section]) -> tuple[list[Section], list[str]]:
    """``sections`` without the reference list, and its entries ([] when there is none)."""
    for i, section in enumerate(sections):
        lines = section.text.splitlines()
        whole = bool(section.heading and _HEADING.match(section.heading))
        if whole:  # the section is the list (its first line may repeat the heading)
            start = 1 if lines and _HEADING.match(lines[0]) else 0
        else:
            start = next((n + 1 for n, line in enumerate(lines) if _HEADING.match(line)), -1)
            if start < 0:
                continue
        listed = ["\n".join(lines[start:])]
        end = len(sections)
        for j in range(i + 1, len(sections)):
            nxt = sections[j]
            first = nxt.text.lstrip().split("\n", 1)[0]
            if (nxt.heading and _AFTER.match(nxt.heading)) or _AFTER.match(first):
                end = j
                break
            listed.append(nxt.text)
        found = entries("\n".join(listed))
        if not is_reference_list(found):
            continue
        before = "" if whole else "\n".join(lines[:start - 1])
        kept = sections[:i]
        if before.strip():
            kept.append(Section(text=before, page=section.page, heading=section.heading, language=section.language))
        return kept + sections[end:], found[:MAX_ENTRIES]
    return sections, []
