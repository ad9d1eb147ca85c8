"""Advice and the practices behind it: the advisory page, the practice catalogue and pages, the
evidence map and the forums, with their JSON (``/api/recommend``, ``/api/practices``,
``/api/evidence-map``, ``/api/forums``)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from hub.core import Hub
from practices.forums import forums_for
from practices.profile import sources_citing
from practices.ratings import LEVELS, SCALE
from search.analysis import fold
from web import evidence_map, i18n
from web.i18n import language_of
from web.pages import Pages

#: Documents a practice page shows, strongest links first: a practice of a large library can be
#: linked to hundreds (the page took 10 s at 100,000 passages); the API lists them all.
EVIDENCE_ON_PAGE = 20


def register(app: FastAPI, hub: Hub, pages: Pages) -> None:
    @app.get("/advise", response_class=HTMLResponse, include_in_schema=False)
    def advise_page(request: Request, q: str = "", population: str = "", setting: str = "",
                    level: str = "", theme: str = "") -> Response:
        context = {"population": population, "setting": setting, "level": level, "theme": theme}
        advice = hub.recommend(q, context=context) if q.strip() else None
        return pages.render(request, "advise.html", {
            "q": q, "context": context, "advice": advice, "options": _practice_options(hub.practices())})

    @app.get("/practices", response_class=HTMLResponse, include_in_schema=False)
    def practices_page(request: Request, theme: str = "", rating: str = "", level: str = "",
                       population: str = "") -> Response:
        practices = hub.practices()
        chosen = {"theme": theme, "rating": rating, "level": level, "population": population}
        # in the order of the names the reader sees, accents aside ("Éclairage" among the E's)
        lang = language_of(request)
        shown = sorted((p for p in practices if _practice_matches(p, chosen)),
                       key=lambda p: fold(p.name_in(lang)).casefold())
        return pages.render(request, "practices.html", {
            "practices": shown, "total": len(practices), "chosen": chosen,
            "facets": _practice_facets(shown), "scale": SCALE, "levels": LEVELS})

    @app.get("/practices/{practice_id}", response_class=HTMLResponse, include_in_schema=False)
    def practice_page(request: Request, practice_id: str) -> Response:
        return pages.render(request, "practice.html", _practice_context(hub, hub.practice(practice_id)))

    @app.get("/evidence-map", response_class=HTMLResponse, include_in_schema=False)
    def evidence_map_page(request: Request, outcome: str = "", theme: str = "", population: str = "",
                          level: str = "") -> Response:
        lang = language_of(request)
        chosen = {"outcome": outcome, "theme": theme, "population": population, "level": level}
        return pages.render(request, "evidence_map.html",
                            evidence_map.page_context(hub.practices(), chosen, lang, i18n.translator(lang)))

    @app.get("/forums", response_class=HTMLResponse, include_in_schema=False)
    def forums_page(request: Request) -> Response:
        return pages.render(request, "forums.html", {"forums": hub.forums})

    @app.get("/api/recommend", summary="Practices ranked for an advisory question")
    def api_recommend(q: str = Query(..., description="the advisory question"),
                      limit: int = Query(5, ge=1, le=50), population: str = "", setting: str = "",
                      level: str = "", theme: str = "",
                      lang: str = Query("", pattern="^(|en|fr|es)$",
                                        description="names and summaries in this language (default: the question's)"),
                      ) -> dict[str, Any]:
        """recommendations (practice_id, name, rating and its meaning, score, reasons with
        doc_id/page/snippet, forums, ...) and avoid (harmful practices matching the question); the
        practices' names and summaries in the question's language, or in ``lang``."""
        advice = hub.recommend(q, limit=limit, context={"population": population, "setting": setting,
                                                        "level": level, "theme": theme})
        return advice.to_json(lang or None)

    @app.get("/api/practices", summary="Every practice profile")
    def api_practices() -> list[dict[str, Any]]:
        return [p.to_json() for p in hub.practices()]

    @app.get("/api/practices/{practice_id}", summary="One practice profile with its evidence links")
    def api_practice(practice_id: str) -> dict[str, Any]:
        practice = hub.practice(practice_id)
        return practice.to_json() | {"links": hub.catalog.practice_links(practice.id)}

    @app.get("/api/evidence-map", summary="The evidence map: every practice by strength of evidence and effect")
    def api_evidence_map(request: Request, outcome: str = Query("", description="an outcome (crime, violence, "
                         "fear...) or 'primary' (default: each practice's primary outcome)"),
                         theme: str = "", population: str = "", level: str = "",
                         lang: str = Query("", pattern="^(|en|fr|es)$")) -> dict[str, Any]:
        """filters, points [{practice_id, name, outcome, rating, strength, studies, x (strength 0-4,
        null when not graded), y (effect 0 harmful - 4 effective), r (radius), cx, cy}], methods
        (not rated on effect) and unrated (no rating on this outcome). Unknown filter values: 400."""
        chosen = {"outcome": outcome, "theme": theme, "population": population, "level": level}
        return evidence_map.api_json(hub.practices(), chosen, lang or language_of(request))

    @app.get("/api/forums", summary="The registry of practitioner forums")
    def api_forums() -> list[dict[str, Any]]:
        return [f.to_json() for f in hub.forums]


def _practice_options(practices: list) -> dict[str, list[str]]:
    return {
        "population": sorted({x for p in practices for x in p.populations}),
        "setting": sorted({x for p in practices for x in p.settings}),
        "theme": sorted({x for p in practices for x in p.themes}),
        "level": list(LEVELS),
    }


def _practice_matches(p, chosen: dict[str, str]) -> bool:  # type: ignore[no-untyped-def]
    return ((not chosen["theme"] or chosen["theme"] in p.themes)
            and (not chosen["rating"] or chosen["rating"] == p.rating.key)
            and (not chosen["level"] or chosen["level"] in p.levels)
            and (not chosen["population"] or chosen["population"] in p.populations))


def _practice_facets(practices: list) -> dict[str, list[tuple[str, int]]]:
    out = {}
    for key, attr in (("theme", "themes"), ("level", "levels"), ("population", "populations")):
        out[key] = Counter(x for p in practices for x in getattr(p, attr)).most_common()
    out["rating"] = [(k, n) for k in SCALE if (n := sum(p.rating.key == k for p in practices))]
    return out


def _practice_context(hub: Hub, practice) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    links = hub.catalog.practice_links(practice.id)
    shown = links[:EVIDENCE_ON_PAGE]
    docs = hub.catalog.documents_by_ids(link["doc_id"] for link in shown)
    evidence = []
    for link in shown:
        doc = docs.get(link["doc_id"])
        if doc is None:
            continue
        sources = sources_citing(practice, doc)
        cited = hub.catalog.chunks_on_pages(doc.id, [p for src in sources for p in src.pages], limit=4)
        notes = [src.note for src in sources if src.note]
        evidence.append({"doc": doc, "link": link, "notes": notes, "passages": cited})
    others = {p.id: p for p in hub.practices()}
    related = [others[r] for r in practice.related if r in others]
    return {"practice": practice, "evidence": evidence, "more_evidence": len(links) - len(shown), "related": related,
            "forums": forums_for(hub.forums, practice.id, practice.themes, limit=6), "levels": LEVELS}
