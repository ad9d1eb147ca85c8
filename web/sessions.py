"""Sessions in signed cookies, CSRF tokens derived from them, and a cap on request bodies.

The cookie holds a random session id, the user id and the user's session version, signed with
the hub's secret (itsdangerous). Bumping the version in the database (password change, role
change, "log out everywhere") invalidates every copy; logging out of one session records its id
as ended (hub/accounts.py), since a copy of a signed cookie would otherwise live on. The CSRF
token is an HMAC of the session id, so every form of one session carries the same token and a
page from another site cannot know it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "hub_session"
MAX_AGE = 14 * 24 * 3600


class Sessions:
    def __init__(self, secret: bytes, secure: bool = False) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="hub-session")
        self._secret = secret
        self.secure = secure

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(18)

    def load(self, cookie: str | None) -> dict[str, Any]:
        if cookie:
            try:
                data = self._serializer.loads(cookie, max_age=MAX_AGE)
                if isinstance(data, dict) and isinstance(data.get("sid"), str):
                    return data
            except BadSignature:
                pass
        return {"sid": self.new_id(), "new": True}

    def dump(self, data: dict[str, Any]) -> str:
        return self._serializer.dumps({k: v for k, v in data.items() if k != "new"})

    def csrf_token(self, session: dict[str, Any]) -> str:
        return hmac.new(self._secret, f"csrf:{session['sid']}".encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: dict[str, Any], token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(session), str(token))

    def set_cookie(self, response: Any, session: dict[str, Any]) -> None:
        response.set_cookie(COOKIE, self.dump(session), max_age=MAX_AGE, httponly=True, samesite="lax",
                            secure=self.secure, path="/")


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the request is over the {limit / 1048576:.0f} MB upload limit")


class BodyLimit:
    """ASGI middleware: refuse bodies over ``limit`` bytes, by Content-Length before reading a
    byte and by counting while reading (a client can lie or stream), so an oversized upload never
    fills the disk or memory.

    Whatever the app makes of a body cut short (FastAPI answers a JSON body it could not read
    with 400), the answer is 413: once the limit is passed, the app's own answer is dropped and
    this one sent instead."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await _refuse(scope, send, self.limit)
            return
        seen = 0
        over = started = False

        async def counted() -> dict:
            nonlocal seen, over
            if over:
                raise BodyTooLarge(self.limit)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    raise BodyTooLarge(self.limit)
            return message

        async def guarded(message: dict) -> None:
            nonlocal started
            if over and not started:
                return  # the app's answer to a body it could not read; ours follows
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not over or started:
                raise
        if over and not started:
            await _refuse(scope, send, self.limit)


async def _refuse(scope: dict, send: Any, limit: int) -> None:
    import json

    message = f"the request is over the {limit / 1048576:.0f} MB upload limit"
    if scope["path"].startswith("/api/"):
        body, kind = json.dumps({"ok": False, "error": message}).encode(), b"application/json"
    else:
        body = (f"<!doctype html><title>413 Too large</title><h1>Too large</h1><p>{message}</p>"
                '<p><a href="javascript:history.back()">Back</a></p>').encode()
        kind = b"text/html; charset=utf-8"
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), (b"x-content-type-options", b"nosniff"),
                            (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")]})
    await send({"type": "http.response.body", "body": body})


def safe_next(url: str | None) -> str:
    """Only paths on this site: an open redirect would let a phishing link borrow our name."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url
