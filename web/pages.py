"""Rendering a page: the templates (autoescaped), and what every page needs (the visitor, their
CSRF token, their language, a one-time message)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from hub.core import Hub
from web import i18n
from web.i18n import language_of
from web.sessions import Sessions, safe_next

HERE = Path(__file__).parent


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(HERE / "templates"))
    found.env.autoescape = True
    found.env.globals["page_url"] = page_url
    found.env.globals["facet_url"] = facet_url
    return found


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
                   "user": user, "csrf_token": self.sessions.csrf_token(session),
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


def page_url(base: list[tuple[str, str]], page: int) -> str:
    return "/?" + urlencode(base + [("page", str(page))])


def facet_url(base: list[tuple[str, str]], key: str, value: str) -> str:
    """Toggle one facet value on or off, back to page 1."""
    pair = (key, value)
    params = [p for p in base if p != pair] if pair in base else [p for p in base if key != "year" or p[0] != "year"] + [pair]
    return "/?" + urlencode(params)
