"""A brief as Markdown, print-ready HTML and PDF, with numbered citations and a reference list.

One layout feeds all three: :func:`layout` turns a brief into blocks in which every text taken
from the library carries the number of its source (document title and page), numbered in order
of first use. The writers only decide how blocks look, so the three exports cannot disagree.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from jinja2 import Environment, select_autoescape

from hub.briefs import Brief
from practices.ratings import DESIGNS, DIRECTIONS, SCALE, STRENGTHS, strength

QUOTE_CHARS = 900

#: Translates the exports' own words (labels, rating meanings); identity gives English. The web
#: app passes its catalog for the reader's interface language.
Gettext = Callable[..., str]


def _english(message: str, **values: object) -> str:
    return message.format(**values) if values else message


@dataclass
class Reference:
    number: int
    title: str
    page: int | None
    #: Who wrote the document, when the hub did (``PROVENANCE_NOTES``): "illustrative text written for the hub".
    note: str = ""

    def text(self) -> str:
        text = f"{self.title}, p. {self.page}" if self.page else self.title
        return f"{text} ({self.note})" if self.note else text


#: A reference's note for a document's declared provenance (``Document.extra["provenance"]``);
#: "original" (published by the authors it names) needs none.
PROVENANCE_NOTES = {"illustrative": "illustrative text written for the hub", "summary": "summary written for the hub"}


@dataclass
class Block:
    kind: str  # practice, passage, note
    heading: str
    rating: tuple[str, str] | None = None  # label, meaning
    text: str = ""
    cite: int | None = None
    quotes: list[tuple[str, int]] = field(default_factory=list)
    note: str = ""
    #: A practice's rating per outcome, one line each (``outcome_line``), and how the headline
    #: rating is derived from them (``headline_rule``).
    outcomes: list[str] = field(default_factory=list)
    rule: str = ""
    #: The evidence map (kind "map"): its table (header, then one row per practice) and its SVG.
    table: list[list[str]] = field(default_factory=list)
    svg: str = ""


@dataclass
class Layout:
    title: str
    byline: str
    labels: dict[str, str]
    context: list[tuple[str, str]]
    notes: str
    blocks: list[Block]
    references: list[Reference]


def layout(brief: Brief, _: Gettext = _english) -> Layout:
    refs: dict[tuple[str, int | None], Reference] = {}

    def cite(doc_id: str | None, title: str | None, page: int | None) -> int:
        key = (doc_id or title or "?", page)
        if key not in refs:
            note = PROVENANCE_NOTES.get(getattr(brief, "provenance", {}).get(doc_id or ""), "")
            refs[key] = Reference(len(refs) + 1, title or doc_id or "untitled", page, _(note) if note else "")
        return refs[key].number

    blocks = []
    for item in brief.items:
        if item.kind == "practice":
            rating = SCALE.get(item.rating or "")
            block = Block("practice", item.heading or item.practice_id or "practice",
                          rating=(_(rating.label), _(rating.meaning)) if rating else None, text=item.text,
                          cite=cite(item.doc_id, item.doc_title, None), note=item.note,
                          outcomes=[outcome_line(o, _, full=True) for o in item.outcomes],
                          rule=headline_rule(item.rating, item.outcomes, _) if rating else "")
            for ev in item.evidence:
                block.quotes.append((_clip(ev["text"]), cite(ev["doc_id"], ev["doc_title"], ev.get("page"))))
            blocks.append(block)
        elif item.kind == "passage":
            blocks.append(Block("passage", item.heading or item.doc_title or "passage", note=item.note,
                                quotes=[(_clip(item.text), cite(item.doc_id, item.doc_title, item.page))]))
        elif item.kind == "map":
            blocks.append(map_block(item, _))
        else:
            blocks.append(Block("note", item.heading or "", text=item.text))
    context = [(_(label), value) for label, value in (("Question", brief.question), ("City", brief.city),
                                                      ("Problem", brief.problem), ("Partners", brief.partners))
               if value]
    date = time.strftime("%Y-%m-%d", time.localtime(brief.updated_at))
    labels = {"rating": _("Evidence rating"), "note": _("Advisor's note:"), "references": _("References"),
              "outcomes": _("What the evidence says, outcome by outcome")}
    return Layout(brief.title, _("Technical-support brief prepared by {author}, {date}.", author=brief.author,
                                 date=date),
                  labels, context, brief.notes, blocks, sorted(refs.values(), key=lambda r: r.number))


def outcome_line(o: dict[str, Any], _: Gettext = _english, full: bool = False) -> str:
    """One outcome's rating in a line, from ``Outcome.to_json()``: "Crime: Effective (strong
    evidence, 76 studies)"; ``full`` adds the impact, the design of the studies and the size of
    the effect where known. Shared by the exports, the CLI and (as a macro) the web pages."""
    found = SCALE.get(o.get("rating") or "")
    line = _("{outcome}: {rating}", outcome=_(o.get("label") or o.get("outcome") or "?"),
             rating=_(found.label) if found else str(o.get("rating_label") or o.get("rating") or "?"))
    if full and o.get("direction") in DIRECTIONS and o["direction"] != "unknown":
        line += "; " + _("impact: {impact}", impact=_(DIRECTIONS[o["direction"]]))
    n = o.get("studies")
    level = o.get("strength") or strength(n, o.get("design"))
    details = []
    if level in STRENGTHS and level != "none":
        details.append(_("{strength} evidence", strength=_(STRENGTHS[level]).lower()))
    if n:
        details.append(_("1 study") if n == 1 else _("{n} studies", n=n))
    if full and o.get("design") in DESIGNS:
        details.append(_(DESIGNS[o["design"]]))
    if details:
        line += " (" + ", ".join(details) + ")"
    if full and o.get("size"):
        line += "; " + str(o["size"])
    return line


def headline_rule(rating_key: str | None, outcomes: list[dict[str, Any]], _: Gettext = _english) -> str:
    """How the headline rating was derived (practices/ratings.py ``headline``), in one line."""
    if rating_key == "method":
        return _("Method: a tool for diagnosis or consultation, not rated on effect.")
    if outcomes:
        primary = _(outcomes[0].get("label") or outcomes[0].get("outcome") or "?")
        return _("Headline: the rating of its primary outcome, {outcome}; harmful if any outcome is harmed.",
                 outcome=primary[:1].lower() + primary[1:])
    return _("Headline: a single rating, from a profile in the older format (no rating per outcome).")


def map_block(item: Any, _: Gettext = _english) -> Block:
    """The evidence map a brief copied (hub/briefs.py ``add_map``), redrawn from the copy: the
    filters, methods and unrated practices in words, the table, and the SVG (no links: an export
    stands alone)."""
    from practices import evidence_map

    meta = json.loads(item.text or "{}")
    filters = meta.get("filters") or {}
    label = evidence_map.outcome_label(filters.get("outcome", ""), _)
    words = [f"{_('Outcome')}: {label}."]
    for key, name in (("theme", "Theme"), ("population", "Population"), ("level", "Prevention level")):
        if filters.get(key):
            words.append(f"{_(name)}: {_(filters[key]) if key == 'level' else filters[key]}.")
    if meta.get("methods"):
        words.append(f"{_('Methods: not rated on effect')}: {', '.join(m[1] for m in meta['methods'])}.")
    if meta.get("unrated"):
        words.append(f"{_('Not rated on this outcome')}: {', '.join(u[1] for u in meta['unrated'])}.")
    points = list(item.evidence)
    return Block("map", f"{_('Evidence map')}: {label}", text=" ".join(words), note=item.note,
                 table=[evidence_map.table_head(_), *evidence_map.table_cells(points, _)],
                 svg=evidence_map.render_svg(points, _, outcome_label=label, link=False,
                                             ident=f"evidence-map-{item.id}"))


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_CHARS else text[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"


# --- Markdown -----------------------------------------------------------------------------------
def to_markdown(brief: Brief, _: Gettext = _english) -> str:
    doc = layout(brief, _)
    out = [f"# {_md(doc.title)}", "", f"*{_md(doc.byline)}*", ""]
    for label, value in doc.context:
        out += [f"**{label}:** {_md(value)}", ""]
    if doc.notes:
        out += [_md(doc.notes), ""]
    for n, block in enumerate(doc.blocks, start=1):
        out += [f"## {n}. {_md(block.heading)}" if block.heading else f"## {n}.", ""]
        if block.rating:
            out += [f"**{doc.labels['rating']}: {block.rating[0]}.** {block.rating[1]}", ""]
        if block.outcomes:
            out += [f"**{doc.labels['outcomes']}:**", ""] + [f"- {_md(line)}" for line in block.outcomes] + [""]
        if block.rule:
            out += [f"*{_md(block.rule)}*", ""]
        if block.text:
            out += [_md(block.text) + (f" [{block.cite}]" if block.cite else ""), ""]
        for quote, number in block.quotes:
            out += [f"> {_md(quote)} [{number}]", ""]
        if block.table:
            cell = lambda text: _md(text).replace("|", "\\|")  # noqa: E731
            out += ["| " + " | ".join(cell(c) for c in block.table[0]) + " |",
                    "|" + "---|" * len(block.table[0])]
            out += ["| " + " | ".join(cell(c) for c in row) + " |" for row in block.table[1:]] + [""]
        if block.note:
            out += [f"*{doc.labels['note']}* {_md(block.note)}", ""]
    if doc.references:
        out += [f"## {doc.labels['references']}", ""]
        out += [f"{r.number}. {_md(r.text())}" for r in doc.references]
        out.append("")
    return "\n".join(out)


_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")


def _md(text: str) -> str:
    """Library text is data, not markup: neutralise what Markdown would turn into HTML, entities or
    links with backslash escapes, so the file still reads as written ("a < b" stays "a < b"; only a
    ``<`` that could open a tag or an autolink gets a backslash). Markdown is not HTML: writing
    ``&lt;`` would show the entity to anyone reading the file as text."""
    escaped = text.replace("\\", "\\\\")
    escaped = _TAG_START.sub(r"\\<", _ENTITY.sub(r"\\&", escaped))
    escaped = escaped.replace("[", "\\[").replace("]", "\\]")
    paragraphs = (" ".join(part.split()) for part in escaped.split("\n\n") if part.strip())
    # a paragraph opening with ">" would become a quotation
    return "\n\n".join("\\" + p if p.startswith(">") else p for p in paragraphs)


# --- HTML ---------------------------------------------------------------------------------------
_HTML = """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<title>{{ doc.title }}</title>
<style>
body { font: 11pt/1.5 Georgia, "Times New Roman", serif; max-width: 46em; margin: 2em auto; color: #111; padding: 0 1em; }
h1 { font-size: 1.7em; margin-bottom: .2em; } h2 { font-size: 1.2em; margin-top: 1.6em; break-after: avoid; }
.byline { color: #555; font-style: italic; } dl.context dt { font-weight: bold; } dl.context dd { margin: 0 0 .5em 0; }
blockquote { margin: .6em 0; padding-left: 1em; border-left: 3px solid #999; }
.rating { border: 1px solid #999; padding: .4em .6em; break-inside: avoid; }
.note { background: #f4f4f4; padding: .4em .6em; } sup { font-size: .75em; }
ul.outcomes { margin: .3em 0; } .outcomes-label { margin-bottom: 0; } .rule { color: #555; font-size: .95em; }
ol.references li { margin-bottom: .3em; }
figure.map { margin: .8em 0; } figure.map svg { max-width: 100%; height: auto; }
table.map { border-collapse: collapse; width: 100%; font-size: .9em; } table.map th, table.map td { border-bottom: 1px solid #bbb; padding: .2em .4em; text-align: left; vertical-align: top; }
@media print { body { margin: 0; max-width: none; } a { color: inherit; text-decoration: none; } section { break-inside: avoid-page; } }
@page { size: A4; margin: 2cm; }
</style></head><body>
<h1>{{ doc.title }}</h1>
<p class="byline">{{ doc.byline }}</p>
{% if doc.context %}<dl class="context">{% for label, value in doc.context %}<dt>{{ label }}</dt><dd>{{ value }}</dd>{% endfor %}</dl>{% endif %}
{% if doc.notes %}{% for para in doc.notes.split("\\n\\n") %}<p>{{ para }}</p>{% endfor %}{% endif %}
{% for block in doc.blocks %}<section>
<h2>{{ loop.index }}. {{ block.heading }}</h2>
{% if block.rating %}<p class="rating"><strong>{{ doc.labels.rating }}: {{ block.rating[0] }}.</strong> {{ block.rating[1] }}</p>{% endif %}
{% if block.outcomes %}<p class="outcomes-label"><strong>{{ doc.labels.outcomes }}:</strong></p>
<ul class="outcomes">{% for line in block.outcomes %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
{% if block.rule %}<p class="rule"><em>{{ block.rule }}</em></p>{% endif %}
{% if block.text %}<p>{{ block.text }}{% if block.cite %} <sup><a href="#ref-{{ block.cite }}">[{{ block.cite }}]</a></sup>{% endif %}</p>{% endif %}
{% for quote, number in block.quotes %}<blockquote>{{ quote }} <sup><a href="#ref-{{ number }}">[{{ number }}]</a></sup></blockquote>{% endfor %}
{% if block.svg %}<figure class="map">{{ block.svg|safe }}</figure>{% endif %}
{% if block.table %}<table class="map"><thead><tr>{% for c in block.table[0] %}<th scope="col">{{ c }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in block.table[1:] %}<tr><th scope="row">{{ row[0] }}</th>{% for c in row[1:] %}<td>{{ c }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>{% endif %}
{% if block.note %}<p class="note"><em>{{ doc.labels.note }}</em> {{ block.note }}</p>{% endif %}
</section>{% endfor %}
{% if doc.references %}<h2>{{ doc.labels.references }}</h2>
<ol class="references">{% for r in doc.references %}<li id="ref-{{ r.number }}" value="{{ r.number }}">{{ r.text() }}</li>{% endfor %}</ol>{% endif %}
</body></html>
"""
_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def to_html(brief: Brief, _: Gettext = _english, lang: str = "en") -> str:
    return _ENV.from_string(_HTML).render(doc=layout(brief, _), lang=lang)


# --- PDF ----------------------------------------------------------------------------------------
_PDF_REPLACE = {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                "\u2026": "...", "\u0153": "oe", "\u0152": "OE", "\u20ac": "EUR", "\u00a0": " ", "\u202f": " ",
                "\u2022": "-", "\u2212": "-"}


def to_pdf(brief: Brief, _: Gettext = _english) -> bytes:
    """An A4 PDF with the built-in Helvetica (no font files to ship); characters outside
    Latin-1 are spelled out or replaced, as French and Spanish text needs none beyond it."""
    from fpdf import FPDF

    doc = layout(brief, _)
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_title(_latin(doc.title))
    pdf.set_author(_latin(brief.author))
    pdf.set_creator("Urban Safety Knowledge Hub")
    pdf.add_page()

    def para(text: str, size: float = 10.5, style: str = "", height: float = 5.4, indent: float = 0) -> None:
        pdf.set_font("helvetica", style, size)
        pdf.set_x(pdf.l_margin + indent)
        pdf.multi_cell(pdf.epw - indent, height, _latin(text), new_x="LMARGIN", new_y="NEXT")

    para(doc.title, size=18, style="B", height=8)
    para(doc.byline, size=9.5, style="I")
    pdf.ln(3)
    for label, value in doc.context:
        para(f"{label}: {value}", size=10.5)
    if doc.notes:
        pdf.ln(2)
        para(doc.notes)
    for n, block in enumerate(doc.blocks, start=1):
        pdf.ln(4)
        para(f"{n}. {block.heading}", size=13, style="B", height=6.5)
        if block.rating:
            para(f"{doc.labels['rating']}: {block.rating[0]}. {block.rating[1]}", size=10, style="B")
        if block.outcomes:
            para(f"{doc.labels['outcomes']}:", size=10, style="B")
            for line in block.outcomes:
                para(f"- {line}", size=10, indent=4)
        if block.rule:
            para(block.rule, size=9.5, style="I")
        if block.text:
            para(block.text + (f" [{block.cite}]" if block.cite else ""))
        for quote, number in block.quotes:
            pdf.ln(1)
            para(f"\u201c{quote}\u201d [{number}]", size=10, style="I", indent=6)
        if block.table:
            pdf.ln(1)
            para(" | ".join(block.table[0]), size=9.5, style="B")
            for row in block.table[1:]:
                para(f"- {row[0]}: " + "; ".join(row[1:]), size=9.5, indent=4)
        if block.note:
            pdf.ln(1)
            para(f"{doc.labels['note']} {block.note}", size=10)
    if doc.references:
        pdf.ln(5)
        para(doc.labels["references"], size=13, style="B", height=6.5)
        for r in doc.references:
            para(f"{r.number}. {r.text()}", size=10)
    return bytes(pdf.output())


def _latin(text: str) -> str:
    for char, repl in _PDF_REPLACE.items():
        text = text.replace(char, repl)
    return text.encode("latin-1", "replace").decode("latin-1")


EXPORTERS: dict[str, tuple[Any, str, str]] = {
    "md": (to_markdown, "text/markdown; charset=utf-8", "md"),
    "html": (to_html, "text/html; charset=utf-8", "html"),
    "pdf": (to_pdf, "application/pdf", "pdf"),
}


def render(brief: Brief, fmt: str, lang: str = "en") -> str | bytes:
    """The brief in one format, its own labels in ``lang`` (the library's text stays as written)."""
    from hub.i18n import translator

    write = EXPORTERS[fmt][0]
    gettext = translator(lang)
    return write(brief, gettext, lang) if fmt == "html" else write(brief, gettext)


def fingerprint(brief: Brief) -> str:
    """A hash of everything an export shows: equal fingerprints, equal exports. The share link is
    left out (sharing does not change the text)."""
    content = {k: v for k, v in brief.to_json().items() if k not in ("shared", "share_token")}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class ExportCache:
    """Rendered exports, kept until their brief changes: a long brief's PDF took 21 s to write,
    and anyone holding a share link could ask for it again and again.

    Keyed on (brief, format, language) and checked against the brief's :func:`fingerprint`, so an
    edit makes the next request render afresh. At most ``max_bytes`` are kept (least recently used
    go first), and concurrent requests for the same export wait for one rendering instead of each
    starting their own."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[int, str, str], tuple[str, str | bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self._rendering: dict[tuple[int, str, str], threading.Lock] = {}
        self.renders = 0  # how many times a brief was actually rendered (tests, logs)

    def get(self, brief: Brief, fmt: str, lang: str = "en") -> str | bytes:
        key = (brief.id, fmt, lang)
        mark = fingerprint(brief)
        hit = self._lookup(key, mark)
        if hit is not None:
            return hit
        with self._lock:
            gate = self._rendering.setdefault(key, threading.Lock())
        with gate:
            hit = self._lookup(key, mark)  # rendered by whoever held the gate before us
            if hit is not None:
                return hit
            body = render(brief, fmt, lang)
            self._store(key, mark, body)
        with self._lock:
            if not gate.locked():
                self._rendering.pop(key, None)
        return body

    def _lookup(self, key: tuple[int, str, str], mark: str) -> str | bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != mark:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def _store(self, key: tuple[int, str, str], mark: str, body: str | bytes) -> None:
        size = _size(body)
        with self._lock:
            self.renders += 1
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= _size(old[1])
            if size > self.max_bytes:
                return
            self._entries[key] = (mark, body)
            self._size += size
            while self._size > self.max_bytes and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._size -= _size(dropped)


def _size(body: str | bytes) -> int:
    return len(body) if isinstance(body, bytes) else len(body) * 4
