"""The library: the search page and document pages, and their JSON (``/api/search``,
``/api/search/full``, ``/api/documents``). The page and the API read the same parameters into
one :class:`search.request.SearchRequest`."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from hub.core import Hub
from search.request import MAX_LIMIT, MAX_PRACTICES, MODES, SearchRequest
from web.pages import Pages

PAGE_SIZE = 10
_MEDIA_TYPES = {".pdf": "application/pdf", ".html": "text/plain; charset=utf-8",
                ".htm": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
                ".markdown": "text/markdown; charset=utf-8", ".txt": "text/plain; charset=utf-8",
                ".text": "text/plain; charset=utf-8"}
_MODE_PATTERN = "^(" + "|".join(MODES) + ")$"


def search_request(question_required: bool) -> Callable[..., SearchRequest]:
    """The search parameters of the page and of the API, read the same way; the API requires a
    question (422 without one), the page shows its form."""

    def read(q: str = Query(... if question_required else "", description="the question or keywords"),
             limit: int = Query(PAGE_SIZE, ge=1, le=MAX_LIMIT), offset: int = Query(0, ge=0),
             doc_type: list[str] = Query(default=[], description="only these document types"),
             language: list[str] = Query(default=[], description="only these languages: en, fr, es"),
             tag: list[str] = Query(default=[], description="only documents with these tags"),
             year: str = Query("", description="a year or a range: 2015, 2010..2020, 2018.."),
             mode: str = Query("hybrid", pattern=_MODE_PATTERN),
             diversify: bool = Query(False, description="spread results over different evidence (MMR)"),
             expand: bool = Query(True, description="expand the query with the thesaurus, and carry its "
                                                   "words into the library's other languages (the lexicon)"),
             practices: int = Query(0 if question_required else 3, ge=0, le=MAX_PRACTICES,
                                    description="how many practices that fit the question to list beside the "
                                                "documents (/api/search/full); practice profiles are among the "
                                                "documents only when doc_type asks for them")
             ) -> SearchRequest:
        return SearchRequest(q, limit=limit, offset=offset, mode=mode, diversify=diversify, expand=expand,
                             practices=practices, filters={"doc_type": doc_type, "language": language, "tags": tag, "year": year})

    return read


def url_params(request: SearchRequest) -> list[tuple[str, str]]:
    """The request as query-string pairs (page links and facet toggles keep every choice)."""
    params = [("q", request.query)]
    for key, values in request.filters.items():
        if key == "year":
            start, end = values
            params.append(("year", str(start) if start == end else f"{start or ''}..{end or ''}"))
        else:
            params.extend(("tag" if key == "tags" else key, v) for v in values)
    if request.mode != "hybrid":
        params.append(("mode", request.mode))
    if request.diversify:
        params.append(("diversify", "true"))
    if not request.expand:
        params.append(("expand", "false"))
    return params


def register(app: FastAPI, hub: Hub, pages: Pages) -> None:
    page_request, api_request = search_request(False), search_request(True)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def search_page(request: Request, asked: SearchRequest = Depends(page_request),
                    page: int = Query(default=1, ge=1, le=1000)) -> Response:
        base = url_params(asked)
        selected = {key: [v for k, v in base if k == ("tag" if key == "tags" else key)]
                    for key in ("doc_type", "language", "tags")}
        selected["year"] = next((v for k, v in base if k == "year"), "")  # type: ignore[assignment]
        context: dict[str, Any] = {"q": asked.query, "selected": selected, "options": _filter_options(hub),
                                   "results": None, "diversify": asked.diversify}
        if not asked.query:  # the introduction counts the documents searched and the profiles beside them
            from practices.profile import PRACTICE_TYPE

            context.update(counts=hub.catalog.counts(), profiles=hub.catalog.counts_of(PRACTICE_TYPE))
        else:
            offset = (page - 1) * asked.limit
            results = hub.search(replace(asked, offset=offset))
            context.update(results=results, page=page, base_query=base,
                           pages=max(1, math.ceil(results.total / asked.limit)))
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
                marked[chunk.id] = make_snippet(chunk.body, q, chunk.language_in(doc), width=10_000).html
        return pages.render(request, "document.html", {"doc": doc, "by_page": by_page, "marked": marked, "q": q})

    @app.get("/documents/{doc_id}/original", include_in_schema=False)
    def original(doc_id: str) -> Response:
        doc = hub.document(doc_id)
        path = hub.original(doc)
        media = _MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")
        response = FileResponse(path, media_type=media, filename=Path(doc.source).name,
                                content_disposition_type="inline")
        # An ingested web page is shown as text and sandboxed: its scripts never run on our origin.
        response.headers["Content-Security-Policy"] = "sandbox"
        return response

    @app.get("/api/search", summary="Hybrid search, one result per document")
    def api_search(asked: SearchRequest = Depends(api_request)) -> list[dict[str, Any]]:
        """A JSON array, best first: doc_id, source, title, doc_type, language, page, score, snippet,
        highlights, passages (each with its page), ... The same parameters as /api/search/full.
        The hub's practice profiles are not among the documents unless doc_type=practice."""
        return [hit.to_json() for hit in hub.search(replace(asked, practices=0)).hits]

    @app.get("/api/search/full", summary="Hybrid search with facets, suggestion and concepts")
    def api_search_full(asked: SearchRequest = Depends(api_request)) -> dict[str, Any]:
        """An object: total, facets (doc_type, language, tags, year, with counts), suggestion
        ("did you mean"), thesaurus concepts found in the query, the question's words as carried
        into the library's other languages (carried), the practices whose profiles fit the
        question (practices=N: practice_id, names, rating, relevance), and hits as in /api/search."""
        return hub.search(asked).to_json()

    @app.get("/api/documents", summary="Every document in the catalog")
    def api_documents() -> list[dict[str, Any]]:
        counts = hub.catalog.passage_counts()
        return [d.to_json(passages=counts.get(d.id, 0)) for d in hub.documents()]

    @app.get("/api/documents/{doc_id}", summary="One document with its passages")
    def api_document(doc_id: str) -> dict[str, Any]:
        doc = hub.document(doc_id)
        return doc.to_json(passages=[c.to_json() for c in doc.chunks])


def _filter_options(hub: Hub) -> dict[str, list[str]]:
    docs = hub.documents()
    return {
        "doc_type": sorted({d.doc_type for d in docs}),
        "language": sorted({d.language for d in docs}),
        "tags": sorted({t for d in docs for t in d.tags}),
    }
