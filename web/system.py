"""The hub about itself: ``/api/health`` and the API's documentation page."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

from hub.core import Hub
from web.pages import Pages

#: Swagger UI from its CDN, allowed by a policy naming that host and the one inline script by its
#: hash: nothing else on the page can run, and it cannot be framed.
_CDN = "https://cdn.jsdelivr.net"


def register(app: FastAPI, hub: Hub, pages: Pages) -> None:
    @app.get("/api/health", summary="Liveness and what the hub holds")
    def api_health() -> dict[str, Any]:
        return hub.health()

    @app.get("/docs", include_in_schema=False)
    def docs() -> Response:
        return _docs_page(app)


def _docs_page(app: FastAPI) -> Response:
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
