"""One test per README feature of the web app and API that had none (issue 18, point 4).

Everything runs over real HTTP on the real app (tests/conftest.py: `live_server` over
`live_hub`, a copy of the ingested sample library), with httpx clients that keep cookies and send
the CSRF token a page gave them. Features that need settings of their own (registration closed,
a short login window behind a trusted proxy, Secure cookies) get a small hub of their own with no
documents: they only need accounts.

Already covered elsewhere, so not repeated here: a password change ending the other sessions
(tests/web/test_hostile_web.py::test_password_change_revokes_other_sessions_and_every_api_token).
"""

from __future__ import annotations

import html
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from markupsafe import escape

from hub.core import Hub
from tests.conftest import PASSWORDS, csrf, logged_in, serving, settings_for

CASE = {"city": "Lyon", "country": "France", "language": "fr",
        "summary": "Une marche exploratoire avec les habitantes du quartier des Pentes."}


# --- helpers ---------------------------------------------------------------------------------------
def browser(base: str, name: str | None = None, password: str | None = None) -> tuple[httpx.Client, str]:
    return logged_in(base, name, password or PASSWORDS.get(name or "", ""))


def bearer(base: str, hub: Hub, name: str) -> httpx.Client:
    token = hub.accounts.create_token(hub.accounts.by_name(name).id, "test")
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def new_user(hub: Hub, name: str, role: str = "member") -> str:
    """A user of the test's own, so that tests sharing the module's hub do not meet."""
    password = f"{name}-password-1"
    hub.accounts.register(name, password, role=role, display_name=name.title())
    return password


def flash(page: str) -> str:
    found = re.search(r'<p class="flash" role="status">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)).strip() if found else ""


class _Forms(HTMLParser):
    """Every form of a page: its action and the values a browser would send as it stands."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": [], "options": {}})
        elif not self.forms:
            return
        elif tag == "input" and a.get("name"):
            self.forms[-1]["fields"].append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a.get("name")
            self.forms[-1]["options"][self._select] = []
        elif tag == "option" and self._select:
            self.forms[-1]["options"][self._select].append((a.get("value", ""), "selected" in a))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select and self.forms:
            options = self.forms[-1]["options"][self._select]
            chosen = next((v for v, sel in options if sel), options[0][0] if options else "")
            self.forms[-1]["fields"].append((self._select, chosen))
            self._select = None


def forms(page: str, action: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(page)
    return [f for f in parser.forms if f["action"] == action]


def form_data(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


def search(base: str, **params: Any) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/api/search", params=params, timeout=60)
    assert r.status_code == 200, r.text
    return r.json()


# --- /api/search: filters, modes, highlights -----------------------------------------------------
def test_api_search_filters_by_doc_type_language_and_tag(live_server) -> None:
    q = "prevention programmes that reduce reoffending and violence"
    everything = search(live_server, q=q, limit=50)
    assert len({h["doc_type"] for h in everything}) >= 3 and len({h["language"] for h in everything}) >= 2

    reviews = search(live_server, q=q, limit=50, doc_type="review")
    assert reviews and {h["doc_type"] for h in reviews} == {"review"}
    assert "Juvenile boot camps and recidivism" in [h["title"] for h in reviews]

    two_types = search(live_server, q=q, limit=50, doc_type=["review", "evaluation"])
    assert {h["doc_type"] for h in two_types} == {"review", "evaluation"}  # repeatable: either

    # The language filter picks passages: a practice profile carries its summary in English,
    # French and Spanish (README, "Advice"), so it can answer in French under another language.
    french = search(live_server, q=q, limit=50, language="fr")
    assert french and {h["language"] for h in french if h["doc_type"] != "practice"} == {"fr"}
    english_documents = {h["title"] for h in everything if h["language"] == "en" and h["doc_type"] != "practice"}
    assert english_documents and not english_documents & {h["title"] for h in french}
    french_documents = search(live_server, q=q, limit=50, language="fr", doc_type=["document", "case study"])
    assert french_documents and {(h["language"], h["doc_type"]) for h in french_documents} == {
        ("fr", "document"), ("fr", "case study")}

    tagged = search(live_server, q=q, limit=50, tag="reoffending")
    assert tagged and all("reoffending" in h["tags"] for h in tagged)
    assert {h["doc_id"].split("-en-")[0] for h in tagged} >= {
        "juvenile-boot-camps", "restorative-justice-conferencing", "cognitive-behavioural-programmes"}

    both = search(live_server, q=q, limit=50, doc_type="review", language="en", tag="youth")
    assert [h["title"] for h in both] == ["Juvenile boot camps and recidivism"]


def test_api_search_filters_by_year_as_a_parameter_and_in_the_query(live_server) -> None:
    q = "youth violence prevention"
    everything = search(live_server, q=q, limit=50)
    assert any(h["year"] is None for h in everything)  # most sample documents carry no year
    assert {h["year"] for h in everything} - {None} == {2024}
    for by_parameter, by_syntax in (({"year": "2024"}, "year:2024"), ({"year": "2020..2030"}, "year:2020..2030")):
        as_parameter = search(live_server, q=q, limit=50, **by_parameter)
        assert as_parameter and {h["year"] for h in as_parameter} == {2024}
        assert len(as_parameter) < len(everything)
        as_syntax = search(live_server, q=f"{q} {by_syntax}", limit=50)
        assert {h["doc_id"] for h in as_syntax} == {h["doc_id"] for h in as_parameter}
    # a range without the sample's year finds nothing, as a parameter and in the query
    assert search(live_server, q=q, year="2010..2020") == []
    assert search(live_server, q=f"{q} year:2010..2020") == []
    r = httpx.get(f"{live_server}/api/search", params={"q": q, "year": "last summer"})
    assert r.status_code in (400, 422) and "year" in r.json()["error"]


def test_api_search_modes_keyword_dense_and_hybrid(live_server) -> None:
    # words in no document: the keyword index finds nothing of them as written, the encoders
    # still find the meaning (and, expanded, the lexicon carries them into the library's other
    # languages: "womenfolk" finds "mujeres")
    q = "nocturnal ambulation by womenfolk"
    assert search(live_server, q=q, mode="keyword", expand="false") == []
    dense = search(live_server, q=q, mode="dense", limit=5)
    assert len(dense) == 5 and all(h["score"] > 0 for h in dense)
    assert any("walk" in h["title"].lower() or "women" in h["title"].lower() for h in dense), \
        [h["title"] for h in dense]
    hybrid = search(live_server, q=q, mode="hybrid", limit=5)
    assert len(hybrid) == 5 and hybrid[0]["doc_id"] in [h["doc_id"] for h in dense]

    # an exact word: keyword mode finds only passages that have it; dense mode ranks by meaning
    q = "Metrocable"
    keyword = search(live_server, q=q, mode="keyword", limit=10)
    assert keyword and all("metrocable" in h["snippet"].lower() for h in keyword)
    assert any(h["title"].startswith("Medellín - urbanismo social") for h in keyword)
    dense = search(live_server, q=q, mode="dense", limit=10)
    assert len(dense) == 10 and any("metrocable" not in h["snippet"].lower() for h in dense)
    hybrid = search(live_server, q=q, mode="hybrid", limit=3)
    assert {h["doc_id"] for h in hybrid} & {h["doc_id"] for h in keyword}

    r = httpx.get(f"{live_server}/api/search", params={"q": q, "mode": "semantic"})
    assert r.status_code == 422 and "mode" in r.json()["error"]


def test_a_french_question_is_told_which_words_were_searched_in_the_other_languages(live_server) -> None:
    """The lexicon carries "lampadaires" to the English texts' "lamps": the API names the carried
    words, and the search page shows them under the question."""
    r = httpx.get(f"{live_server}/api/search/full", params={"q": "Les lampadaires du parc sont éteints", "limit": 3})
    assert r.status_code == 200 and "lamps" in r.json()["carried"], r.json()["carried"]
    page = httpx.get(f"{live_server}/", params={"q": "Les lampadaires du parc sont éteints"})
    assert page.status_code == 200
    line = page.text.split('class="carried">', 1)[1].split("</p>", 1)[0]
    assert "other languages:" in line and "lamps" in line, line


def test_api_search_json_carries_highlights_of_the_matched_words(live_server) -> None:
    hits = search(live_server, q="street lighting", mode="keyword", limit=3)
    assert hits
    for hit in hits:
        assert hit["highlights"], hit["title"]
        marked = [hit["snippet"][start:end] for start, end in hit["highlights"]]
        # the offsets are the words the page marks (the query's, and its thesaurus translations)
        assert marked == [html.unescape(m) for m in re.findall(r"<mark>(.*?)</mark>", hit["snippet_html"])]
        assert hit["passages"][0]["highlights"] == hit["highlights"]
        assert hit["snippet"] == hit["passages"][0]["snippet"]
    top = [m.lower() for m in (hits[0]["snippet"][a:b] for a, b in hits[0]["highlights"])]
    assert "street" in top and any(m.startswith("light") for m in top), top


# --- sessions: role change, forged cookies, cookie flags -----------------------------------------
def test_a_role_change_ends_the_users_live_session(live_server, live_hub) -> None:
    password = new_user(live_hub, "rosa")
    rosa, token = browser(live_server, "rosa", password)
    assert rosa.get("/account").status_code == 200
    r = rosa.post("/api/briefs", json={"title": "Before"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 201

    ada = bearer(live_server, live_hub, "ada")
    assert ada.put("/api/users/rosa/role", json={"role": "moderator"}).json()["role"] == "moderator"

    r = rosa.get("/account")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Faccount"
    page = rosa.get("/moderation", follow_redirects=True)
    assert page.status_code == 200 and "<h1>Log in</h1>" in page.text  # not the queue, though now a moderator
    r = rosa.post("/api/briefs", json={"title": "After"}, headers={"X-CSRF-Token": token})
    assert r.status_code in (401, 403) and r.json()["ok"] is False
    assert [b.title for b in live_hub.briefs.of(live_hub.accounts.by_name("rosa"))] == ["Before"]

    # logging in again gives the new role
    again, _ = browser(live_server, "rosa", password)
    page = again.get("/moderation")
    assert page.status_code == 200 and "Moderation queue" in page.text
    assert '<span class="role">(moderator)</span>' in page.text


def test_a_forged_session_cookie_is_refused(live_server, live_hub) -> None:
    from itsdangerous import URLSafeTimedSerializer

    from web.sessions import COOKIE

    ada = live_hub.accounts.by_name("ada")
    real, _ = browser(live_server, "ada")
    assert real.get("/admin/users").status_code == 200
    cookie = real.cookies[COOKIE]
    # signed with another key, claiming to be the admin
    forged = URLSafeTimedSerializer(b"not the hub's secret", salt="hub-session").dumps(
        {"sid": "forged-session-id", "uid": ada.id, "v": ada.session_version})
    # the real cookie with its payload changed and its signature kept
    payload, rest = cookie.split(".", 1)
    tampered = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB") + "." + rest
    for value in (forged, tampered, "garbage"):
        thief = httpx.Client(base_url=live_server, cookies={COOKIE: value}, follow_redirects=False, timeout=30)
        r = thief.get("/admin/users")
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), value
        page = thief.get("/", follow_redirects=True)
        assert page.status_code == 200 and '>Log in</a>' in page.text and '<a href="/register">Register</a>' in page.text
        assert 'class="me"' not in page.text
        assert thief.get("/api/me").status_code == 401
        token = csrf(thief, "/login")  # even with a CSRF token of the session it was given instead
        r = thief.post("/admin/users/amir/role", data={"role": "admin", "csrf_token": token})
        assert r.status_code == 401 and "log in first" in r.text
    assert live_hub.accounts.by_name("amir").role == "member"


def _set_cookie(response: httpx.Response, name: str) -> str:
    return next(v for k, v in response.headers.multi_items() if k == "set-cookie" and v.startswith(f"{name}="))


def test_session_cookie_is_httponly_and_samesite_lax(live_server) -> None:
    client = httpx.Client(base_url=live_server, follow_redirects=False, timeout=30)
    page = client.get("/login")
    assert page.status_code == 200 and "<h1>Log in</h1>" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "maya", "password": PASSWORDS["maya"], "csrf_token": token})
    assert r.status_code == 303
    for response in (page, r):
        flags = [f.strip().lower() for f in _set_cookie(response, "hub_session").split(";")[1:]]
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
        assert "secure" not in flags  # HUB_SECURE_COOKIES is off by default: served over plain HTTP
    assert client.get("/account").status_code == 200  # the cookie works


@pytest.fixture(scope="module")
def secure_server(tmp_path_factory, embedder) -> Iterator[str]:
    """A hub with HUB_SECURE_COOKIES on (no documents: only its cookies are looked at)."""
    from web.app import create_app

    hub = Hub(settings_for(tmp_path_factory.mktemp("secure") / "home", secure_cookies=True), embedder=embedder)
    hub.accounts.register("sam", "sam-password-1")
    with serving(create_app(hub)) as base:
        yield base
    hub.close()


def test_cookies_are_secure_when_configured(secure_server) -> None:
    from web.sessions import COOKIE

    client = httpx.Client(base_url=secure_server, follow_redirects=False, timeout=30)
    page = client.get("/login")
    assert page.status_code == 200 and "<h1>Log in</h1>" in page.text
    flags = [f.strip().lower() for f in _set_cookie(page, COOKIE).split(";")[1:]]
    assert {"secure", "httponly", "samesite=lax"} <= set(flags)
    # as a browser behind HTTPS would: it sends the cookie back and logs in
    cookie = _set_cookie(page, COOKIE).split(";")[0]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post("/login", data={"username": "sam", "password": "sam-password-1", "csrf_token": token},
                    headers={"Cookie": cookie})
    assert r.status_code == 303
    assert "secure" in _set_cookie(r, COOKIE).lower()
    r = client.post("/language", data={"lang": "fr", "csrf_token": token, "next": "/"}, headers={"Cookie": cookie})
    assert r.status_code == 303 and "secure" in _set_cookie(r, "hub_lang").lower()


# --- registration closed, the login throttle per address ------------------------------------------
WINDOW = 5  # seconds: HUB_LOGIN_WINDOW for the strict hub


@pytest.fixture(scope="module")
def strict(tmp_path_factory, embedder) -> Iterator[tuple[str, Hub]]:
    """HUB_OPEN_REGISTRATION=false, one failed login per user name (so four per address) in a
    5-second window, and the test client's loopback named a trusted proxy so that X-Forwarded-For
    can stand for different visitors."""
    from web.app import create_app

    settings = settings_for(tmp_path_factory.mktemp("strict") / "home", open_registration=False,
                            login_attempts=1, login_window=WINDOW, trusted_proxies="127.0.0.1")
    hub = Hub(settings, embedder=embedder)
    hub.accounts.register("root", "root-password-1", role="admin")
    hub.accounts.register("tess", "tess-password-1")
    with serving(create_app(hub)) as base:
        yield base, hub
    hub.close()


def test_closed_registration_refuses_self_registration(strict, live_server) -> None:
    base, hub = strict
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    page = client.get("/register")
    assert page.status_code == 200
    assert "Registration is closed on this hub; ask an administrator for an account." in page.text
    assert 'action="/register"' not in page.text
    token = csrf(client, "/login")
    r = client.post("/register", data={"username": "walkin", "password": "walkin-password-1",
                                       "password2": "walkin-password-1", "csrf_token": token})
    assert r.status_code == 400 and "Registration is closed on this hub" in r.text
    r = httpx.post(f"{base}/api/users", json={"username": "walkin", "password": "walkin-password-1"})
    assert r.status_code == 403 and "registration is closed" in r.json()["error"]
    assert "walkin" not in [u.username for u in hub.accounts.users()]
    assert client.get("/account").status_code == 303  # not logged in either

    # the same request on a hub with registration open (the default) creates the account
    open_client = httpx.Client(base_url=live_server, follow_redirects=False, timeout=30)
    token = csrf(open_client, "/register")
    r = open_client.post("/register", data={"username": "walkin", "password": "walkin-password-1",
                                            "password2": "walkin-password-1", "csrf_token": token})
    assert r.status_code == 303
    assert "Your account is ready." in flash(open_client.get("/").text)


def test_failed_logins_are_throttled_per_address_for_the_window(strict) -> None:
    base, hub = strict
    hub.community.execute("DELETE FROM login_failures")

    def visitor(address: str) -> tuple[httpx.Client, str]:
        client = httpx.Client(base_url=base, follow_redirects=False, timeout=30,
                              headers={"X-Forwarded-For": address})
        return client, csrf(client, "/login")

    guesser, token = visitor("198.51.100.7")
    # one failure per user name, four per address: a different name each time
    for name in ("root", "admin", "nobody", "ghost"):
        r = guesser.post("/login", data={"username": name, "password": "guess-guess-1", "csrf_token": token})
        assert r.status_code == 401 and "wrong user name or password" in r.text, name
    started = time.time()
    r = guesser.post("/login", data={"username": "tess", "password": "tess-password-1", "csrf_token": token})
    assert r.status_code == 429, r.text[-1500:]  # the right password, but this address is throttled
    wait = int(re.search(r"too many failed logins; try again in (\d+) seconds?", r.text).group(1))
    assert 1 <= wait <= WINDOW + 1
    r = httpx.post(f"{base}/api/auth/token", json={"username": "tess", "password": "tess-password-1"},
                   headers={"X-Forwarded-For": "198.51.100.7"})
    assert r.status_code == 429 and "too many failed logins" in r.json()["error"]
    assert 1 <= int(r.headers["Retry-After"]) <= WINDOW + 1

    # another address is not held back by this one
    other, other_token = visitor("203.0.113.9")
    r = other.post("/login", data={"username": "tess", "password": "tess-password-1", "csrf_token": other_token})
    assert r.status_code == 303 and "Welcome, tess." in flash(other.get("/").text)

    # once the window has passed, the first address may log in again
    time.sleep(max(0.0, started + WINDOW + 0.2 - time.time()))
    r = guesser.post("/login", data={"username": "tess", "password": "tess-password-1", "csrf_token": token})
    assert r.status_code == 303, re.sub(r"\s+", " ", r.text)[-1500:]
    assert "Welcome, tess." in flash(guesser.get("/").text)


# --- the admin changes a user's role, on the web and in the API ---------------------------------
def test_admin_changes_a_role_on_the_web(live_server, live_hub) -> None:
    password = new_user(live_hub, "wendy")
    wendy_before, _ = browser(live_server, "wendy", password)
    assert wendy_before.get("/moderation").status_code == 403
    admin, token = browser(live_server, "ada")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "<h1>Users</h1>" in page.text
    wendy_form = forms(page.text, "/admin/users/wendy/role")
    assert len(wendy_form) == 1 and ("role", "member") in wendy_form[0]["fields"]

    r = admin.post("/admin/users/wendy/role", data={"role": "moderator", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/admin/users"
    page = admin.get("/admin/users")
    assert "wendy is now moderator." in flash(page.text)
    assert ("role", "moderator") in forms(page.text, "/admin/users/wendy/role")[0]["fields"]
    assert live_hub.accounts.by_name("wendy").role == "moderator"
    assert wendy_before.get("/moderation").status_code == 303  # her open session ended with the change
    wendy, _ = browser(live_server, "wendy", password)
    assert wendy.get("/moderation").status_code == 200 and "Moderation queue" in wendy.get("/moderation").text

    # a member cannot do it
    member, member_token = browser(live_server, "amir")
    r = member.post("/admin/users/wendy/role", data={"role": "member", "csrf_token": member_token})
    assert r.status_code == 403 and "this needs the admin role; you are a member" in r.text
    assert live_hub.accounts.by_name("wendy").role == "moderator"


def test_admin_changes_a_role_in_the_api(live_server, live_hub) -> None:
    new_user(live_hub, "xavi")
    ada = bearer(live_server, live_hub, "ada")
    xavi = bearer(live_server, live_hub, "xavi")
    assert xavi.get("/api/moderation/queue").status_code == 403

    r = ada.put("/api/users/xavi/role", json={"role": "moderator"})
    assert r.status_code == 200 and r.json() | {"id": 0} == {"id": 0, "username": "xavi", "display_name": "Xavi",
                                                             "role": "moderator"}
    assert {u["username"]: u["role"] for u in ada.get("/api/users").json()}["xavi"] == "moderator"
    queue = xavi.get("/api/moderation/queue")
    assert queue.status_code == 200 and isinstance(queue.json(), list)
    assert xavi.get("/api/me").json()["role"] == "moderator"

    r = ada.put("/api/users/xavi/role", json={"role": "overlord"})
    assert r.status_code == 400 and "overlord" in r.json()["error"]
    assert xavi.put("/api/users/xavi/role", json={"role": "admin"}).status_code == 403
    assert live_hub.accounts.by_name("xavi").role == "moderator"


# --- a member edits their case study, on the web and in the API ----------------------------------
def test_member_edits_a_case_study_on_the_web(live_server, live_hub) -> None:
    password = new_user(live_hub, "yara")
    yara, token = browser(live_server, "yara", password)
    r = yara.post("/share", data=CASE | {"title": "Marche des Pentes", "csrf_token": token})
    assert r.status_code == 303
    url = r.headers["location"]
    sub_id = int(url.rsplit("/", 1)[1])

    page = yara.get(f"{url}/edit")
    assert page.status_code == 200 and "Edit your case study" in page.text
    assert 'value="Marche des Pentes"' in page.text and CASE["summary"] in page.text
    edited = CASE | {"title": "Marche exploratoire des Pentes", "results": "Deux rues mieux éclairées.",
                     "themes": "sécurité, éclairage"}
    r = yara.post(f"{url}/edit", data=edited | {"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == url
    page = yara.get(url)
    assert "Your changes are waiting for a moderator." in flash(page.text)
    assert "<h1>Marche exploratoire des Pentes</h1>" in page.text
    assert "Deux rues mieux éclairées." in page.text and "sécurité, éclairage" in page.text
    assert re.search(r'<ol class="log"><li>submitted · yara</li><li>edited · yara</li></ol>', page.text)
    sub = live_hub.moderation.get(sub_id)
    assert (sub.title, sub.status, sub.kind) == ("Marche exploratoire des Pentes", "pending", "new")

    # someone else's case study cannot be edited
    other, other_token = browser(live_server, "maya")
    r = other.post(f"{url}/edit", data=CASE | {"title": "Hijacked", "csrf_token": other_token})
    assert r.status_code == 404 and live_hub.moderation.get(sub_id).title == "Marche exploratoire des Pentes"


def test_member_edits_a_case_study_in_the_api_and_an_approved_one_goes_back_to_the_queue(
        live_server, live_hub) -> None:
    new_user(live_hub, "zoe")
    zoe = bearer(live_server, live_hub, "zoe")
    mona = bearer(live_server, live_hub, "mona")
    sub = zoe.post("/api/submissions", data=CASE | {"title": "Ateliers de la Croix-Rousse"}).json()

    r = zoe.put(f"/api/submissions/{sub['id']}", data=CASE | {"title": "Ateliers mobiles de la Croix-Rousse",
                                                              "lessons": "Aller vers les habitantes."})
    assert r.status_code == 200, r.text
    assert (r.json()["id"], r.json()["title"], r.json()["status"]) == (sub["id"], "Ateliers mobiles de la Croix-Rousse",
                                                                      "pending")
    got = zoe.get(f"/api/submissions/{sub['id']}").json()
    assert got["lessons"] == "Aller vers les habitantes."

    approved = mona.post(f"/api/moderation/{sub['id']}/approve").json()
    assert approved["status"] == "approved" and approved["doc_id"]
    revision = zoe.put(f"/api/submissions/{sub['id']}", data=CASE | {
        "title": "Ateliers mobiles de la Croix-Rousse, bilan", "summary": "Trois ateliers mobiles sur la place "
        "Colbert ont réuni des habitantes qui ont cartographié les rues évitées le soir."})
    assert revision.status_code == 200, revision.text
    rev = revision.json()
    assert rev["id"] != sub["id"] and (rev["kind"], rev["target_id"], rev["status"]) == ("edit", sub["id"], "pending")
    assert zoe.get(f"/api/submissions/{sub['id']}").json()["status"] == "approved"  # still published meanwhile
    assert rev["id"] in [s["id"] for s in mona.get("/api/moderation/queue").json()]

    assert mona.post(f"/api/moderation/{rev['id']}/approve").json()["status"] == "approved"
    assert zoe.get(f"/api/submissions/{sub['id']}").json()["status"] == "superseded"
    hits = zoe.get("/api/search", params={"q": "habitantes cartographié rues évitées place Colbert",
                                          "mode": "keyword"}).json()
    assert hits and hits[0]["title"] == "Ateliers mobiles de la Croix-Rousse, bilan"
    assert approved["doc_id"] not in [h["doc_id"] for h in hits]


# --- an API token made on /account ----------------------------------------------------------------
def test_member_creates_an_api_token_on_the_account_page(live_server, live_hub) -> None:
    password = new_user(live_hub, "tobi")
    tobi, token = browser(live_server, "tobi", password)
    page = tobi.get("/account")
    assert page.status_code == 200 and "<h2>API tokens</h2>" in page.text and forms(page.text, "/account/tokens")
    r = tobi.post("/account/tokens", data={"label": "nightly export", "csrf_token": token})
    assert r.status_code == 200
    shown = re.search(r'Your new token \(shown only once\): <code class="token">([^<]+)</code>', r.text)
    assert shown, r.text[-2000:]
    assert "<td>nightly export</td>" in r.text
    api = httpx.get(f"{live_server}/api/me", headers={"Authorization": f"Bearer {shown.group(1)}"})
    assert api.status_code == 200 and api.json()["username"] == "tobi"
    again = tobi.get("/account")
    assert "<td>nightly export</td>" in again.text and shown.group(1) not in again.text  # shown once
    assert [t["label"] if isinstance(t, dict) else t.label
            for t in live_hub.accounts.tokens(live_hub.accounts.by_name("tobi").id)] == ["nightly export"]


# --- "Add to brief" on practice and document pages -------------------------------------------------
def test_add_to_brief_from_a_practice_page_and_a_document_page(live_server, live_hub) -> None:
    password = new_user(live_hub, "bea")
    bea, token = browser(live_server, "bea", password)
    practice = httpx.get(f"{live_server}/api/practices/street-lighting").json()

    page = bea.get("/practices/street-lighting")
    assert page.status_code == 200 and f"<h1>{practice['name']}</h1>" in page.text
    adds = forms(page.text, "/briefs/add")
    mine = [f for f in adds if ("kind", "practice") in f["fields"]]
    assert len(mine) == 1 and ("practice_id", "street-lighting") in mine[0]["fields"]
    assert dict(mine[0]["fields"])["brief"] == "new"  # no brief yet
    r = bea.post("/briefs/add", data=form_data(mine[0]["fields"]))
    assert r.status_code == 303 and r.headers["location"] == "/practices/street-lighting"
    page = bea.get("/practices/street-lighting")
    assert flash(page.text) == "Added to “New brief”."

    doc = next(d for d in httpx.get(f"{live_server}/api/documents").json()
               if Path(d["source"]).name == "womens-safety-public-transport.en.pdf")
    doc_id = doc["id"] if "id" in doc else doc["doc_id"]
    page = bea.get(f"/documents/{doc_id}")
    assert page.status_code == 200 and f"<h1>{escape(doc['title'])}</h1>" in page.text
    adds = forms(page.text, "/briefs/add")
    assert adds and all(("kind", "passage") in f["fields"] for f in adds)
    fields = dict(adds[1]["fields"])  # a passage further down the document
    assert fields["brief"] != "new"  # the brief just used is chosen
    r = bea.post("/briefs/add", data=form_data(adds[1]["fields"]))
    assert r.status_code == 303 and r.headers["location"] == f"/documents/{doc_id}"
    assert flash(bea.get(f"/documents/{doc_id}").text) == "Added to “New brief”."

    briefs = live_hub.briefs.of(live_hub.accounts.by_name("bea"))
    assert len(briefs) == 1
    brief = bea.get(f"/briefs/{briefs[0].id}")
    assert brief.status_code == 200
    headings = [html.unescape(h) for h in re.findall(r"<h3>(.*?)</h3>", brief.text)]
    assert len(headings) == 2 and headings[0] == practice["name"]
    assert f'<span class="cite">{escape(doc["title"])}, p. ' in brief.text  # the passage, cited by page
    items = bea.get(f"/api/briefs/{briefs[0].id}", headers={"X-CSRF-Token": token}).json()["items"]
    assert [i["kind"] for i in items] == ["practice", "passage"]
    assert items[1]["chunk_id"] == fields["chunk_id"]

    # an anonymous reader sees the pages, without the button
    anonymous = httpx.get(f"{live_server}/practices/street-lighting")
    assert anonymous.status_code == 200 and f"<h1>{practice['name']}</h1>" in anonymous.text
    assert forms(anonymous.text, "/briefs/add") == []
