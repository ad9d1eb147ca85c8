"""The evidence map page and its JSON: the chosen filters in, what the template and the API show out.

The map itself (placement, layout, SVG) is practices/evidence_map.py, where brief exports (hub/)
can use it too: hub must not import web. This module only prepares it for a page (translated
labels, filter options, the table) and for the API; it knows nothing of the web framework.
"""

from __future__ import annotations

from typing import Any, Callable

from practices import evidence_map as em
from practices.ratings import DESIGNS, SCALE, STRENGTHS


def build(practices: list[Any], outcome: str = "", theme: str = "", population: str = "", level: str = "",
          lang: str = "en") -> em.EvidenceMap:
    """The map for the chosen filters; an unknown filter value raises InvalidQuery (a 400)."""
    return em.build(practices, outcome=outcome, theme=theme, population=population, level=level, lang=lang)


def outcome_label(key: str, _: Callable[..., str]) -> str:
    """_("Each practice's primary outcome"), or the outcome's label (practices/evidence_map.py)."""
    return em.outcome_label(key, _)


def page_context(practices: list[Any], chosen: dict[str, str], lang: str, _: Callable[..., str]) -> dict[str, Any]:
    """What evidence_map.html needs: the SVG, the table rows, methods and practices left off,
    and the filters' options with their translated labels."""
    the_map = build(practices, lang=lang, **chosen)
    label = outcome_label(the_map.filters["outcome"], _)
    table = []
    for row in em.rows(the_map.points):
        table.append({**row, "rating_obj": SCALE[row["rating"]], "symbol": em.SYMBOLS.get(row["rating"], ""),
                      "outcome_text": _(row["outcome_label"]) if row["outcome_label"] else _("Not stated (older profile)"),
                      "strength_text": _("Not graded (older profile)") if row["strength"] == em.UNGRADED
                      else _(STRENGTHS[row["strength"]]),
                      "design_text": _(DESIGNS[row["design"]]) if row["design"] in DESIGNS else ""})
    opts = em.options(practices)
    return {
        "map": the_map, "chosen": the_map.filters, "outcome_label": label,
        "svg": em.render_svg(the_map.points, _, outcome_label=label),
        "table": table, "options": opts,
        "outcome_options": [(k, outcome_label(k, _)) for k in opts["outcome"]],
        "symbols": em.SYMBOLS, "scale": SCALE,
    }


def api_json(practices: list[Any], chosen: dict[str, str], lang: str) -> dict[str, Any]:
    """The map as data: the filters applied, every bubble (practice id, name, outcome, rating,
    strength, studies, x = strength index 0-4 or null when not graded, y = effect row 0-4 from
    harmful to effective, r = radius in pixels, cx/cy = its place in the SVG), then methods and
    the practices not rated on the chosen outcome."""
    return build(practices, lang=lang, **chosen).to_json()
