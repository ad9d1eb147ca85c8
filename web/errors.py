"""Expected errors become answers with a message: JSON ``{"ok": false, "error": ...}`` under
``/api``, an error page otherwise; an anonymous visitor asking for a page that needs a login is
sent to the login page."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.errors import (Conflict, Forbidden, HubError, NotFound, StoreUnavailable, TooManyAttempts,
                        InvalidText, Unauthorised)
from web.guard import SAFE_METHODS
from web.pages import Pages
from web.sessions import BodyTooLarge, safe_next

#: The status of each kind of error; any other HubError (an invalid query or form) is a 400.
STATUS = ((NotFound, 404), (StoreUnavailable, 503), (Unauthorised, 401), (Forbidden, 403), (Conflict, 409),
          (TooManyAttempts, 429), (InvalidText, 422))


def status_of(exc: HubError) -> int:
    return next((code for kind, code in STATUS if isinstance(exc, kind)), 400)


def install(app: FastAPI, pages: Pages) -> None:
    def wants_json(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    def error(request: Request, status: int, message: str) -> Response:
        if wants_json(request):
            return JSONResponse({"ok": False, "error": message}, status_code=status)
        return pages.render(request, "error.html", {"status": status, "message": message}, status_code=status)

    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> Response:
        status = status_of(exc)
        if status == 401 and not wants_json(request) and request.method in SAFE_METHODS:
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
