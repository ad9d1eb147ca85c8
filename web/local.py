"""Writes handed over by the command line on the same machine (hub/serving.py): `hub ingest` and
`hub remove` on a home this server holds. Only from loopback, only with the secret of the note
the server left in its home; not part of the public API."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from pydantic import BaseModel, Field

from hub import serving
from hub.core import Hub
from hub.errors import Forbidden, HubError, NotFound

_LOOPBACK = {"127.0.0.1", "::1"}


class IngestOrder(BaseModel):
    #: Absolute paths on this machine, as the command line resolved them.
    paths: list[str] = Field(min_length=1, max_length=10_000)
    force: bool = False


class RemoveOrder(BaseModel):
    sources: list[str] = Field(min_length=1, max_length=10_000)


def register(app: FastAPI, hub: Hub, pages: Any) -> None:
    def check(request: Request) -> None:
        served = getattr(app.state, "served", None)
        if served is None:
            raise NotFound("this server takes no local commands")
        client = request.client.host if request.client else ""
        if client not in _LOOPBACK or not serving.allowed(served, request.headers.get(serving.TOKEN_HEADER)):
            raise Forbidden("local commands only, with the secret in the served home")

    @app.post("/api/local/ingest", include_in_schema=False)
    def local_ingest(request: Request, order: IngestOrder) -> dict[str, Any]:
        check(request)
        return hub.ingest(order.paths, force=order.force).to_json()

    @app.post("/api/local/remove", include_in_schema=False)
    def local_remove(request: Request, order: RemoveOrder) -> dict[str, Any]:
        check(request)
        removed, errors = [], []
        for source in order.sources:
            try:
                removed += [{"source": d.source, "id": d.id} for d in hub.remove(source)]
            except HubError as exc:
                errors.append(str(exc))
        return {"removed": removed, "errors": errors}
