"""HTML loading: the page's main text only, with its headings, title and declared language.

Navigation, scripts, styles, forms and footers are dropped before any text is taken, so menus do
not pollute passages and no markup from the page ever reaches the index (pages show text only).
"""

from __future__ import annotations

import re

from hub.errors import RejectedDocument
from ingest.language import normalise
from ingest.records import LoadedDocument, Section

_ALWAYS_DROP = ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "button",
                "select", "input", "textarea", "head"]
_DROP = ["form", "nav", "footer", "aside"]
_DROP_ROLES = {"navigation", "contentinfo", "banner", "search", "complementary"}
_DROP_CLASS = re.compile(r"(^|[-_ ])(nav|navbar|menu|footer|cookie|breadcrumbs?|sidebar|share|skip)($|[-_ ])", re.I)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"p", "li", "blockquote", "pre", "td", "th", "dd", "dt", "figcaption", "div",
           "section", "article", "main", "caption", "address"} | _HEADINGS


def load_html(source: str, text: str) -> LoadedDocument:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(text, "html.parser")
    if soup.find(True) is None:
        raise RejectedDocument(source, "not HTML: no tags found")
    title_tag = soup.find("title")
    title = _norm(title_tag.get_text(" ")) if title_tag else ""
    html_tag = soup.find("html")
    lang = normalise(html_tag.get("lang") if html_tag else None)  # type: ignore[union-attr]
    if not lang:
        meta = soup.find("meta", attrs={"http-equiv": re.compile("content-language", re.I)})
        lang = normalise(meta.get("content") if meta else None)  # type: ignore[union-attr]
    meta_author = soup.find("meta", attrs={"name": "author"})
    authors = [meta_author["content"].strip()] if meta_author and meta_author.get("content") else []

    for tag in soup.find_all(_ALWAYS_DROP):
        tag.decompose()
    total = len(_norm(soup.get_text(" "))) or 1

    def chrome(tag) -> bool:  # type: ignore[no-untyped-def]
        """Site furniture, unless it holds the page itself: some sites wrap everything in a
        <form> (ASP.NET) or give the content column a class like "sidebar-layout"."""
        if tag.find(("main", "article", "h1")) is not None:
            return False
        return len(_norm(tag.get_text(" "))) < 0.5 * total

    for tag in soup.find_all(_DROP):
        if not _gone(tag) and chrome(tag):
            tag.decompose()
    for tag in soup.find_all(True):
        if _gone(tag):
            continue
        if tag.get("role") in _DROP_ROLES or tag.get("aria-hidden") == "true" or tag.has_attr("hidden"):
            if chrome(tag):
                tag.decompose()
        elif tag.name not in ("body", "main", "article", "html") and _DROP_CLASS.search(
            " ".join(tag.get("class") or []) + " " + (tag.get("id") or "")
        ) and chrome(tag):
            tag.decompose()

    root = soup.find("main") or soup.find("article") or soup.find("body") or soup
    # A page-level <header> outside <main> is site chrome; inside an article it holds the title.
    if root.name == "body":
        for header in root.find_all("header"):
            if header.find("h1") is None:
                header.decompose()

    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []
    first_h1: str | None = None

    def flush() -> None:
        if buffer:
            sections.append(Section(text="\n\n".join(buffer), heading=heading))
            buffer.clear()

    blocks = root.find_all(_BLOCKS)
    # Which blocks hold other blocks, in one pass up from each block (stopping at an ancestor
    # already marked): asking each block `el.find(_BLOCKS)` walked its whole subtree, which
    # made 100,000 nested <div>s take minutes.
    containers: set[int] = set()
    for el in blocks:
        for parent in el.parents:
            if id(parent) in containers:
                break
            containers.add(id(parent))
    for el in blocks:
        if el.name in _HEADINGS:
            flush()
            heading = _norm(el.get_text(" "))
            if el.name == "h1" and first_h1 is None:
                first_h1 = heading
            continue
        if id(el) in containers:
            # Text sitting directly in a container next to child blocks.
            own = _norm(" ".join(s for s in el.find_all(string=True, recursive=False)))
            if own:
                buffer.append(own)
            continue
        piece = _norm(el.get_text(" "))
        if piece:
            buffer.append(piece)
    flush()
    if not sections:
        # Text without block tags (lines separated by <br>, say): take it as it is.
        loose = _norm(root.get_text(" "))
        if len(loose.split()) >= 3:
            sections.append(Section(text=loose, heading=heading))
    if not sections:
        raise RejectedDocument(source, "HTML page has no readable text")
    return LoadedDocument(title=title or first_h1 or source, sections=sections, language=lang, authors=authors)


def _gone(tag) -> bool:  # type: ignore[no-untyped-def]
    """Decomposed already (with an ancestor). Not ``tag.decomposed``: for a live tag, bs4 looks
    that attribute up as a search of its whole subtree for a child tag named "_decomposed",
    which is quadratic in nesting depth. A decomposed tag has lost its name."""
    return not tag.name


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
