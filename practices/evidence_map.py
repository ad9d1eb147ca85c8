"""The evidence map: every practice at a glance, as the Crime Reduction Toolkit's chart shows it.

One bubble per practice, for one outcome at a time:

- **x, the strength of the evidence** (``ratings.strength``, the toolkit's quality levels), weakest
  on the left: no evidence, very limited, limited, moderate, strong. A profile in the older format
  (a single rating, no per-outcome studies) has no graded strength: it is drawn in a column of its
  own at the far left, "not graded", with a dashed outline, rather than passed off as "no evidence".
- **y, the effect on the outcome**, read from the outcome's rating, best at the top:
  effective (rigorous evidence that it improves the outcome), promising, mixed or insufficient
  (the evaluations disagree, or are too few to tell), no effect, and harmful (it makes the outcome
  worse) at the bottom.
- **size, the number of studies** the rating rests on (area grows with the count, up to 100).
- **colour, the rating**, never alone: each bubble carries the rating's symbol (``++`` effective,
  ``+`` promising, ``±`` mixed, ``?`` insufficient, ``0`` no effect, ``−`` harmful), which the
  legend explains, and its row says the same.

The outcome is chosen: by default each practice's primary outcome (the first it lists, what it is
for); else one outcome (crime, violence, fear...), and practices that do not rate it are listed as
"not rated on this outcome". Older-format profiles are placed on the default view only, by their
headline rating, since their single rating names no outcome. Methods (diagnosis and consultation
tools) are not rated on an effect: they are listed apart, never plotted.

Bubbles sharing a cell (same strength, same row) are stacked one under the other with their
labels to the right, so no two bubbles or labels overlap; a row grows to hold its fullest cell.

Pure functions, no web framework: the web page and API (web/) and brief exports (hub/) both build
on :func:`build` and :func:`render_svg`. ``render_svg`` draws from plain rows (:meth:`Point.to_json`)
so a brief can redraw the map it copied, years later, without the library.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable
from xml.sax.saxutils import escape

from hub.errors import InvalidQuery
from practices.ratings import LEVELS, OUTCOMES, SCALE, STRENGTHS

Gettext = Callable[..., str]


def _english(message: str, **values: object) -> str:
    return message.format(**values) if values else message


#: x: the strength of the evidence, weakest first (index = x).
STRENGTH_ORDER = ("none", "very-limited", "limited", "moderate", "strong")
#: The column for older profiles, whose strength is not graded.
UNGRADED = "unknown"
#: y: the rows, worst first (index = y); a rating maps onto one row.
ROWS = ("harmful", "no-effect", "mixed-insufficient", "promising", "effective")
ROW_OF = {"harmful": 0, "no-effect": 1, "mixed": 2, "insufficient": 2, "promising": 3, "effective": 4}
ROW_LABELS = {
    "harmful": "Harmful (makes it worse)",
    "no-effect": "No effect",
    "mixed-insufficient": "Mixed or unclear",
    "promising": "Promising",
    "effective": "Effective",
}
#: The rating's symbol, drawn in its bubble: colour is never the only cue.
SYMBOLS = {"effective": "++", "promising": "+", "mixed": "±", "insufficient": "?", "no-effect": "0",
           "harmful": "−"}
#: Fill and text colours: dark and light alternate along the scale, so neighbours differ in
#: lightness as well as hue (readable in greyscale and by people who do not see red and green).
COLOURS = {
    "effective": ("#1b5e20", "#ffffff"),
    "promising": ("#8fd18a", "#111111"),
    "mixed": ("#e69f00", "#111111"),
    "insufficient": ("#d0d0d0", "#111111"),
    "no-effect": ("#6d4c41", "#ffffff"),
    "harmful": ("#b3261e", "#ffffff"),
}
PRIMARY = "primary"
MAX_STUDIES = 100


def radius(studies: int | None) -> float:
    """The bubble's radius in pixels: 9 with no study (room for its symbol), growing with the
    square root of the count (so the area follows the number of studies), 22 from 100 studies on."""
    n = max(0, min(studies or 0, MAX_STUDIES))
    return round(9 + 1.3 * math.sqrt(n), 1)


@dataclass
class Point:
    practice_id: str
    name: str
    outcome: str  # the outcome's key, or "" for an older profile's single rating
    outcome_label: str
    rating: str
    strength: str  # STRENGTH_ORDER, or UNGRADED
    studies: int | None
    design: str | None
    direction: str | None
    x: int | None  # index in STRENGTH_ORDER; None when not graded
    y: int  # index in ROWS
    r: float
    cx: float = 0.0  # where the SVG draws it
    cy: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"practice_id": self.practice_id, "name": self.name, "outcome": self.outcome,
                "outcome_label": self.outcome_label, "rating": self.rating,
                "rating_label": SCALE[self.rating].label, "strength": self.strength,
                "strength_label": STRENGTHS.get(self.strength, "Not graded"), "studies": self.studies,
                "design": self.design, "direction": self.direction, "x": self.x, "y": self.y, "r": self.r,
                "cx": self.cx, "cy": self.cy}


@dataclass
class EvidenceMap:
    filters: dict[str, str]
    points: list[Point]
    #: Methods, not rated on effect: (id, name).
    methods: list[tuple[str, str]] = field(default_factory=list)
    #: Interventions with no rating on the chosen outcome: (id, name).
    unrated: list[tuple[str, str]] = field(default_factory=list)
    #: How many practices the theme, population and level filters kept (before the outcome).
    matched: int = 0
    total: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"filters": self.filters, "total": self.total, "matched": self.matched,
                "axes": {"x": list(STRENGTH_ORDER), "x_ungraded": UNGRADED, "y": list(ROWS)},
                "points": [p.to_json() for p in self.points],
                "methods": [{"practice_id": i, "name": n} for i, n in self.methods],
                "unrated": [{"practice_id": i, "name": n} for i, n in self.unrated]}


def options(practices: Iterable[Any]) -> dict[str, list[str]]:
    """The values each filter accepts, from the practices themselves (outcomes: the primary one,
    then the hub's list, then any other a profile names)."""
    practices = list(practices)
    named = {o.outcome for p in practices for o in p.outcomes}
    return {
        "outcome": [PRIMARY, *OUTCOMES, *sorted(named - set(OUTCOMES))],
        "theme": sorted({t for p in practices for t in p.themes}),
        "population": sorted({t for p in practices for t in p.populations}),
        "level": list(LEVELS),
    }


def outcome_label(key: str, _: Gettext = _english) -> str:
    """The chosen outcome in words: each practice's primary one, or the outcome's label."""
    if key in ("", PRIMARY):
        return _("Each practice's primary outcome")
    return _(OUTCOMES.get(key, key.replace("-", " ").capitalize()))


def check_filters(practices: list[Any], outcome: str = "", theme: str = "", population: str = "",
                  level: str = "") -> dict[str, str]:
    """The chosen filters, cleaned; an unknown value is refused (InvalidQuery, a 400) naming the
    filter and the values it accepts, rather than silently showing an empty map."""
    allowed = options(practices)
    chosen = {"outcome": (outcome or PRIMARY).strip().lower(), "theme": theme.strip().lower(),
              "population": population.strip().lower(), "level": level.strip().lower()}
    for key, value in chosen.items():
        if value and value not in allowed[key]:
            shown = ", ".join(allowed[key][:30]) + (" ..." if len(allowed[key]) > 30 else "")
            raise InvalidQuery(f"{key}: unknown value {value[:60]!r}; use one of {shown}")
    return chosen


def build(practices: Iterable[Any], outcome: str = "", theme: str = "", population: str = "",
          level: str = "", lang: str = "en") -> EvidenceMap:
    """The map of ``practices`` (practices.profile.Practice) for the chosen filters, laid out."""
    practices = list(practices)
    chosen = check_filters(practices, outcome, theme, population, level)
    kept = [p for p in practices
            if (not chosen["theme"] or chosen["theme"] in p.themes)
            and (not chosen["population"] or chosen["population"] in p.populations)
            and (not chosen["level"] or chosen["level"] in p.levels)]
    points, methods, unrated = [], [], []
    for p in sorted(kept, key=lambda p: p.name_in(lang).lower()):
        name = p.name_in(lang)
        if p.kind == "method" or p.rating.key == "method":
            methods.append((p.id, name))
            continue
        if p.outcomes:
            found = p.outcomes[0] if chosen["outcome"] == PRIMARY else next(
                (o for o in p.outcomes if o.outcome == chosen["outcome"]), None)
            if found is None:
                unrated.append((p.id, name))
                continue
            points.append(Point(p.id, name, found.outcome, found.label, found.rating.key, found.strength,
                                found.studies, found.design, found.direction,
                                STRENGTH_ORDER.index(found.strength), ROW_OF[found.rating.key],
                                radius(found.studies)))
        elif chosen["outcome"] == PRIMARY and p.rating.key in ROW_OF:
            # An older profile: one rating, for the outcome it is meant for, strength not graded.
            points.append(Point(p.id, name, "", "", p.rating.key, UNGRADED, None, None, None, None,
                                ROW_OF[p.rating.key], radius(None)))
        else:
            unrated.append((p.id, name))
    result = EvidenceMap(chosen, points, methods, unrated, matched=len(kept), total=len(practices))
    layout([p for p in points])
    return result


# --- layout and drawing --------------------------------------------------------------------------
LEFT = 180  # room for the row labels
TOP = 20
COLUMN = 190
ROW_MIN = 64
GAP = 6  # between stacked bubbles
LABEL_CHARS = 22


def _columns(points: list[Any]) -> list[str]:
    graded = any(_get(p, "strength") == UNGRADED for p in points)
    return ([UNGRADED] if graded else []) + list(STRENGTH_ORDER)


def _get(p: Any, key: str) -> Any:
    return p[key] if isinstance(p, dict) else getattr(p, key)


def layout(points: list[Any]) -> tuple[list[str], list[float], float]:
    """Place every point (sets cx, cy): columns by strength, rows by effect, stacked in a cell.
    Returns the columns drawn, the top of each row (best row first) and the plot's height."""
    columns = _columns(points)
    cells: dict[tuple[int, int], list[Any]] = {}
    for p in points:
        col = columns.index(_get(p, "strength")) if _get(p, "strength") in columns else 0
        cells.setdefault((col, _get(p, "y")), []).append(p)
    order = {k: i for i, k in enumerate(SCALE)}
    heights = {}
    for key, members in cells.items():
        members.sort(key=lambda p: (order.get(_get(p, "rating"), 9), -(_get(p, "studies") or 0),
                                    _get(p, "name").lower()))
        heights[key] = sum(max(2 * _get(p, "r"), 18) + GAP for p in members) + GAP
    tops, y = [], TOP
    for row in reversed(range(len(ROWS))):  # best row drawn first, at the top
        tops.append(y)
        height = max([ROW_MIN] + [h for (c, r), h in heights.items() if r == row])
        for (col, r), members in cells.items():
            if r != row:
                continue
            at = y + GAP
            for p in members:
                pitch = max(2 * _get(p, "r"), 18) + GAP
                cx, cy = LEFT + col * COLUMN + 30, round(at + pitch / 2, 1)
                if isinstance(p, dict):
                    p["cx"], p["cy"] = cx, cy
                else:
                    p.cx, p.cy = cx, cy
                at += pitch
        y += height
    return columns, tops, y


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1].rstrip() + "…"


def render_svg(points: list[Any], _: Gettext = _english, outcome_label: str = "", link: bool = True,
               ident: str = "evidence-map") -> str:
    """The map as a standalone SVG. ``points`` are :class:`Point` or their JSON rows (a brief's
    copy); ``_`` translates the axis, row and legend labels. Each bubble links to its practice
    (``link``) and carries its full name, rating and evidence in a <title>.

    The SVG is decorative for assistive technology (aria-hidden, its links out of the tab order):
    the table that goes with it on the page and in briefs carries the same facts, reachable by
    keyboard and read in order by a screen reader."""
    points = [dict(p) if isinstance(p, dict) else p for p in points]
    columns, tops, bottom = layout(points)
    width = LEFT + COLUMN * len(columns) + 24
    e = lambda s: escape(str(s), {'"': "&quot;"})  # noqa: E731
    out = [f"<title>{e(_('Evidence map'))}{': ' + e(outcome_label) if outcome_label else ''}</title>",
           '<rect x="0" y="0" width="100%" height="100%" fill="#ffffff"/>']
    # rows: background bands and labels, best at the top
    for i, top in enumerate(tops):
        row = ROWS[len(ROWS) - 1 - i]
        end = tops[i + 1] if i + 1 < len(tops) else bottom
        fill = "#f6f7f9" if i % 2 == 0 else "#ffffff"
        out.append(f'<rect class="row-band" x="{LEFT}" y="{top}" width="{COLUMN * len(columns)}" '
                   f'height="{end - top}" fill="{fill}"/>')
        lines = _wrap(_(ROW_LABELS[row]), 20)
        first = (top + end) / 2 + 4 - 7 * (len(lines) - 1)
        spans = "".join(f'<tspan x="{LEFT - 10}" y="{first + 14 * i}">{e(line)}</tspan>' for i, line in enumerate(lines))
        out.append(f'<text class="row-label" text-anchor="end" font-weight="600">{spans}</text>')
    # columns: separators and labels
    for c, key in enumerate(columns):
        x = LEFT + c * COLUMN
        dash = ' stroke-dasharray="4 3"' if key == UNGRADED else ""
        out.append(f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{bottom}" stroke="#c4c8cf"{dash}/>')
        label = _("Not graded (older profile)") if key == UNGRADED else _(STRENGTHS[key])
        out.append(f'<text class="col-label" x="{x + COLUMN / 2}" y="{bottom + 18}" text-anchor="middle">'
                   f'{e(label)}</text>')
    out.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{LEFT + COLUMN * len(columns)}" y2="{bottom}" stroke="#555"/>')
    out.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#555"/>')
    out.append(f'<text class="axis-label x-axis" x="{LEFT + COLUMN * len(columns) / 2}" y="{bottom + 42}" '
               f'text-anchor="middle" font-weight="700">{e(_("Strength of the evidence"))} →</text>')
    out.append(f'<text class="axis-label y-axis" x="14" y="{(TOP + bottom) / 2}" text-anchor="middle" '
               f'font-weight="700" transform="rotate(-90 14 {(TOP + bottom) / 2})">'
               f'{e(_("Effect on the outcome"))} →</text>')
    # bubbles
    for p in points:
        rating = _get(p, "rating")
        fill, ink = COLOURS.get(rating, ("#999999", "#111111"))
        name = _get(p, "name")
        label = SCALE[rating].label if rating in SCALE else rating
        strength = _get(p, "strength")
        studies = _get(p, "studies")
        facts = [_(label), _("Not graded (older profile)") if strength == UNGRADED else
                 _("Strength of the evidence") + ": " + _(STRENGTHS.get(strength, strength))]
        if studies:
            facts.append(_("{n} studies", n=studies))
        if _get(p, "outcome_label"):
            facts.insert(0, _(_get(p, "outcome_label")))
        title = f"{name}: " + "; ".join(facts)
        cx, cy, r = _get(p, "cx"), _get(p, "cy"), _get(p, "r")
        dash = ' stroke-dasharray="3 2"' if strength == UNGRADED else ""
        shape = (f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{fill}" stroke="#222" stroke-width="1.2"{dash}/>'
                 f'<text x="{cx}" y="{cy + 4}" text-anchor="middle" font-weight="700" fill="{ink}" '
                 f'font-size="{10 if r < 12 else 12}">{e(SYMBOLS.get(rating, "?"))}</text>'
                 f'<text class="bubble-label" x="{cx + r + 7}" y="{cy + 4}" fill="#111" font-size="11">{e(_short(name))}</text>')
        attrs = (f'class="bubble rating-{e(rating)}" data-practice="{e(_get(p, "practice_id"))}" '
                 f'data-x="{"" if _get(p, "x") is None else _get(p, "x")}" data-y="{_get(p, "y")}"')
        if link:
            out.append(f'<a href="/practices/{e(_get(p, "practice_id"))}" tabindex="-1" aria-label="{e(title)}" '
                       f'{attrs}><title>{e(title)}</title>{shape}</a>')
        else:
            out.append(f'<g {attrs}><title>{e(title)}</title>{shape}</g>')
    if not points:
        out.append(f'<text x="{LEFT + COLUMN * len(columns) / 2}" y="{(TOP + bottom) / 2}" text-anchor="middle" '
                   f'fill="#555">{e(_("No practice to show with these filters."))}</text>')
    # legend: colour, symbol and name of each rating; size; dashed outline
    y = bottom + 66
    out.append(f'<g class="legend"><text x="{LEFT}" y="{y}" font-weight="700">{e(_("Legend"))}</text>')
    x = x_first = LEFT
    y += 22
    for key in ("effective", "promising", "mixed", "insufficient", "no-effect", "harmful"):
        fill, ink = COLOURS[key]
        text = _(SCALE[key].label)
        out.append(f'<circle cx="{x + 9}" cy="{y}" r="9" fill="{fill}" stroke="#222"/>'
                   f'<text x="{x + 9}" y="{y + 4}" text-anchor="middle" font-weight="700" fill="{ink}" font-size="10">'
                   f'{e(SYMBOLS[key])}</text><text class="legend-label" x="{x + 24}" y="{y + 4}">{e(text)}</text>')
        x += 34 + 7 * len(text)
        if x > width - 160:
            x, y = LEFT, y + 24
    if any(_get(p, "strength") == UNGRADED for p in points):
        y += 24
        out.append(f'<circle cx="{x_first + 9}" cy="{y}" r="9" fill="#ffffff" stroke="#222" stroke-dasharray="3 2"/>'
                   f'<text class="legend-label" x="{x_first + 24}" y="{y + 4}">'
                   f'{e(_("Dashed outline: a profile in the older format, its evidence not graded"))}</text>')
    y += 28
    small, big = radius(1), radius(MAX_STUDIES)
    out.append(f'<circle cx="{LEFT + 9}" cy="{y}" r="{small}" fill="none" stroke="#222"/>'
               f'<circle cx="{LEFT + 44}" cy="{y}" r="{big}" fill="none" stroke="#222"/>'
               f'<text x="{LEFT + 74}" y="{y + 4}">{e(_("Bubble size: number of studies (1 to 100 or more)"))}</text>')
    out.append("</g></svg>")
    height = y + 2 * big + 4
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="evidence-map-svg" id="{e(ident)}" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" aria-hidden="true" '
            f'focusable="false" font-family="system-ui, sans-serif" font-size="12">')
    return head + "".join(out)


def rows(points: list[Any]) -> list[dict[str, Any]]:
    """The table that goes with the map (and is what a brief keeps): one row per bubble, best
    first (row, then strength, then name)."""
    out = [p.to_json() if isinstance(p, Point) else dict(p) for p in points]
    out.sort(key=lambda r: (-r["y"], -(r["x"] if r["x"] is not None else -1), r["name"].lower()))
    return out


def table_head(_: Gettext = _english) -> list[str]:
    return [_("Practice"), _("Outcome"), _("Rating"), _("Strength of the evidence"), _("Studies")]


def table_cells(points: list[Any], _: Gettext = _english) -> list[list[str]]:
    """The table in words, in the reader's language: practice, outcome, rating (with its symbol),
    strength of the evidence, studies (with their design). For exports and the CLI."""
    from practices.ratings import DESIGNS

    out = []
    for r in rows(points):
        found = SCALE.get(r["rating"])
        studies = str(r["studies"]) if r.get("studies") else _("not stated")
        if r.get("studies") and r.get("design") in DESIGNS:
            studies += f" ({_(DESIGNS[r['design']])})"
        out.append([r["name"], _(r["outcome_label"]) if r.get("outcome_label") else _("Not stated (older profile)"),
                    f"{SYMBOLS.get(r['rating'], '')} {_(found.label) if found else r['rating']}".strip(),
                    _("Not graded (older profile)") if r["strength"] == UNGRADED
                    else _(STRENGTHS.get(r["strength"], r["strength"])), studies])
    return out
