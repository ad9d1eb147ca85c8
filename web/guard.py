"""What every request goes through before its route: who is asking (API token or session
cookie), whether its text is text, a CSRF check for cookie-borne writes, and the rate limits."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import Request

from hub.core import Hub
from hub.errors import Forbidden, NotFound, Unauthorised
from hub.forms import check_text, check_tree
from web.limits import Limits
from web.sessions import Sessions

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_FORMS = ("multipart/form-data", "application/x-www-form-urlencoded")


def request_guard(hub: Hub, sessions: Sessions, limits: Limits) -> Callable[[Request], Awaitable[None]]:
    """The app-wide dependency: sets ``request.state.user`` or raises 401/403/422/429."""

    async def prepare(request: Request) -> None:
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
        form = await check_input(request)
        # an API call without a cookie login has nothing for a forged request to ride on
        cookie_write = not by_token and not (request.url.path.startswith("/api/") and user is None)
        if request.method not in SAFE_METHODS and cookie_write:
            token = request.headers.get("x-csrf-token")
            if token is None and form is not None:
                token = form.get("csrf_token")  # type: ignore[assignment]
            if not sessions.csrf_ok(session, token if isinstance(token, str) else None):
                raise Forbidden("this form has expired or did not come from this site (CSRF token missing or "
                                "wrong); reload the page and try again")
        limits.check(request, user)

    return prepare


async def check_input(request: Request) -> Any:
    """Refuse text that is not valid Unicode (lone surrogates, NUL) in the path, the query, a JSON
    body or form fields, once for every route, with a 422 naming the field: the stores and
    exports cannot encode it, and failing there was a 500. Returns the form, if one was sent."""
    check_tree(dict(request.path_params))
    for key, value in request.query_params.multi_items():
        check_text(key, "query (a parameter name)")
        check_text(value, key)
    if request.method in SAFE_METHODS:
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
