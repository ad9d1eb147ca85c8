"""The web hub: search pages for people, a JSON API for scripts, both over one :class:`Hub`.

``create_app`` assembles the parts, each in its own module: the layers around every request
(``middleware.py``), what a request must pass before its route (``guard.py``: who is asking, CSRF,
rate limits), error answers (``errors.py``), page rendering (``pages.py``), and the routers, each
registering its own routes. The hub (model, indexes) is created once per process and handed in, so
requests never load a model. Expected errors become 4xx answers with a message: JSON for ``/api``,
a page otherwise.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from hub.core import Hub
from web import accounts, advice, briefs, cases, errors, library, local, middleware, system
from web.guard import request_guard
from web.limits import Limits
from web.pages import HERE, Pages, templates
from web.sessions import Sessions

#: What the ASGI server must be told (``uvicorn.run(app, ..., **SERVER_OPTIONS)``): uvicorn
#: otherwise rewrites the client address from X-Forwarded-For for any peer on loopback, before the
#: app can tell a proxy from a client lying about its address; the app reads the header itself,
#: from the proxies named in HUB_TRUSTED_PROXIES only (web/limits.py).
SERVER_OPTIONS: dict[str, Any] = {"proxy_headers": False, "server_header": False}

#: The routers, each a module with ``register(app, hub, pages)``.
ROUTERS = (library, advice, system, accounts, cases, briefs, local)


def create_app(hub: Hub) -> FastAPI:
    sessions = Sessions(hub.secret_key(), secure=hub.settings.secure_cookies)
    limits = Limits(hub.settings)
    app = FastAPI(
        docs_url=None, redoc_url=None,  # /docs is served by web/system.py, with a policy for its scripts
        title="Urban Safety Knowledge Hub",
        description="Search a library of crime-prevention evidence; share case studies (moderated); "
                    "build technical-support briefs. Scripts authenticate with an API token "
                    "(`Authorization: Bearer <token>`, from `POST /api/auth/token` or `hub users token`).",
        version="0.2.0",
        dependencies=[Depends(request_guard(hub, sessions, limits))],
    )
    app.state.hub = hub
    app.state.limits = limits
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    middleware.install(app, sessions, max_body_bytes=int(hub.settings.max_upload_mb * 1024 * 1024))
    pages = Pages(templates(), sessions, hub)
    errors.install(app, pages)
    for router in ROUTERS:
        router.register(app, hub, pages)
    return app


__all__ = ["SERVER_OPTIONS", "create_app"]
