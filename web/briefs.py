"""Advisors' briefs: collect from advice and search, annotate, reorder, export, share by link."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from fastapi import FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from hub.brief_export import EXPORTERS, ExportCache
from hub.core import Hub
from hub.errors import InvalidForm, InvalidQuery
from web.i18n import language_of
from practices.ratings import SCALE
from web.accounts import require

# The exported HTML is a standalone page with its own styles; nothing in it runs.
_EXPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"


class BriefFields(BaseModel):
    title: str | None = Field(None, max_length=200)
    question: str | None = None
    city: str | None = None
    problem: str | None = None
    partners: str | None = None
    notes: str | None = None


class NewItem(BaseModel):
    kind: Literal["practice", "passage", "note", "map"]
    practice_id: str | None = None
    chunk_id: str | None = None
    chunk_ids: list[str] = Field(default_factory=list, description="a practice's supporting passages")
    heading: str = ""
    text: str = ""
    note: str = ""
    map: dict[str, str] = Field(default_factory=dict, description="the evidence map's filters (outcome, theme, "
                                "population, level), for kind 'map'")


class ItemNote(BaseModel):
    note: str


class Order(BaseModel):
    item_ids: list[int]


def export_response(cache: ExportCache, brief: Any, fmt: str, download: bool = True, lang: str = "en") -> Response:
    """The brief in the reader's interface language (its own labels; the library text is as
    written), rendered once per version of the brief (``cache``)."""
    if fmt not in EXPORTERS:
        raise InvalidQuery(f"format must be one of {', '.join(EXPORTERS)}")
    _, media, ext = EXPORTERS[fmt]
    response = Response(cache.get(brief, fmt, lang), media_type=media)
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in brief.title.lower())[:60].strip("-") or "brief"
    disposition = "attachment" if download else "inline"
    response.headers["Content-Disposition"] = f"{disposition}; filename=\"{name}.{ext}\"; filename*=UTF-8''{quote(name)}.{ext}"
    if fmt == "html":
        response.headers["Content-Security-Policy"] = _EXPORT_CSP
    return response


def register(app: FastAPI, hub: Hub, pages: Any) -> None:
    briefs = hub.briefs
    cache = app.state.exports = ExportCache(int(hub.settings.export_cache_mb * 1024 * 1024))

    def add_item(user: Any, brief_id: int, item: NewItem, lang: str = "en") -> Any:
        if item.kind == "map":
            return briefs.add_map(user, brief_id, item.map, lang, item.note)
        if item.kind == "practice":
            if not item.practice_id:
                raise InvalidForm("practice_id: required for a practice")
            return briefs.add_practice(user, brief_id, item.practice_id, item.chunk_ids, item.note, lang)
        if item.kind == "passage":
            if not item.chunk_id:
                raise InvalidForm("chunk_id: required for a passage")
            return briefs.add_passage(user, brief_id, item.chunk_id, item.note)
        return briefs.add_note(user, brief_id, item.heading, item.text)

    # --- pages ---------------------------------------------------------------------------------
    @app.get("/briefs", response_class=HTMLResponse, include_in_schema=False)
    def briefs_page(request: Request) -> Response:
        user = require(request)
        return pages.render(request, "briefs.html", {"briefs": briefs.of(user)})

    @app.post("/briefs", include_in_schema=False)
    def create(request: Request, title: str = Form(""), question: str = Form(""), city: str = Form("")) -> Response:
        user = require(request)
        brief = briefs.create(user, {"title": title, "question": question, "city": city})
        return pages.redirect(f"/briefs/{brief.id}")

    @app.post("/briefs/add", include_in_schema=False)
    def collect(request: Request, brief: str = Form("new"), kind: str = Form("passage"),
                practice_id: str = Form(""), chunk_id: str = Form(""), chunk_ids: list[str] = Form(default=[]),
                question: str = Form(""), next: str = Form("/briefs"), map_outcome: str = Form(""),
                map_theme: str = Form(""), map_population: str = Form(""), map_level: str = Form("")) -> Response:
        """The "add to brief" button on advice, search, document and evidence map pages."""
        user = require(request)
        if brief == "new" or not brief.isdigit():
            title = f"Brief: {question.strip()}"[:200] if question.strip() else "New brief"
            target = briefs.create(user, {"title": title, "question": question})
        else:
            target = briefs.get(user, int(brief))
        add_item(user, target.id, NewItem(kind=kind if kind in ("practice", "passage", "map") else "passage",
                                          practice_id=practice_id or None, chunk_id=chunk_id or None,
                                          chunk_ids=chunk_ids, map={"outcome": map_outcome, "theme": map_theme,
                                                                    "population": map_population,
                                                                    "level": map_level}),
                 lang=language_of(request))
        pages.flash(request, "Added to “{title}”.", title=target.title)
        request.state.session["brief"] = target.id
        return pages.redirect(next)

    @app.get("/briefs/{brief_id}", response_class=HTMLResponse, include_in_schema=False)
    def brief_page(request: Request, brief_id: int) -> Response:
        user = require(request)
        brief = briefs.get(user, brief_id)
        return pages.render(request, "brief.html", {"brief": brief, "share_url": _share_url(request, brief),
                                                    "scale": SCALE})

    @app.post("/briefs/{brief_id}", include_in_schema=False)
    def update(request: Request, brief_id: int, title: str = Form(""), question: str = Form(""),
               city: str = Form(""), problem: str = Form(""), partners: str = Form(""),
               notes: str = Form("")) -> Response:
        user = require(request)
        briefs.update(user, brief_id, {"title": title, "question": question, "city": city, "problem": problem,
                                       "partners": partners, "notes": notes})
        pages.flash(request, "Saved.")
        return pages.redirect(f"/briefs/{brief_id}")

    @app.post("/briefs/{brief_id}/delete", include_in_schema=False)
    def delete(request: Request, brief_id: int) -> Response:
        briefs.delete(require(request), brief_id)
        pages.flash(request, "Brief deleted.")
        return pages.redirect("/briefs")

    @app.post("/briefs/{brief_id}/notes", include_in_schema=False)
    def add_note(request: Request, brief_id: int, heading: str = Form(""), text: str = Form("")) -> Response:
        briefs.add_note(require(request), brief_id, heading, text)
        return pages.redirect(f"/briefs/{brief_id}#end")

    @app.post("/briefs/{brief_id}/items/{item_id}", include_in_schema=False)
    def item_action(request: Request, brief_id: int, item_id: int, action: str = Form("save"),
                    note: str = Form("")) -> Response:
        user = require(request)
        if action == "up":
            briefs.move_item(user, brief_id, item_id, -1)
        elif action == "down":
            briefs.move_item(user, brief_id, item_id, +1)
        elif action == "remove":
            briefs.remove_item(user, brief_id, item_id)
        else:
            briefs.update_item(user, brief_id, item_id, note)
        return pages.redirect(f"/briefs/{brief_id}#item-{item_id}")

    @app.post("/briefs/{brief_id}/share", include_in_schema=False)
    def share(request: Request, brief_id: int, action: str = Form("share")) -> Response:
        user = require(request)
        if action == "unshare":
            briefs.unshare(user, brief_id)
            pages.flash(request, "The share link no longer works.")
        else:
            briefs.share(user, brief_id)
            pages.flash(request, "Anyone with the link can now read this brief.")
        return pages.redirect(f"/briefs/{brief_id}")

    @app.get("/briefs/{brief_id}/export", include_in_schema=False)
    def export(request: Request, brief_id: int, format: str = "html") -> Response:
        return export_response(cache, briefs.get(require(request), brief_id), format, download=format != "html",
                               lang=language_of(request))

    @app.get("/shared/{token}", include_in_schema=False)
    def shared(request: Request, token: str, format: str = "html") -> Response:
        return export_response(cache, briefs.shared(token), format, download=format != "html",
                               lang=language_of(request))

    # --- API -----------------------------------------------------------------------------------
    @app.get("/api/briefs", summary="Your briefs", tags=["briefs"])
    def api_list(request: Request) -> list[dict[str, Any]]:
        return [b.to_json() for b in briefs.of(require(request))]

    @app.post("/api/briefs", summary="Start a brief", tags=["briefs"], status_code=201)
    def api_create(request: Request, body: BriefFields) -> dict[str, Any]:
        return briefs.create(require(request), body.model_dump(exclude_none=True)).to_json()

    @app.get("/api/briefs/{brief_id}", summary="One of your briefs with its sections", tags=["briefs"])
    def api_get(request: Request, brief_id: int) -> dict[str, Any]:
        return briefs.get(require(request), brief_id).to_json()

    @app.patch("/api/briefs/{brief_id}", summary="Change title, question, city, problem, partners, notes",
               tags=["briefs"])
    def api_update(request: Request, brief_id: int, body: BriefFields) -> dict[str, Any]:
        return briefs.update(require(request), brief_id, body.model_dump(exclude_none=True)).to_json()

    @app.delete("/api/briefs/{brief_id}", summary="Delete a brief", tags=["briefs"])
    def api_delete(request: Request, brief_id: int) -> dict[str, Any]:
        briefs.delete(require(request), brief_id)
        return {"ok": True}

    @app.post("/api/briefs/{brief_id}/items", summary="Add a practice, a passage, a note or the evidence map", tags=["briefs"],
              status_code=201)
    def api_add(request: Request, brief_id: int, body: NewItem) -> dict[str, Any]:
        return add_item(require(request), brief_id, body, language_of(request)).to_json()

    @app.patch("/api/briefs/{brief_id}/items/{item_id}", summary="Set a section's note", tags=["briefs"])
    def api_note(request: Request, brief_id: int, item_id: int, body: ItemNote) -> dict[str, Any]:
        user = require(request)
        briefs.update_item(user, brief_id, item_id, body.note)
        return briefs.get(user, brief_id).to_json()

    @app.delete("/api/briefs/{brief_id}/items/{item_id}", summary="Remove a section", tags=["briefs"])
    def api_remove(request: Request, brief_id: int, item_id: int) -> dict[str, Any]:
        user = require(request)
        briefs.remove_item(user, brief_id, item_id)
        return briefs.get(user, brief_id).to_json()

    @app.put("/api/briefs/{brief_id}/order", summary="Reorder sections (every item id, once)", tags=["briefs"])
    def api_order(request: Request, brief_id: int, body: Order) -> dict[str, Any]:
        user = require(request)
        briefs.reorder(user, brief_id, body.item_ids)
        return briefs.get(user, brief_id).to_json()

    @app.post("/api/briefs/{brief_id}/share", summary="Create (or return) the share link", tags=["briefs"])
    def api_share(request: Request, brief_id: int) -> dict[str, Any]:
        token = briefs.share(require(request), brief_id)
        return {"token": token, "url": f"{str(request.base_url).rstrip('/')}/shared/{token}"}

    @app.delete("/api/briefs/{brief_id}/share", summary="Revoke the share link", tags=["briefs"])
    def api_unshare(request: Request, brief_id: int) -> dict[str, Any]:
        briefs.unshare(require(request), brief_id)
        return {"ok": True}

    @app.get("/api/briefs/{brief_id}/export", summary="Export as Markdown, print-ready HTML or PDF",
             tags=["briefs"], response_class=Response)
    def api_export(request: Request, brief_id: int,
                   format: str = Query("md", pattern="^(md|html|pdf)$"),
                   lang: str = Query("en", pattern="^(en|fr|es)$")) -> Response:
        """`lang` sets the language of the brief's own labels (headings, rating meanings)."""
        return export_response(cache, briefs.get(require(request), brief_id), format, lang=lang)

    @app.get("/api/shared/{token}", summary="A shared brief (no login; the link is the key)", tags=["briefs"])
    def api_shared(token: str) -> dict[str, Any]:
        return briefs.shared(token).to_json()


def _share_url(request: Request, brief: Any) -> str | None:
    return f"{str(request.base_url).rstrip('/')}/shared/{brief.share_token}" if brief.share_token else None
