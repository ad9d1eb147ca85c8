"""HTML loading: the page's main text only, with its headings, title, declared language and meta.

The article is found by trafilatura, chosen by ``bench/html_extraction.py`` on readability's 130
reference pages (bags of words against the expected text): this loader keeps a median 1.00 of
its words from the article (precision) and 0.985 of the article's words (recall), 3 pages under
0.5 precision, against 0.97 / 1.00 and 11 pages for the block walker below alone (the hub's
loader before, which took the first ``<article>`` even when it was a sidebar card).
readability-lxml scored 1.00 / 1.00 there (on its own project's reference texts) but lost 97%
of one article and took about twice as long. When trafilatura finds little (a page of headings,
a short note), the block walker takes the whole page instead, and the document carries a
warning that menus may be in its text.

Nothing tells an extractor when it took the wrong block, so readability-lxml gives a second
opinion: when under half of trafilatura's words are also in readability's article, the page is
kept with a warning naming the share. On the 130 pages that flags the 3 under 0.5 precision
and one short Japanese page (0.80), and no other.

Comments, ``<esi:*>`` tags, scripts, styles, templates, ``<noscript>`` and hidden elements are
removed before either looks at the page, so none of it reaches the index (pages show text only).
"""

from __future__ import annotations

import re
from collections import Counter

from hub.errors import RejectedDocument
from ingest.language import normalise
from ingest.records import LoadedDocument, Section, set_cites, set_provenance

_ALWAYS_DROP = ["script", "style", "noscript", "template", "iframe", "svg", "canvas", "button",
                "select", "input", "textarea", "head"]
_DROP = ["form", "nav", "footer", "aside"]
_DROP_ROLES = {"navigation", "contentinfo", "banner", "search", "complementary"}
_DROP_CLASS = re.compile(r"(^|[-_ ])(nav|navbar|menu|footer|cookie|breadcrumbs?|sidebar|share|skip)($|[-_ ])", re.I)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"p", "li", "blockquote", "pre", "td", "th", "dd", "dt", "figcaption", "div",
           "section", "article", "main", "caption", "address"} | _HEADINGS
#: Under this many characters (not words: Chinese has no spaces) from trafilatura, the block
#: walker's text is taken when it has more.
_FEW_CHARS = 250
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_YEAR = re.compile(r"\b(1[89]\d\d|20\d\d)\b")
_YEAR_META = ("citation_publication_date", "citation_date", "dc.date", "dc.date.issued", "dcterms.issued",
              "article:published_time", "date", "publication_date", "pubdate")
_AUTHOR_META = ("author", "citation_author", "dc.creator", "dcterms.creator")
_TAG_META = ("keywords", "citation_keywords", "article:tag", "dc.subject")


def load_html(source: str, text: str) -> LoadedDocument:
    """The page's article as sections under its headings, with the page's metadata."""
    # Imported here: trafilatura and its date parsers take 0.35 s and tens of MB, which the
    # parse worker (ingest/worker.py) would otherwise hold under its memory limit from the start.
    import lxml.html
    from lxml import etree

    if not _TAG.search(text):
        raise RejectedDocument(source, "not HTML: no tags found")
    try:
        tree = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        tree = None
    meta = dict(_metadata(tree) if tree is not None else _NO_METADATA)
    provenance = meta.pop("provenance", None)
    cites = meta.pop("cites", None)
    doc = LoadedDocument(sections=[], **meta)
    sections = _main_sections(_clean(tree)) if tree is not None else []
    found = _size(sections)
    if found < _FEW_CHARS:
        try:
            whole = load_html_blocks(source, text)
        except RejectedDocument:
            if not sections:
                raise
        else:
            if _size(whole.sections) > found:
                sections = whole.sections
                doc.title = doc.title or whole.title
                if _size(sections) >= _FEW_CHARS:
                    doc.extra["warnings"] = ["main content not recognised: the whole page's text was "
                                             "indexed, menus or sidebars may be in it"]
    elif sections:
        share = _agreement(sections, text)
        if share is not None and share < _AGREEMENT:
            doc.extra["warnings"] = [f"main content uncertain: a second extractor finds only {share:.0%} of "
                                     "its words in the article, menus or other articles may be in it"]
    if not sections:
        raise RejectedDocument(source, "HTML page has no readable text")
    doc.sections = sections
    set_provenance(doc, provenance)  # after the warnings above, which replace the list
    set_cites(doc, cites)
    if not doc.title:
        doc.title = next((s.heading for s in sections if s.heading), None) or source
    return doc


#: Under this share of our words also in readability's article, the page gets a warning.
_AGREEMENT = 0.5
_WORD = re.compile(r"\w+")


def _agreement(sections: list[Section], text: str) -> float | None:
    """The share of the sections' words (as a multiset) that readability-lxml's article holds;
    None when readability cannot read the page (it is only a second opinion)."""
    import lxml.html
    from readability import Document

    try:
        article = Document(text).summary(html_partial=True)
        theirs = Counter(w.lower() for w in _WORD.findall(lxml.html.fromstring(article).text_content()))
    except Exception:  # noqa: BLE001 - any failure of the second opinion leaves the page as read
        return None
    ours = Counter(w.lower() for s in sections for w in _WORD.findall(f"{s.heading or ''} {s.text}"))
    total = sum(ours.values())
    return sum((ours & theirs).values()) / total if total else None


def _size(sections: list[Section]) -> int:
    return sum(len(s.text) - s.text.count(" ") for s in sections)


def _metadata(tree) -> dict:  # type: ignore[no-untyped-def]
    """Title, declared language, authors, tags, year and provenance from ``<title>``, ``<html lang>`` and meta."""
    metas: dict[str, list[str]] = {}
    for tag in tree.iter("meta"):
        key = (tag.get("name") or tag.get("property") or tag.get("http-equiv") or "").strip().lower()
        value = _norm(tag.get("content") or "")
        if key and value:
            metas.setdefault(key, []).append(value)
    title_tag = tree.find("head/title")  # not an <svg>'s <title> in the body
    title_tag = title_tag if title_tag is not None else next(tree.iter("title"), None)
    title = _norm(title_tag.text_content()) if title_tag is not None else ""
    title = title or next(iter(metas.get("og:title", []) + metas.get("citation_title", [])), "")
    html_tag = tree if tree.tag == "html" else next(tree.iter("html"), None)
    lang = normalise(html_tag.get("lang") if html_tag is not None else None)
    lang = lang or normalise(next(iter(metas.get("content-language", [])), None))
    authors = list(dict.fromkeys(a for k in _AUTHOR_META for a in metas.get(k, []) if "://" not in a))
    tags = list(dict.fromkeys(t.strip() for k in _TAG_META for v in metas.get(k, [])
                              for t in re.split(r"[,;]", v) if t.strip()))
    year = next((int(m.group(1)) for k in _YEAR_META for v in metas.get(k, []) if (m := _YEAR.search(v))), None)
    # <meta name="provenance" content="illustrative">: who wrote the page (ingest/records.py).
    provenance = next(iter(metas.get("provenance", [])), None)
    # <meta name="cites" content="...">, once per study the page reports (ingest/records.py).
    return {"title": title, "language": lang, "authors": authors, "tags": tags, "year": year,
            "provenance": provenance, "cites": metas.get("cites", [])}


_NO_METADATA: dict = {"title": "", "language": None, "authors": [], "tags": [], "year": None, "provenance": None,
                      "cites": []}
_TAG = re.compile(r"<(!--|[A-Za-z][\w:-]*[\s/>])")


def _clean(tree):  # type: ignore[no-untyped-def]
    """The page without what must never be indexed: comments, ``<esi:*>``, scripts, styles,
    templates, ``<noscript>`` and hidden elements."""
    from lxml import etree

    for node in tree.xpath("//comment() | //processing-instruction()"):
        _remove(node)
    for node in tree.iter(etree.Element):
        name = node.tag if isinstance(node.tag, str) else ""
        if (name.startswith("esi:") or name in ("script", "style", "noscript", "template")
                or node.get("hidden") is not None or node.get("aria-hidden") == "true"
                or _HIDDEN_STYLE.search(node.get("style") or "")):
            node.set("data-hub-drop", "")
    for node in tree.xpath("//*[@data-hub-drop]"):
        _remove(node)
    return tree


def _remove(node) -> None:  # type: ignore[no-untyped-def]
    """Take a node out, keeping the text that follows it (lxml stores it on the node as tail)."""
    parent = node.getparent()
    if parent is None:
        return
    tail = node.tail
    previous = node.getprevious()
    parent.remove(node)
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


def _main_sections(tree) -> list[Section]:  # type: ignore[no-untyped-def]
    """trafilatura's main text, cut at its headings."""
    import trafilatura

    # The body trafilatura builds, not its XML output: serialising drops code after a <br>.
    result = trafilatura.bare_extraction(tree, include_tables=True, include_comments=False,
                                         include_images=False, deduplicate=False, with_metadata=False)
    main = getattr(result, "body", None)
    if main is None:
        return []
    sections: list[Section] = []
    heading: str | None = None
    buffer: list[str] = []

    def add(text: str | None) -> None:
        if text and text.strip():
            buffer.append(_norm(text))

    def visit(parent) -> None:  # type: ignore[no-untyped-def]
        nonlocal heading, buffer
        add(parent.text)
        for el in parent:
            if el.tag in _CONTAINERS:
                visit(el)
            elif el.tag == "head":
                if buffer:
                    sections.append(Section(text="\n\n".join(buffer), heading=heading))
                    buffer = []
                heading = _text(el) or heading
            elif el.tag == "list":
                for item in el.findall("item"):
                    add(_text(item))
            elif el.tag == "table":
                for row in el.iter("row"):
                    add(" | ".join(c for cell in row if (c := _text(cell))))
            else:
                add(_text(el))
            add(el.tail)  # text between blocks

    visit(main)
    if buffer:
        sections.append(Section(text="\n\n".join(buffer), heading=heading))
    return sections


#: trafilatura's elements that only hold blocks; and those after which words must not run on.
_CONTAINERS = {"body", "div", "main", "section", "article", "doc"}
_SPACED = _CONTAINERS | {"p", "head", "item", "list", "row", "cell", "quote", "code", "lb", "table"}


def _text(el) -> str:  # type: ignore[no-untyped-def]
    """An element's text, with a space wherever a block or line break ends."""
    parts: list[str] = []

    def walk(node) -> None:  # type: ignore[no-untyped-def]
        parts.append(node.text or "")
        for child in node:
            walk(child)
            if child.tag in _SPACED:
                parts.append(" ")
            parts.append(child.tail or "")

    walk(el)
    return _norm("".join(parts))


def load_html_blocks(source: str, text: str, soup=None) -> LoadedDocument:  # type: ignore[no-untyped-def]
    """The whole page's text, block by block, chrome (menus, footers, sidebars) dropped by name:
    the fallback when trafilatura finds no article, and the hub's extractor before it. ``soup``:
    the page already parsed, which this takes apart."""
    from bs4 import BeautifulSoup, Comment

    if soup is None:
        soup = BeautifulSoup(text, "html.parser")
    if soup.find(True) is None:
        raise RejectedDocument(source, "not HTML: no tags found")
    title_tag = soup.find("title")
    title = _norm(title_tag.get_text(" ")) if title_tag else ""
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(lambda t: t.name.startswith("esi:")):
        tag.decompose()
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
    return LoadedDocument(title=title or first_h1 or source, sections=sections)


def _gone(tag) -> bool:  # type: ignore[no-untyped-def]
    """Decomposed already (with an ancestor). Not ``tag.decomposed``: for a live tag, bs4 looks
    that attribute up as a search of its whole subtree for a child tag named "_decomposed",
    which is quadratic in nesting depth. A decomposed tag has lost its name."""
    return not tag.name


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
