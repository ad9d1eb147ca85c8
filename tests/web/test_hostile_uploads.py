"""Hostile uploads over real HTTP: refused by name with a 4xx, never a 500, and the stores stay in
step (/api/health says ``consistent``)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import httpx
import pytest

from hub.core import Hub
from tests.conftest import PASSWORDS, settings_for
from tests.ingest.test_hostile_files import billion_laughs, circular_front_matter, shared_stream_pdf

CASE = {"title": "Night walks in the old town", "city": "Lyon", "country": "France", "language": "en",
        "summary": "Residents walked the old town at night with the lighting engineers.", "themes": "lighting"}


@pytest.fixture(scope="module")
def live_hub(tmp_path_factory, library_home: Path, embedder) -> Hub:
    """The library hub with small parse limits (this module's own: it overrides conftest's)."""
    home = tmp_path_factory.mktemp("hostile-live") / "home"
    shutil.copytree(library_home, home, ignore=shutil.ignore_patterns(".lock", ".collection"))
    h = Hub(settings_for(home, max_file_mb=2, max_upload_mb=3, parse_timeout_s=3, max_passages_per_document=20),
            embedder=embedder)
    for name, role in (("mona", "moderator"), ("maya", "member")):
        h.accounts.register(name, PASSWORDS[name], role=role, display_name=name.title())
    yield h
    h.close()


def _client(server: str, name: str) -> httpx.Client:
    r = httpx.post(f"{server}/api/auth/token", json={"username": name, "password": PASSWORDS[name]})
    assert r.status_code == 200, r.text
    return httpx.Client(base_url=server, headers={"Authorization": f"Bearer {r.json()['token']}"}, timeout=120)


def _consistent(client: httpx.Client) -> bool:
    return client.get("/api/health").json()["consistent"] is True


@pytest.mark.parametrize("make, reason", [
    (circular_front_matter, "front matter uses YAML aliases (&/*), which the hub does not accept"),
    (billion_laughs, "front matter uses YAML aliases (&/*), which the hub does not accept"),
    (shared_stream_pdf, "took longer than 3 s to parse"),
], ids=["circular.md", "laughs.md", "shared-stream.pdf"])
def test_a_hostile_upload_is_refused_by_name_when_shared(live_server, tmp_path: Path, make, reason) -> None:
    member = _client(live_server, "maya")
    suffix = ".pdf" if make is shared_stream_pdf else ".md"
    path = make(tmp_path / f"upload{suffix}")
    r = member.post("/api/submissions", data=CASE, files={"file": (path.name, path.read_bytes(), "text/plain")})
    assert r.status_code == 400, r.text
    assert r.json() == {"ok": False, "error": f"{path.name}: {reason}"}
    assert _consistent(member)


def test_an_approval_the_ingester_refuses_is_a_4xx_and_leaves_the_stores_consistent(
        live_server, live_hub: Hub, tmp_path: Path) -> None:
    member, moderator = _client(live_server, "maya"), _client(live_server, "mona")
    long_report = "\n\n".join(" ".join(f"Walk {p} stop {i}: the group noted a dark corner by the stairs."
                                       for i in range(25)) for p in range(30))
    sub = member.post("/api/submissions", data=CASE | {"title": "A very long walk report"},
                      files={"file": ("walks.txt", ("Walk report\n\n" + long_report).encode(), "text/plain")})
    assert sub.status_code == 201, sub.text

    r = moderator.post(f"/api/moderation/{sub.json()['id']}/approve")

    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error.startswith("A very long walk report: cannot be indexed: makes ") and "20-passage limit" in error
    assert member.get(f"/api/submissions/{sub.json()['id']}").json()["status"] == "pending"
    assert _consistent(member)


def test_an_approval_the_catalog_refuses_is_a_4xx_and_nothing_reaches_the_indexes(
        live_server, live_hub: Hub) -> None:
    """Before: a 500 (the catalog's error), with the passages already in Qdrant and Whoosh."""
    member, moderator = _client(live_server, "maya"), _client(live_server, "mona")
    sub = member.post("/api/submissions", data=CASE | {"title": "Refused walk"})
    assert sub.status_code == 201, sub.text
    before = live_hub.health()["passages"]
    with sqlite3.connect(live_hub.settings.catalog_path) as db:
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON documents WHEN NEW.title = 'Refused walk' "
                   "BEGIN SELECT RAISE(ABORT, 'refused by the catalog'); END")
    try:
        r = moderator.post(f"/api/moderation/{sub.json()['id']}/approve")
    finally:
        with sqlite3.connect(live_hub.settings.catalog_path) as db:
            db.execute("DROP TRIGGER refuse")

    assert r.status_code == 400, r.text
    assert r.json()["error"] == ("Refused walk: cannot be indexed: cannot be catalogued "
                                 "(IntegrityError: refused by the catalog)")
    health = member.get("/api/health").json()
    assert health["consistent"] is True and health["passages"] == before
    assert live_hub.check().ok
