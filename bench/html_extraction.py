"""How well each HTML main-content extractor keeps an article's words, on readability's pages.

    python bench/html_extraction.py [--pages N] [--worst K]

``shared/benchmarks/realworld/readability/test/test-pages/<name>/`` holds a page as saved
(``source.html``) and the article text a person agreed it holds (``expected.html``). Each
extractor's text is compared with the expected text as bags of lower-cased words: precision =
|extracted ∩ expected| / |extracted| (how much of what we index belongs to the article), recall =
|extracted ∩ expected| / |expected| (how much of the article we index). Printed per extractor:
median and worst precision and recall, mean milliseconds per page, and how many pages fall under
0.5 precision (the hub accepts those with a warning naming the file).

Extractors: ``hub`` (ingest/html.py as it is: trafilatura, then the block walker when trafilatura
finds little), ``blocks`` (the block walker alone: the hub's extractor before trafilatura),
``trafilatura`` (its plain text, as ingest/html.py calls it) and ``readability`` (readability-lxml,
which the hub's loader asks for a second opinion).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = ROOT.parent / "shared" / "benchmarks" / "realworld" / "readability" / "test" / "test-pages"
_WORD = re.compile(r"\w+")


def words(text: str) -> Counter:
    return Counter(w.lower() for w in _WORD.findall(text))


def html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").get_text(" ")


def overlap(extracted: Counter, expected: Counter) -> tuple[float, float]:
    common = sum((extracted & expected).values())
    precision = common / sum(extracted.values()) if extracted else 0.0
    recall = common / sum(expected.values()) if expected else 1.0
    return precision, recall


def hub(html: str) -> str:
    from hub.errors import RejectedDocument
    from ingest.html import load_html

    try:
        return _with_headings(load_html("page.html", html))
    except RejectedDocument:
        return ""


def _with_headings(doc) -> str:  # type: ignore[no-untyped-def]
    """The text as indexed: each section's heading (once, when it changes) before its text."""
    return with_headings(doc.sections)


def with_headings(parts) -> str:  # type: ignore[no-untyped-def]
    """Sections or passages (anything with ``heading`` and ``text``) as read: each heading once,
    when it changes, before its text."""
    out, last = [], None
    for part in parts:
        if part.heading and part.heading != last:
            out.append(part.heading)
        last = part.heading
        out.append(part.text)
    return "\n\n".join(out)


def blocks(html: str) -> str:
    from hub.errors import RejectedDocument
    from ingest.html import load_html_blocks

    try:
        return _with_headings(load_html_blocks("page.html", html))
    except RejectedDocument:
        return ""


def trafilatura_text(html: str) -> str:
    import trafilatura

    return trafilatura.extract(html, include_comments=False, include_tables=True, deduplicate=False,
                               fast=False) or ""


def readability_text(html: str) -> str:
    from readability import Document

    return html_text(Document(html).summary(html_partial=True))


def extractors() -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {"hub": hub, "blocks": blocks, "trafilatura": trafilatura_text}
    try:
        import readability  # noqa: F401
    except ImportError:
        print("readability-lxml not installed: skipped", file=sys.stderr)
    else:
        found["readability"] = readability_text
    return found


def measure(pages: list[Path], extract: Callable[[str], str]) -> list[tuple[str, float, float, float]]:
    rows = []
    for page in pages:
        source = (page / "source.html").read_text(encoding="utf-8")
        expected = words(html_text((page / "expected.html").read_text(encoding="utf-8")))
        started = time.perf_counter()
        text = extract(source)
        seconds = time.perf_counter() - started
        precision, recall = overlap(words(text), expected)
        rows.append((page.name, precision, recall, seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=0, help="only the first N pages (0: all)")
    parser.add_argument("--worst", type=int, default=0, help="list each extractor's K lowest-precision pages")
    args = parser.parse_args()
    pages = sorted(p for p in PAGES.iterdir() if (p / "source.html").exists() and (p / "expected.html").exists())
    if args.pages:
        pages = pages[: args.pages]
    print(f"{len(pages)} pages from {PAGES}")
    print(f"{'extractor':<12} {'P median':>8} {'P worst':>8} {'R median':>8} {'R worst':>8} "
          f"{'ms/page':>8} {'P<0.5':>6}")
    results = {}
    for name, extract in extractors().items():
        extract(pages[0].joinpath("source.html").read_text(encoding="utf-8"))  # imports, not timed
        rows = measure(pages, extract)
        results[name] = rows
        precision = [r[1] for r in rows]
        recall = [r[2] for r in rows]
        ms = 1000 * statistics.mean(r[3] for r in rows)
        print(f"{name:<12} {statistics.median(precision):8.3f} {min(precision):8.3f} "
              f"{statistics.median(recall):8.3f} {min(recall):8.3f} {ms:8.1f} "
              f"{sum(p < 0.5 for p in precision):6d}")
    for name, rows in results.items():
        if args.worst:
            worst = sorted(rows, key=lambda r: r[1])[: args.worst]
            print(f"{name} lowest precision: " + ", ".join(f"{r[0]} P={r[1]:.2f} R={r[2]:.2f}" for r in worst))


if __name__ == "__main__":
    main()
