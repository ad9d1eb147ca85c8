"""Records that flow from the loaders, through chunking, into the stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any


@dataclass
class Section:
    """A run of text on one page, under one heading. Loaders yield these; chunking packs them."""

    text: str
    page: int | None = None  # 1-based; None for formats without pages
    heading: str | None = None
    #: The section's own language when it differs from its document's (a profile's translated
    #: summary); None: the document's.
    language: str | None = None


@dataclass
class LoadedDocument:
    """What a loader extracts from one file, before ids and chunks exist."""

    title: str
    sections: list[Section]
    language: str | None = None
    doc_type: str | None = None
    tags: list[str] = field(default_factory=list)
    year: int | None = None
    authors: list[str] = field(default_factory=list)
    source_url: str | None = None
    pages: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(s.text for s in self.sections)


@dataclass
class Chunk:
    """A passage: the unit that is embedded, indexed and cited."""

    id: str
    doc_id: str
    ordinal: int
    text: str
    page: int | None
    heading: str | None
    #: Its own language when it differs from its document's (None: the document's).
    language: str | None = None

    def language_in(self, doc: Any) -> str:
        """The language the passage is written in: its own, else its document's."""
        return self.language or doc.language

    @property
    def body(self) -> str:
        """The text without the heading it opens with: a section's first passage starts with its
        heading, which the encoders read with it; a page that shows the heading above the
        passage need not show it twice."""
        heading = self.heading
        if heading and self.text.startswith(heading):
            return self.text[len(heading):].lstrip(" .:;-\u2013\u2014\n") or self.text
        return self.text

    def to_json(self) -> dict[str, Any]:
        return {"chunk_id": self.id, "page": self.page, "heading": self.heading, "text": self.text}


@dataclass
class Document:
    """A catalogued document: metadata plus its chunks."""

    id: str
    source: str
    title: str
    doc_type: str
    language: str
    content_hash: str
    format: str
    tags: list[str] = field(default_factory=list)
    year: int | None = None
    authors: list[str] = field(default_factory=list)
    source_url: str | None = None
    pages: int | None = None
    size: int = 0
    chunks: list[Chunk] = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    def to_json(self, passages: int | list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """The document as the API and ``hub documents --json`` show it; ``passages``: their
        count (a list of documents) or the passages themselves (one document)."""
        data = {"doc_id": self.id, "source": self.source, "title": self.title, "doc_type": self.doc_type,
                "language": self.language, "format": self.format, "pages": self.pages, "tags": self.tags,
                "year": self.year, "authors": self.authors, "source_url": self.source_url,
                "provenance": self.extra.get("provenance"), "cites": list(self.extra.get("cites") or []),
                "warnings": list(self.extra.get("warnings") or [])}
        if passages is not None:
            data["passages"] = passages
        return data


#: Who wrote a document (``Document.extra["provenance"]``), declared by the file: Markdown or plain
#: text front matter ``provenance: ...``, HTML ``<meta name="provenance" content="...">``, PDF
#: document information ``/Provenance``. "illustrative": written for the hub to illustrate a
#: practice (its scenario may be invented); "summary": written for the hub, summarising published
#: research and programmes, which it cites; "original": published by the author it names.
PROVENANCE = ("illustrative", "summary", "original")


def set_provenance(doc: LoadedDocument, value: object) -> None:
    """Store a declared provenance in ``doc.extra``; an unknown value is dropped with a warning."""
    if value in (None, ""):
        doc.extra.pop("provenance", None)
        return
    text = str(value).strip().lower()
    if text in PROVENANCE:
        doc.extra["provenance"] = text
    else:
        doc.extra.pop("provenance", None)
        doc.extra.setdefault("warnings", []).append(
            f"provenance {str(value)[:40]!r} is not one of {', '.join(PROVENANCE)}; ignored")


def set_cites(doc: LoadedDocument, value: object) -> None:
    """Store the studies a document cites (``cites`` front matter, HTML ``<meta name="cites">``,
    PDF ``/Cites``) in ``doc.extra["cites"]``: a list gives one reference an item, a text one a
    line (references hold commas); blanks, repeats and items that are not text go."""
    if isinstance(value, str):
        items: list[Any] = value.splitlines()
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    refs = [" ".join(str(v).split()) for v in items
            if isinstance(v, (str, int, float, date)) and not isinstance(v, bool)]
    refs = list(dict.fromkeys(r for r in refs if r))
    if refs:
        doc.extra["cites"] = refs
