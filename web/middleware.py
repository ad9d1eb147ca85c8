"""The layers around every request, each with one job: the session cookie (read before the
route, written after it when the session changed), the request log, and the security headers."""

from __future__ import annotations

import logging
import time
from typing import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response

from hub import logs
from web.sessions import COOKIE, BodyLimit, Sessions

Next = Callable[[Request], Awaitable[Response]]

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
}


def install(app: FastAPI, sessions: Sessions, max_body_bytes: int) -> None:
    """Add the layers, innermost first: the session, then the log (so it sees the user the
    route found), then the headers; the body limit wraps them all."""
    log = logs.get("web")

    @app.middleware("http")
    async def session_cookie(request: Request, call_next: Next) -> Response:
        session = sessions.load(request.cookies.get(COOKIE))
        before = dict(session)
        request.state.session = session
        response = await call_next(request)
        # a new visitor gets a cookie on pages (for the CSRF token of the forms they will see)
        if session != before or (session.get("new") and not request.url.path.startswith(("/api/", "/static/"))):
            sessions.set_cookie(response, session)
        return response

    @app.middleware("http")
    async def request_log(request: Request, call_next: Next) -> Response:
        started = time.perf_counter()
        try:
            response = await call_next(request)
        except Exception:
            logs.event(log, "request failed", logging.ERROR, method=request.method, path=request.url.path,
                       ms=round((time.perf_counter() - started) * 1000, 1))
            raise
        user = getattr(request.state, "user", None)
        logs.event(log, "request", method=request.method, path=request.url.path, status=response.status_code,
                   ms=round((time.perf_counter() - started) * 1000, 1), user=user.username if user else None)
        return response

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Next) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.add_middleware(BodyLimit, limit=max_body_bytes)
