"""The web hub: search pages for people, a JSON API for scripts, both over one :class:`Hub`.

The hub (model, indexes) is created once per process and handed in, so requests never load a
model. Expected errors become 4xx answers with a message: JSON for ``/api``, a page otherwise.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub import logs
from hub.core import Hub
from hub.errors import (Conflict, Forbidden, HubError, InvalidQuery, InvalidText, NotFound, StoreUnavailable,
                        TooManyAttempts, Unauthorised)
from hub.forms import check_text, check_tree
from practices.forums import forums_for
from practices.profile import sources_citing
from practices.ratings import LEVELS, SCALE
from search.hybrid import MAX_LIMIT
from web import evidence_map, i18n
from web.i18n import language_of
from web.limits import Limits
from web.sessions import COOKIE, MAX_AGE, BodyLimit, BodyTooLarge, Sessions, safe_next

HERE = Path(__file__).parent
PAGE_SIZE = 10
_MEDIA_TYPES = {".pdf": "application/pdf", ".html": "text/plain; charset=utf-8",
                ".htm": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
                ".markdown": "text/markdown; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                ".text": "text/plain; charset=utf-8"}
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


#: What the ASGI server must be told (``uvicorn.run(app, ..., **SERVER_OPTIONS)``): uvicorn
#: otherwise rewrites the client address from X-Forwarded-For for any peer on loopback, before the
#: app can tell a proxy from a client lying about its address; the app reads the header itself,
#: from the proxies named in HUB_TRUSTED_PROXIES only (web/limits.py).
SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False, "server_header": False}

_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_STATUS = ((NotFound, 404), (StoreUnavailable, 503), (Unauthorised, 401), (Forbidden, 403), (Conflict, 409),
           (TooManyAttempts, 429), (InvalidText, 422))
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


class Pages:
    """Renders a page with what every page needs: the visitor, their CSRF token and language."""

    def __init__(self, templates: Jinja2Templates, sessions: Sessions, hub: Hub) -> None:
        self.templates = templates
        self.sessions = sessions
        self.hub = hub

    def render(self, request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
        session = getattr(request.state, "session", None) or {"sid": "-"}
        lang = language_of(request)
        user = getattr(request.state, "user", None)
        if user is not None and "my_briefs" not in context:
            context["my_briefs"] = self.hub.briefs.of(user)
            context["last_brief"] = session.get("brief")
        context = {**context, "_": i18n.translator(lang), "lang": lang, "languages": i18n.LANGUAGES,
                   "user": getattr(request.state, "user", None), "csrf_token": self.sessions.csrf_token(session),
                   "flash": session.pop("flash", None), "path": request.url.path,
                   "full_path": str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")}
        return self.templates.TemplateResponse(request, name, context, status_code=status_code)

    @staticmethod
    def flash(request: Request, message: str, **values: str) -> None:
        """A one-time message for the next page; ``message`` is a catalog msgid, translated there."""
        request.state.session["flash"] = {"m": message, "v": values}

    @staticmethod
    def redirect(url: str) -> RedirectResponse:
        return RedirectResponse(safe_next(url), status_code=303)


def create_app(hub: Hub) -> FastAPI:
    sessions = Sessions(hub.secret_key(), secure=hub.settings.secure_cookies)
    limits = Limits(hub.settings)

    async def prepare(request: Request) -> None:
        """Every request: who is asking (API token or session), whether its text is text, for
        writes a CSRF check, and for expensive routes the rate limits."""
        session = request.state.session
        user, by_token = None, False
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            user, by_token = hub.accounts.user_for_token(auth[7:].strip()), True
            if user is None:
                raise Unauthorised("this API token is not valid (revoked, or mistyped)")
        elif session.get("uid"):
            try:
                found = hub.accounts.get(int(session["uid"]))
            except (NotFound, ValueError):
                found = None
            if found is None or found.session_version != session.get("v"):
                session.pop("uid", None)  # password or role changed, or logged out everywhere
                session.pop("v", None)
            elif hub.accounts.session_ended(str(session["sid"])):
                # a copy of a cookie that logged out: a fresh session, so its CSRF token dies too
                session.clear()
                session["sid"] = sessions.new_id()
            else:
                user = found
        request.state.user = user
        form = await _check_input(request)
        # an API call without a cookie login has nothing for a forged request to ride on
        cookie_write = not by_token and not (request.url.path.startswith("/api/") and user is None)
        if request.method not in _SAFE_METHODS and cookie_write:
            token = request.headers.get("x-csrf-token")
            if token is None and form is not None:
                token = form.get("csrf_token")  # type: ignore[assignment]
            if not sessions.csrf_ok(session, token if isinstance(token, str) else None):
                raise Forbidden("this form has expired or did not come from this site (CSRF token missing or "
                                "wrong); reload the page and try again")
        limits.check(request, user)

    app = FastAPI(
        docs_url=None, redoc_url=None,  # /docs is served below, with a policy for its scripts
        title="Urban Safety Knowledge Hub",
        description="Search a library of crime-prevention evidence; share case studies (moderated); "
                    "build technical-support briefs. Scripts authenticate with an API token "
                    "(`Authorization: Bearer <token>`, from `POST /api/auth/token` or `hub users token`).",
        version="0.2.0",
        dependencies=[Depends(prepare)],
    )
    app.state.hub = hub
    app.state.limits = limits
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    templates.env.globals["page_url"] = _page_url
    templates.env.globals["facet_url"] = _facet_url
    pages = Pages(templates, sessions, hub)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    log = logs.get("web")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        session = sessions.load(request.cookies.get(COOKIE))
        before = dict(session)
        request.state.session = session
        try:
            response = await call_next(request)
        except Exception:
            logs.event(log, "request failed", logging.ERROR, method=request.method, path=request.url.path,
                       ms=round((time.perf_counter() - started) * 1000, 1))
            raise
        user = getattr(request.state, "user", None)
        logs.event(log, "request", method=request.method, path=request.url.path, status=response.status_code,
                   ms=round((time.perf_counter() - started) * 1000, 1), user=user.username if user else None)
        if session != before or (session.get("new") and not request.url.path.startswith(("/api/", "/static/"))):
            sessions.set_cookie(response, session)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(BodyLimit, limit=int(hub.settings.max_upload_mb * 1024 * 1024))

    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse({"ok": False, "error": message}, status_code=status)
        return pages.render(request, "error.html", {"status": status, "message": message}, status_code=status)

    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> Response:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)
        if status == 401 and not wants_json(request) and request.method in _SAFE_METHODS:
            return RedirectResponse("/login?" + urlencode({"next": safe_next(request.url.path)}), status_code=303)
        response = error(request, status, str(exc))
        if isinstance(exc, TooManyAttempts) and exc.retry_after:
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, exc: BodyTooLarge) -> Response:
        return error(request, 413, str(exc))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e.get("loc", ())[1:]) or "request"
            parts.append(f"{where}: {e.get('msg', 'invalid')}")
        return error(request, 422, "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "page not found" if exc.status_code == 404 else str(exc.detail)
        return error(request, exc.status_code, message)

    # --- pages ---------------------------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, q: str = "", doc_type: list[str] = Query(default=[]),
                    language: list[str] = Query(default=[]), tag: list[str] = Query(default=[]),
                    year: str = "", diversify: bool = False,
                    page: int = Query(default=1, ge=1, le=1000)) -> Response:
        filters: dict[str, Any] = {"doc_type": doc_type, "language": language, "tags": tag, "year": year}
        context: dict[str, Any] = {"q": q, "selected": filters, "options": _filter_options(hub),
                                   "results": None, "counts": hub.catalog.counts(), "diversify": diversify}
        if q.strip():
            results = hub.search(q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, filters=filters,
                                 diversify=diversify)
            base = [("q", q)] + [(k if k != "tags" else "tag", v)
                                 for k, vs in filters.items() if k != "year" for v in vs]
            if year:
                base.append(("year", year))
            if diversify:
                base.append(("diversify", "true"))
            context.update(results=results, page=page, base_query=base,
                           pages=max(1, math.ceil(results.total / PAGE_SIZE)))
        return pages.render(request, "search.html", context)

    @app.get("/documents/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
    def document_page(request: Request, doc_id: str, q: str = "") -> Response:
        doc = hub.document(doc_id)
        by_page: dict[Any, list] = {}
        for chunk in doc.chunks:
            by_page.setdefault(chunk.page, []).append(chunk)
        marked = {}
        if q.strip():
            from search.snippets import make_snippet

            for chunk in doc.chunks:
                snip = make_snippet(chunk.text, q, doc.language, width=10_000)
                marked[chunk.id] = snip.html
        return pages.render(request, "document.html",
                                          {"doc": doc, "by_page": by_page, "marked": marked, "q": q})

    @app.get("/documents/{doc_id}/original", include_in_schema=False)
    def original(doc_id: str) -> Response:
        doc = hub.document(doc_id)
        path = hub.original(doc)
        name = Path(doc.source).name
        media = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        response = FileResponse(path, media_type=media, filename=name,
                                content_disposition_type="inline")
        # An ingested web page is shown as text and sandboxed: its scripts never run on our origin.
        response.headers["Content-Security-Policy"] = "sandbox"
        return response

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
        shown = [p for p in practices if _practice_matches(p, chosen)]
        return pages.render(request, "practices.html", {
            "practices": shown, "total": len(practices), "chosen": chosen,
            "facets": _practice_facets(shown), "scale": SCALE, "levels": LEVELS})

    @app.get("/practices/{practice_id}", response_class=HTMLResponse, include_in_schema=False)
    def practice_page(request: Request, practice_id: str) -> Response:
        practice = hub.practice(practice_id)
        return pages.render(request, "practice.html", _practice_context(hub, practice))

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

    # --- API -----------------------------------------------------------------------------------
    @app.get("/api/search", summary="Hybrid search, one result per document")
    def api_search(q: str = Query(..., description="the question or keywords"),
                   limit: int = Query(10, ge=1, le=MAX_LIMIT), offset: int = Query(0, ge=0),
                   doc_type: list[str] = Query(default=[]), language: list[str] = Query(default=[]),
                   tag: list[str] = Query(default=[]),
                   mode: str = Query("hybrid", pattern="^(hybrid|dense|keyword)$")) -> list[dict[str, Any]]:
        """A JSON array, best first: doc_id, source, title, doc_type, language, page, score, snippet, ..."""
        results = hub.search(q, limit=limit, offset=offset,
                             filters={"doc_type": doc_type, "language": language, "tags": tag}, mode=mode)
        return [hit.to_json() for hit in results.hits]

    @app.get("/api/search/full", summary="Hybrid search with facets, suggestion and concepts")
    def api_search_full(q: str = Query(..., description="the question or keywords"),
                        limit: int = Query(10, ge=1, le=MAX_LIMIT), offset: int = Query(0, ge=0),
                        doc_type: list[str] = Query(default=[]), language: list[str] = Query(default=[]),
                        tag: list[str] = Query(default=[]), year: str = "",
                        mode: str = Query("hybrid", pattern="^(hybrid|dense|keyword)$"),
                        diversify: bool = False, expand: bool = True) -> dict[str, Any]:
        """An object: total, facets (doc_type, language, tags, year, with counts), suggestion
        ("did you mean"), thesaurus concepts found in the query, and hits as in /api/search."""
        results = hub.search(q, limit=limit, offset=offset, mode=mode, diversify=diversify, expand=expand,
                             filters={"doc_type": doc_type, "language": language, "tags": tag, "year": year})
        return results.to_json()

    @app.get("/api/documents", summary="Every document in the catalog")
    def api_documents() -> list[dict[str, Any]]:
        counts = hub.catalog.passage_counts()
        return [_doc_json(d) | {"passages": counts.get(d.id, 0)} for d in hub.documents()]

    @app.get("/api/documents/{doc_id}", summary="One document with its passages")
    def api_document(doc_id: str) -> dict[str, Any]:
        doc = hub.document(doc_id)
        return _doc_json(doc) | {"passages": [
            {"chunk_id": c.id, "page": c.page, "heading": c.heading, "text": c.text} for c in doc.chunks]}

    @app.get("/api/recommend", summary="Practices ranked for an advisory question")
    def api_recommend(q: str = Query(..., description="the advisory question"),
                      limit: int = Query(5, ge=1, le=50), population: str = "", setting: str = "",
                      level: str = "", theme: str = "") -> dict[str, Any]:
        """recommendations (practice_id, name, rating and its meaning, score, reasons with
        doc_id/page/snippet, forums, ...) and avoid (harmful practices matching the question)."""
        advice = hub.recommend(q, limit=limit, context={"population": population, "setting": setting,
                                                        "level": level, "theme": theme})
        return advice.to_json()

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

    @app.get("/api/health", summary="Liveness and what the hub holds")
    def api_health() -> dict[str, Any]:
        return hub.health()

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return _docs_page(app)

    from web import accounts, briefs, cases

    for module in (accounts, cases, briefs):
        module.register(app, hub, pages)
    return app


async def _check_input(request: Request) -> Any:
    """Refuse text that is not valid Unicode (lone surrogates, NUL) in the path, the query, a JSON
    body or form fields, once for every route, with a 422 naming the field: the stores and
    exports cannot encode it, and failing there was a 500. Returns the form, if one was sent."""
    check_tree(dict(request.path_params))
    for key, value in request.query_params.multi_items():
        check_text(key, "query (a parameter name)")
        check_text(value, key)
    if request.method in _SAFE_METHODS:
        return None
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind.startswith(_FORMS):
        form = await request.form(max_files=2, max_fields=200)
        for key, value in form.multi_items():
            check_text(key, "form (a field name)")
            if isinstance(value, str):
                check_text(value, key)
            else:
                check_text(value.filename, f"{key} (file name)")
        return form
    if not kind or kind == "application/json" or kind.endswith("+json"):
        if await request.body():
            try:
                body = await request.json()
            except (ValueError, RecursionError):
                return None  # not JSON: the route reports it, if it reads a body at all
            check_tree(body)
    return None


#: Swagger UI from its CDN, allowed by a policy naming that host and the one inline script by its
#: hash: nothing else on the page can run, and it cannot be framed.
_CDN = "https://cdn.jsdelivr.net"


def _docs_page(app: FastAPI) -> Response:
    import base64
    import hashlib
    import re

    from fastapi.openapi.docs import get_swagger_ui_html

    page = get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - API",
                               swagger_favicon_url="data:,")
    html = page.body.decode()
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
                      for script in re.findall(r"<script>(.*?)</script>", html, re.S))
    page.headers["Content-Security-Policy"] = (
        f"default-src 'none'; script-src {_CDN} {hashes}; style-src {_CDN} 'unsafe-inline'; "
        f"img-src 'self' data: {_CDN}; connect-src 'self'; font-src {_CDN}; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'")
    return page


def _doc_json(doc) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return {"doc_id": doc.id, "source": doc.source, "title": doc.title, "doc_type": doc.doc_type,
            "language": doc.language, "format": doc.format, "pages": doc.pages, "tags": doc.tags,
            "year": doc.year, "authors": doc.authors, "source_url": doc.source_url}


def _filter_options(hub: Hub) -> dict[str, list[str]]:
    docs = hub.documents()
    return {
        "doc_type": sorted({d.doc_type for d in docs}),
        "language": sorted({d.language for d in docs}),
        "tags": sorted({t for d in docs for t in d.tags}),
    }


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
    from collections import Counter

    out = {}
    for key, attr in (("theme", "themes"), ("level", "levels"), ("population", "populations")):
        out[key] = Counter(x for p in practices for x in getattr(p, attr)).most_common()
    out["rating"] = [(k, n) for k in SCALE if (n := sum(p.rating.key == k for p in practices))]
    return out


#: Documents a practice page shows, strongest links first: a practice of a large library can be
#: linked to hundreds (the page took 10 s at 100,000 passages); the API lists them all.
EVIDENCE_ON_PAGE = 20


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


def _page_url(base: list[tuple[str, str]], page: int) -> str:
    return "/?" + urlencode(base + [("page", str(page))])


def _facet_url(base: list[tuple[str, str]], key: str, value: str) -> str:
    """Toggle one facet value on or off, back to page 1."""
    pair = (key, value)
    params = [p for p in base if p != pair] if pair in base else [p for p in base if key != "year" or p[0] != "year"] + [pair]
    return "/?" + urlencode(params)


__all__ = ["SERVER_OPTIONS", "create_app", "InvalidQuery"]
