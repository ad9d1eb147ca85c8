"""Markdown loading: YAML front matter for metadata, ``#`` headings for sections.

Front matter is read by a safe YAML loader that also refuses anchors and aliases (``&a``,
``*a``): a few hundred bytes of nested aliases (the "billion laughs") expand to gigabytes, and an
alias inside its own anchor (``notes: &a [*a]``) makes a structure that cannot be stored. Hand-
written metadata never needs them. The fields the hub reads must have the expected types.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import yaml

from hub.errors import RejectedDocument
from ingest.language import normalise
from ingest.records import LoadedDocument, Section, set_cites, set_provenance

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(---|\.\.\.)[ \t]*(\r?\n|\Z)", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


_ALIASES = "front matter uses YAML aliases (&/*), which the hub does not accept"


class _AliasFound(Exception):
    """Raised by the loader at the first anchor or alias, before anything is built from it."""


class _FrontMatterLoader(yaml.SafeLoader):
    """SafeLoader without anchors and aliases: refused as events, before composing nodes."""

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _AliasFound()
        return super().compose_node(parent, index)


def _load_yaml(block: str) -> Any:
    loader = _FrontMatterLoader(block)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def split_front_matter(source: str, text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT.match(text)
    if not match:
        return {}, text
    try:
        meta = _load_yaml(match.group(1)) or {}
    except _AliasFound:
        raise RejectedDocument(source, _ALIASES) from None
    except yaml.YAMLError as exc:
        # Hand-written front matter often breaks YAML in small ways ("title: Safety: a guide").
        # Simple "key: value" lines still say what the author meant; only give up without them.
        meta = _lenient(match.group(1))
        if not meta:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 2}" if mark else ""
            raise RejectedDocument(source, f"front matter is not valid YAML{where}") from None
    if not isinstance(meta, dict):
        raise RejectedDocument(source, "front matter must be a YAML mapping (key: value lines)")
    _check_types(source, meta)
    return meta, text[match.end():]


_SCALAR = (str, int, float, bool, datetime.date)
#: Fields the hub reads, and the types each may have: one word or number ("text"), a list of
#: them or a comma-separated text ("list"), a year ("year").
_FIELDS = {"title": "text", "language": "text", "lang": "text", "doc_type": "text", "type": "text",
           "source_url": "text", "url": "text", "tags": "list", "authors": "list", "author": "list",
           "year": "year", "date": "year", "provenance": "text"}
_EXPECTED = {"text": "a single text value", "list": "a list of words or a comma-separated text",
             "year": "a year (e.g. 2019) or a date"}


def _check_types(source: str, meta: dict[str, Any]) -> None:
    """One line naming the first field of the wrong type: a list as a title, a mapping as tags."""
    for key, kind in _FIELDS.items():
        value = meta.get(key)
        if value is None:
            continue
        if kind == "text":
            ok = isinstance(value, _SCALAR)
        elif kind == "list":
            ok = isinstance(value, _SCALAR) or (
                isinstance(value, list) and all(isinstance(v, _SCALAR) for v in value))
        else:
            ok = isinstance(value, (int, str, datetime.date)) and not isinstance(value, bool)
        if not ok:
            raise RejectedDocument(source, f"front matter: {key} must be {_EXPECTED[kind]}, "
                                           f"not {_describe(value)}")


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list" if all(isinstance(v, _SCALAR) for v in value) else "a list holding lists or mappings"
    return f"{type(value).__name__} {str(value)[:40]!r}"


def load_markdown(source: str, text: str) -> LoadedDocument:
    meta, body = split_front_matter(source, text)
    sections: list[Section] = []
    heading: str | None = None
    first_heading: str | None = None
    paragraphs: list[str] = []
    current: list[str] = []
    in_code = False

    def end_paragraph() -> None:
        if current:
            paragraphs.append(plain(" ".join(current)))
            current.clear()

    def flush() -> None:
        end_paragraph()
        kept = [p for p in paragraphs if p]
        if kept:
            sections.append(Section(text="\n\n".join(kept), heading=heading))
        paragraphs.clear()

    for line in body.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
            continue
        m = None if in_code else _HEADING.match(line)
        if m:
            flush()
            heading = plain(m.group(2))
            first_heading = first_heading or heading
        elif not line.strip():
            end_paragraph()
        elif re.match(r"^\s*([-*+]|\d+[.)])\s+", line):
            end_paragraph()
            current.append(re.sub(r"^\s*([-*+]|\d+[.)])\s+", "", line))
        else:
            current.append(line.strip())
    flush()
    if not sections:
        raise RejectedDocument(source, "Markdown file has no text besides its front matter")

    return document_from_meta(meta, str(meta.get("title") or first_heading or source), sections)


def document_from_meta(meta: dict[str, Any], title: str, sections: list[Section]) -> LoadedDocument:
    """A loaded document with the metadata of a front matter (Markdown, or plain text that has
    one): the fields the hub reads, ``provenance`` checked, the rest kept in ``extra``."""
    doc = LoadedDocument(
        title=title,
        sections=sections,
        language=normalise(_str(meta.get("language") or meta.get("lang"))),
        doc_type=_str(meta.get("doc_type") or meta.get("type")),
        tags=_list(meta.get("tags")),
        year=_year(meta.get("year") or meta.get("date")),
        authors=_list(meta.get("authors") or meta.get("author")),
        source_url=_str(meta.get("source_url") or meta.get("url")),
        extra={k: v for k, v in meta.items() if k not in {
            "title", "language", "lang", "doc_type", "type", "tags", "year", "date",
            "authors", "author", "source_url", "url", "provenance", "cites"}},
    )
    set_provenance(doc, meta.get("provenance"))
    set_cites(doc, meta.get("cites"))
    return doc


def _lenient(block: str) -> dict[str, Any]:
    """Top-level "key: value" lines, with [a, b] lists; nested blocks are skipped."""
    meta: dict[str, Any] = {}
    for line in block.splitlines():
        m = re.match(r"^([A-Za-z_][\w-]*)\s*:\s*(.*)$", line)
        if not m or line[:1].isspace():
            continue
        key, value = m.group(1), m.group(2).strip()
        if value.startswith("[") and value.endswith("]"):
            meta[key] = [v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip()]
        elif value:
            meta[key] = value.strip("'\"")
    return meta


def plain(text: str) -> str:
    """Markdown inline syntax to plain text: links keep their words, emphasis marks go."""
    text = re.sub(r"!\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"(\*\*|__|\*|_|`)(.+?)\1", r"\2", text)
    text = re.sub(r"^>\s?", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _str(value: Any) -> str | None:
    return str(value).strip() if value not in (None, "") else None


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if str(v).strip()]
    return [str(value)]


def _year(value: Any) -> int | None:
    match = re.search(r"\b(1[89]\d\d|20\d\d)\b", str(value)) if value is not None else None
    return int(match.group(1)) if match else None
