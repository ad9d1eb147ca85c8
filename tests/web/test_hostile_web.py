"""Hostile input cannot take the hub down or out of step (issue 14), replayed over real HTTP.

Each case is what an attacker or a careless script sent; each answer must be a clean 4xx with a
one-line reason (or the right success), quickly. The server runs the way `hub serve` runs it
(web.app.SERVER_OPTIONS), with small rate limits so that reaching them is cheap.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import random
import re
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from hub.core import Hub
from hub.errors import Conflict
from tests.conftest import PASSWORDS, QDRANT_URL, csrf, logged_in, serving, settings_for

FAST = 2.0  # seconds: every hostile request is answered within this
CASE = {"city": "Lyon", "country": "France", "language": "fr",
        "summary": "Une marche exploratoire avec les habitantes du quartier."}


@dataclasses.dataclass
class Live:
    base: str
    hub: Hub
    app: Any


@pytest.fixture(scope="module")
def live(tmp_path_factory, library_home: Path, embedder) -> Iterator[Live]:
    from web.app import create_app

    if QDRANT_URL:
        pytest.skip("runs on the embedded store (a copy of the library home)")
    home = tmp_path_factory.mktemp("hostile") / "home"
    shutil.copytree(library_home, home, ignore=shutil.ignore_patterns(".lock", ".collection"))
    hub = Hub(settings_for(home, max_file_mb=2, max_upload_mb=3, login_attempts=5, upload_limit=3,
                           export_limit=2, search_limit=5), embedder=embedder)
    for name, role in (("ada", "admin"), ("mona", "moderator"), ("amir", "member"), ("maya", "member")):
        hub.accounts.register(name, PASSWORDS[name], role=role, display_name=name.title())
    app = create_app(hub)
    with serving(app) as base:
        yield Live(base, hub, app)
    hub.close()


def browser_session(live: Live, name: str | None = None, password: str | None = None) -> tuple[httpx.Client, str]:
    return logged_in(live.base, name, password or PASSWORDS.get(name or "", ""), timeout=30)


def api(live: Live, name: str) -> httpx.Client:
    token = live.hub.accounts.create_token(live.hub.accounts.by_name(name).id, "test")
    return httpx.Client(base_url=live.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def timed(call, *args, **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = call(*args, **kwargs)
    assert time.perf_counter() - started < FAST, f"took {time.perf_counter() - started:.1f} s"
    return response


def raw_json(text: str) -> dict[str, Any]:
    """A body written by hand, so that escapes such as \\ud800 reach the server as sent."""
    return {"content": text.encode(), "headers": {"Content-Type": "application/json"}}


# --- 1. text that is not valid Unicode -----------------------------------------------------------
def test_lone_surrogates_and_nul_in_json_are_422_naming_the_field(live: Live) -> None:
    maya = api(live, "maya")
    mona = api(live, "mona")
    brief = maya.post("/api/briefs", json={"title": "Surrogates"}).json()
    item = maya.post(f"/api/briefs/{brief['id']}/items", json={"kind": "note", "text": "ok"}).json()
    sub = maya.post("/api/submissions", data=CASE | {"title": "To reject"}).json()
    anonymous = httpx.Client(base_url=live.base, timeout=30)
    cases = [
        (anonymous, "POST", "/api/auth/token", r'{"username": "ada\ud800", "password": "x"}', "username"),
        (anonymous, "POST", "/api/auth/token", r'{"username": "ada", "password": "pass\u0000word-1"}', "password"),
        (anonymous, "POST", "/api/users", r'{"username": "newcomer", "password": "long-enough-\udfff"}', "password"),
        (anonymous, "POST", "/api/users", r'{"username": "new\u0000comer", "password": "long-enough-pass"}',
         "username"),
        (maya, "POST", "/api/briefs", r'{"title": "\ud800"}', "title"),
        (maya, "PATCH", f"/api/briefs/{brief['id']}", r'{"notes": "a\u0000b"}', "notes"),
        (maya, "POST", f"/api/briefs/{brief['id']}/items", r'{"kind": "note", "heading": "\udc80", "text": "x"}',
         "heading"),
        (maya, "PATCH", f"/api/briefs/{brief['id']}/items/{item['id']}", r'{"note": "\ud83d"}', "note"),
        (mona, "POST", f"/api/moderation/{sub['id']}/reject", r'{"reason": "no\ud800"}', "reason"),
        (maya, "POST", "/api/briefs", r'{"title": "ok", "nested": {"deep": ["\ud800"]}}', "nested.deep.0"),
    ]
    for client, method, path, body, field in cases:
        r = timed(client.request, method, path, **raw_json(body))
        assert r.status_code == 422, (path, body, r.status_code, r.text[:200])
        error = r.json()["error"]
        assert error.startswith(f"{field}: ") and ("surrogate" in error or "NUL" in error), error
        assert "\n" not in error
    # nothing was stored, nothing was changed
    assert mona.get(f"/api/submissions/{sub['id']}").json()["status"] == "pending"
    assert [b["title"] for b in maya.get("/api/briefs").json()] == ["Surrogates"]


def test_nul_in_forms_and_queries_is_422(live: Live) -> None:
    client, token = browser_session(live, "amir")
    r = timed(client.post, "/briefs", data={"title": "Night\x00buses", "csrf_token": token})
    assert r.status_code == 422 and "title: contains a NUL character" in r.text
    r = timed(client.post, "/login", data={"username": "ada\x00", "password": "x" * 12, "csrf_token": token})
    assert r.status_code == 422 and "username: contains a NUL character" in r.text
    r = timed(client.get, "/api/search", params={"q": "bus\x00stops"})
    assert r.status_code == 422 and r.json()["error"].startswith("q: contains a NUL")


def test_cli_refuses_text_that_is_not_unicode(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8"}
    home = str(tmp_path / "home")
    done = subprocess.run([sys.executable, "-m", "hub", "--home", home, "users", "add", b"ro\xffot",
                           "--password-stdin"], input=b"root-password-1\n", capture_output=True, env=env, timeout=60)
    assert done.returncode == 2, done.stderr
    assert b"username: contains a lone UTF-16 surrogate" in done.stderr and b"Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "hub", "--home", home, "users", "add", "root", "--password-stdin"],
                          input=b"root-pass\xff-word\n", capture_output=True, env=env, timeout=60)
    assert done.returncode == 2 and b"password:" in done.stderr and b"Traceback" not in done.stderr


# --- 2, 3. logout, log out everywhere, password change ------------------------------------------
def test_logout_ends_the_session_on_the_server(live: Live) -> None:
    client, token = browser_session(live, "amir")
    stolen = dict(client.cookies)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 303
    thief = httpx.Client(base_url=live.base, cookies=stolen, follow_redirects=False, timeout=30)
    r = timed(thief.post, "/api/briefs", json={"title": "After logout"}, headers={"X-CSRF-Token": token})
    assert r.status_code in (401, 403), r.text
    r = timed(thief.post, "/briefs", data={"title": "After logout", "csrf_token": token})
    assert r.status_code in (401, 403)
    assert thief.get("/account").status_code == 303  # to the login page
    assert "After logout" not in [b.title for b in live.hub.briefs.of(live.hub.accounts.by_name("amir"))]


def test_log_out_everywhere_ends_every_session(live: Live) -> None:
    here, token = browser_session(live, "maya")
    there, there_token = browser_session(live, "maya")
    assert "Log out everywhere" in here.get("/account").text
    r = here.post("/account/sessions/end", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert there.get("/account").status_code == 303
    assert here.get("/account").status_code == 303
    r = there.post("/api/briefs", json={"title": "x"}, headers={"X-CSRF-Token": there_token})
    assert r.status_code in (401, 403)


def test_password_change_revokes_other_sessions_and_every_api_token(live: Live) -> None:
    live.hub.accounts.register("paz", "paz-password-1")
    tokens = [httpx.post(f"{live.base}/api/auth/token", json={"username": "paz", "password": "paz-password-1",
                                                               "label": f"script {i}"}).json()["token"]
              for i in range(2)]
    here, token = browser_session(live, "paz", "paz-password-1")
    there, _ = browser_session(live, "paz", "paz-password-1")
    page = here.get("/account")
    assert 'href="/account/password"' in page.text
    new = {"new_password": "paz-password-2", "new_password2": "paz-password-2"}
    r = timed(here.post, "/account/password", data=new | {"current_password": "wrong-password", "csrf_token": token})
    assert r.status_code == 401 and "wrong user name or password" in r.text
    r = here.post("/account/password", data={"current_password": "paz-password-1", "new_password": "paz-password-2",
                                             "new_password2": "paz-password-2"})
    assert r.status_code == 403  # no CSRF token, no change
    r = here.post("/account/password", data={"current_password": "paz-password-1", "new_password": "paz-password-2",
                                             "new_password2": "paz-password-2", "csrf_token": token},
                  follow_redirects=True)
    assert r.status_code == 200 and "Your other sessions and 2 API tokens were revoked." in r.text
    for old in tokens:
        assert httpx.get(f"{live.base}/api/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert there.get("/account").status_code == 303
    assert here.get("/account").status_code == 200  # this browser was re-issued a session
    assert httpx.post(f"{live.base}/api/auth/token",
                      json={"username": "paz", "password": "paz-password-2"}).status_code == 200


def test_admin_setting_a_password_revokes_api_tokens(live: Live) -> None:
    accounts = live.hub.accounts
    accounts.register("quin", "quin-password-1")
    user = accounts.by_name("quin")
    token = accounts.create_token(user.id, "cron")
    assert accounts.set_password(user.id, "quin-password-2") == 1
    assert accounts.user_for_token(token) is None
    assert httpx.get(f"{live.base}/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


# --- 4. X-Forwarded-For from anyone ---------------------------------------------------------------
def test_forged_forwarded_for_does_not_escape_the_address_throttle(live: Live) -> None:
    live.hub.community.execute("DELETE FROM login_failures")
    try:
        codes = []
        for i in range(22):
            r = timed(httpx.post, f"{live.base}/api/auth/token",
                      json={"username": f"nobody{i}", "password": "guess-guess-guess"},
                      headers={"X-Forwarded-For": f"198.51.100.{i}"})
            codes.append(r.status_code)
        assert codes[:20] == [401] * 20 and codes[20:] == [429, 429], codes
        assert "try again in" in r.json()["error"] and int(r.headers["Retry-After"]) >= 1
    finally:
        live.hub.community.execute("DELETE FROM login_failures")


def test_forwarded_for_is_read_only_from_trusted_proxies() -> None:
    from web.limits import client_address, parse_networks

    trusted = parse_networks("127.0.0.1, 10.0.0.0/8")
    assert client_address("203.0.113.7", ["1.2.3.4"], trusted) == "203.0.113.7"
    assert client_address("127.0.0.1", ["1.2.3.4"], ()) == "127.0.0.1"
    assert client_address("127.0.0.1", ["1.2.3.4"], trusted) == "1.2.3.4"
    # a client's own X-Forwarded-For is on the left of what our proxies add
    assert client_address("127.0.0.1", ["6.6.6.6, 1.2.3.4, 10.1.1.1"], trusted) == "1.2.3.4"
    assert client_address("127.0.0.1", ["not-an-ip"], trusted) == "127.0.0.1"


# --- 5. rate limits ------------------------------------------------------------------------------
def test_uploads_are_rate_limited_per_account(live: Live) -> None:
    amir = api(live, "amir")
    codes = [amir.post("/api/submissions", data=CASE | {"title": f"Case {i}"}).status_code for i in range(3)]
    assert codes == [201] * 3
    r = timed(amir.post, "/api/submissions", data=CASE | {"title": "One too many"})
    assert r.status_code == 429 and "too many case-study uploads" in r.json()["error"]
    assert 1 <= int(r.headers["Retry-After"]) <= 3600
    live.app.state.limits.reset()


def test_searches_are_rate_limited_per_account(live: Live) -> None:
    client = api(live, "mona")
    codes = [client.get("/api/search", params={"q": "street lighting"}).status_code for _ in range(5)]
    assert codes == [200] * 5
    r = timed(client.get, "/api/recommend", params={"q": "street lighting"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    live.app.state.limits.reset()


# --- 6. exports: cached per version, and rate-limited ------------------------------------------
def test_shared_export_is_rendered_once_per_version_and_rate_limited(live: Live) -> None:
    live.app.state.limits.reset()
    ada = api(live, "ada")
    brief = ada.post("/api/briefs", json={"title": "Long brief", "problem": "Night-time robberies."}).json()
    for i in range(40):
        ada.post(f"/api/briefs/{brief['id']}/items", json={"kind": "note", "heading": f"Section {i}",
                                                            "text": "Walk the area at night with residents. " * 150})
    url = ada.post(f"/api/briefs/{brief['id']}/share").json()["url"]
    cache = live.app.state.exports
    first = httpx.get(url, params={"format": "pdf"}, timeout=60)
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    renders = cache.renders
    for _ in range(3):
        again = timed(httpx.get, url, params={"format": "pdf"})
        assert again.content == first.content
    assert cache.renders == renders  # served from the cache
    ada.patch(f"/api/briefs/{brief['id']}", json={"title": "Long brief, revised"})
    changed = httpx.get(url, params={"format": "pdf"}, timeout=60)
    assert changed.status_code == 200 and changed.content != first.content and cache.renders == renders + 1
    # an anonymous reader is an address: four readers' worth (8) a minute, then they wait
    codes = [timed(httpx.get, url, params={"format": "pdf"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429], codes
    r = timed(httpx.get, url, params={"format": "md"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    live.app.state.limits.reset()


# --- 7. user names in every spelling -------------------------------------------------------------
def test_user_names_are_normalised_and_the_last_admin_stays(live: Live) -> None:
    ada = api(live, "ada")
    for spelling in ("%20ada", "ADA", "ada%20", "%EF%BD%81da"):  # the last: a full-width "ａ"
        r = timed(ada.put, f"/api/users/{spelling}/role", json={"role": "member"})
        assert r.status_code == 403 and "from yourself" in r.json()["error"], (spelling, r.text)
    assert live.hub.accounts.by_name("ada").role == "admin"
    with pytest.raises(Conflict, match="last admin"):
        live.hub.accounts.set_role(" ＡＤＡ ", "member")  # the CLI's path: no acting admin
    r = httpx.post(f"{live.base}/api/users", json={"username": " MAYA ", "password": "another-password"})
    assert r.status_code == 409
    r = httpx.post(f"{live.base}/api/users", json={"username": "  NewPerson ", "password": "another-password"})
    assert r.status_code == 201 and r.json()["username"] == "newperson"
    # with a second admin, either may demote the other, whatever the spelling
    live.hub.accounts.set_role("mona", "admin")
    r = ada.put("/api/users/%20MONA/role", json={"role": "moderator"})
    assert r.status_code == 200 and r.json()["role"] == "moderator"


# --- 8. smaller ones ------------------------------------------------------------------------------
def test_oversized_chunked_json_is_413(live: Live) -> None:
    maya = api(live, "maya")

    def chunks() -> Iterator[bytes]:
        yield b'{"title": "big", "notes": "'
        for _ in range(32):
            yield b"x" * (128 * 1024)  # 4 MB in all, over the 3 MB limit, with no Content-Length
        yield b'"}'

    r = timed(maya.post, "/api/briefs", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"].startswith("the request is over the 3 MB")


def test_markdown_export_writes_characters_not_html_entities(live: Live) -> None:
    maya = api(live, "maya")
    brief = maya.post("/api/briefs", json={"title": "Ages < 25 & > 60", "problem": "Use <b>bold</b> & &amp;"}).json()
    md = maya.get(f"/api/briefs/{brief['id']}/export", params={"format": "md"}).text
    assert "# Ages < 25 & > 60" in md and "&lt;" not in md and "&gt;" not in md
    assert "Use \\<b>bold\\</b> & \\&amp;" in md  # what would be markup stays text


def test_language_cookie_is_secure_with_secure_cookies(live: Live, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from web.app import create_app

    monkeypatch.setattr(live.hub, "settings", dataclasses.replace(live.hub.settings, secure_cookies=True))
    client = TestClient(create_app(live.hub), base_url="https://hub.example")
    token = csrf(client, "/login")
    r = client.post("/language", data={"lang": "fr", "csrf_token": token}, follow_redirects=False)
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("hub_lang="))
    assert "secure" in cookie.lower()


def test_docs_and_pages_carry_a_content_security_policy(live: Live) -> None:
    docs = httpx.get(f"{live.base}/docs")
    assert docs.status_code == 200 and "SwaggerUIBundle" in docs.text
    policy = docs.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    scripts = re.findall(r"<script>(.*?)</script>", docs.text, re.S)
    assert scripts
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    for path in ("/", "/login", "/practices", "/no/such/page"):
        r = httpx.get(f"{live.base}{path}")
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"], path
        assert "script-src 'self'" in r.headers["content-security-policy"], path


# --- a bounded fuzz pass over the JSON API --------------------------------------------------------
def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(12)
    if kind == 0:
        return "".join(chr(rng.choice([rng.randrange(0x20, 0x7f), rng.randrange(0xa0, 0xd800),
                                       rng.randrange(0xd800, 0xe000), rng.randrange(0xe000, 0x110000), 0]))
                       for _ in range(rng.randrange(1, 40)))
    if kind == 1:
        return rng.choice(["\ud800", "\udfff", "a\x00b", "\u202e", "\ufeff", "𝕏", "", " ", "../../etc/passwd",
                           "<script>alert(1)</script>", "' OR 1=1 --", "%00", "\\", "null"])
    if kind == 2:
        return "x" * rng.choice([201, 1001, 8001, 100_000, 1_000_000])
    if kind == 3:
        return rng.choice([0, -1, 2**63, -(2**63) - 1, 10**30, 3.5, float("1e308")])
    if kind == 4:
        return rng.choice([True, False, None])
    if kind == 5 and depth < 3:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if kind == 6 and depth < 3:
        return {_random_text(rng): _random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}
    if kind == 7:
        nested: Any = "deep"
        for _ in range(rng.choice([10, 100, 500])):
            nested = [nested]
        return nested
    return rng.choice(["note", "passage", "practice", "member", "admin", "moderator", "md", "street lighting",
                       "ada", "maya", PASSWORDS["maya"], "c0", "1"])


def _random_text(rng: random.Random) -> str:
    return rng.choice(["title", "question", "city", "problem", "partners", "notes", "kind", "note", "text",
                       "heading", "chunk_id", "chunk_ids", "practice_id", "item_ids", "reason", "role",
                       "username", "password", "display_name", "label", "\ud800", "\x00", "x" * 300])


def test_fuzzing_the_json_api_never_gives_500(live: Live) -> None:
    rng = random.Random(14)
    amir = api(live, "amir")
    mona = api(live, "mona")
    ada = api(live, "ada")
    anonymous = httpx.Client(base_url=live.base, timeout=30)
    live.hub.accounts.register("fuzzed", "fuzzed-password-1")
    brief = amir.post("/api/briefs", json={"title": "Fuzz target"}).json()
    item = amir.post(f"/api/briefs/{brief['id']}/items", json={"kind": "note", "text": "x"}).json()
    sub = live.hub.moderation.submit(live.hub.accounts.by_name("maya"), CASE | {"title": "Fuzz case"})
    b, i = brief["id"], item["id"]
    targets = [
        (anonymous, "POST", "/api/auth/token", ["username", "password", "label"]),
        (anonymous, "POST", "/api/users", ["username", "password", "display_name"]),
        (amir, "POST", "/api/briefs", ["title", "question", "city", "problem", "partners", "notes"]),
        (amir, "PATCH", f"/api/briefs/{b}", ["title", "question", "city", "problem", "partners", "notes"]),
        (amir, "POST", f"/api/briefs/{b}/items", ["kind", "practice_id", "chunk_id", "chunk_ids", "heading",
                                                   "text", "note"]),
        (amir, "PATCH", f"/api/briefs/{b}/items/{i}", ["note"]),
        (amir, "PUT", f"/api/briefs/{b}/order", ["item_ids"]),
        (ada, "PUT", "/api/users/fuzzed/role", ["role"]),
        (mona, "POST", f"/api/moderation/{sub.id}/reject", ["reason"]),
    ]
    started = time.perf_counter()
    failures = []
    try:
        for n in range(300):
            client, method, path, fields = rng.choice(targets)
            if rng.random() < 0.1:  # not an object at all, or not JSON
                body = rng.choice([b"[]", b'"text"', b"42", b"null", b"{", b'{"a": "\xff\xfe"}', b"\xed\xa0\x80",
                                   b"[" * 5000 + b"]" * 5000])
            else:
                value = {f: _random_value(rng) for f in fields if rng.random() < 0.8}
                if rng.random() < 0.2:
                    value[_random_text(rng)] = _random_value(rng)
                body = json.dumps(value).encode()  # ensure_ascii: lone surrogates travel as \\udXXX escapes
            r = client.request(method, path, content=body, headers={"Content-Type": "application/json"})
            if r.status_code >= 500:
                failures.append((method, path, body[:200], r.status_code, r.text[:200]))
    finally:
        live.hub.community.execute("DELETE FROM login_failures")
    assert not failures, failures[:5]
    assert time.perf_counter() - started < 30
    assert live.hub.accounts.by_name("ada").role == "admin"
