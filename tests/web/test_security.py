"""Hostile and careless input over real HTTP: every refusal is a 4xx with a message, never a 500."""

from __future__ import annotations

import io
import re
import zipfile

import httpx
import pytest

from tests.conftest import PASSWORDS, csrf
from tests.pdfs import text_pdf

FIELDS = {"title": "Lighting the underpass", "city": "Lyon", "country": "France", "language": "fr",
          "summary": "Residents walked the area at night and the city changed the lights."}


def session(base: str, name: str | None = None) -> tuple[httpx.Client, str]:
    """A browser-like client: it loads a page for its CSRF token, then logs in through the form."""
    client = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
    token = csrf(client, "/login")
    if name:
        r = client.post("/login", data={"username": name, "password": PASSWORDS[name], "csrf_token": token})
        assert r.status_code == 303, r.text
        token = csrf(client, "/")
    return client, token


@pytest.mark.parametrize("path", ["/login", "/register", "/logout", "/language", "/briefs", "/share",
                                  "/moderation/1/approve", "/account/tokens"])
def test_forms_without_csrf_token_are_refused(live_server, path: str) -> None:
    client, _ = session(live_server, "mona")
    r = client.post(path, data={"username": "x", "password": "y", "title": "t"})
    assert r.status_code == 403 and "CSRF" in r.text
    r = client.post(path, data={"csrf_token": "forged", "title": "t"})
    assert r.status_code == 403
    # a token from another session is no better
    _, other = session(live_server)
    assert client.post(path, data={"csrf_token": other, "title": "t"}).status_code == 403


def test_api_with_a_cookie_session_needs_the_csrf_header(live_server) -> None:
    client, token = session(live_server, "amir")
    assert client.post("/api/briefs", json={"title": "x"}).status_code == 403
    r = client.post("/api/briefs", json={"title": "x"}, headers={"X-CSRF-Token": token})
    assert r.status_code == 201, r.text


def test_upload_with_a_path_in_its_name_is_refused(live_server, tmp_path) -> None:
    client, token = session(live_server, "maya")
    pdf = text_pdf(tmp_path / "r.pdf", ["Un rapport sur l'éclairage public des passages souterrains."]).read_bytes()
    for name in ("../../etc/cron.d/evil.pdf", "..\\..\\windows\\evil.pdf", "/abs/report.pdf"):
        r = client.post("/share", data=FIELDS | {"csrf_token": token}, files={"file": (name, pdf, "application/pdf")})
        assert r.status_code == 400, (name, r.status_code)
        assert "file name must be a plain name" in r.text
    assert not (live_server and list_queue(client, token))


def list_queue(client: httpx.Client, token: str) -> list:
    return [s for s in client.get("/api/submissions", headers={"X-CSRF-Token": token}).json()
            if s["title"] == FIELDS["title"]]


def test_zip_bomb_renamed_pdf_is_refused(live_server) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("payload.bin", b"\0" * (200 * 1024 * 1024))  # 200 MB of zeros, ~200 KB zipped
    assert len(buffer.getvalue()) < 1024 * 1024
    client, token = session(live_server, "maya")
    r = client.post("/share", data=FIELDS | {"csrf_token": token},
                    files={"file": ("report.pdf", buffer.getvalue(), "application/pdf")})
    assert r.status_code == 400
    assert "report.pdf: not a PDF: the content looks like a ZIP archive" in r.text


def test_oversized_uploads_are_refused(live_server) -> None:
    client, token = session(live_server, "maya")
    # over the 2 MB file limit but under the 3 MB request limit: the file check answers
    body = b"%PDF-1.4\n" + b"0" * int(2.5 * 1024 * 1024)
    r = client.post("/share", data=FIELDS | {"csrf_token": token}, files={"file": ("big.pdf", body, "application/pdf")})
    assert r.status_code == 400 and "over the 2 MB limit" in r.text
    # over the request limit: refused before the body is read
    body = b"%PDF-1.4\n" + b"0" * (4 * 1024 * 1024)
    r = client.post("/share", data=FIELDS | {"csrf_token": token}, files={"file": ("big.pdf", body, "application/pdf")})
    assert r.status_code == 413 and "upload limit" in r.text
    r = client.post("/api/submissions", data=FIELDS, files={"file": ("big.pdf", body, "application/pdf")},
                    headers={"X-CSRF-Token": token})
    assert r.status_code == 413 and r.json()["error"].startswith("the request is over")


@pytest.mark.parametrize("name, data, reason", [
    ("scan.pdf", None, "no extractable text"),
    ("locked.pdf", None, "encrypted"),
    ("empty.md", b"   \n", "empty file"),
    ("photo.html", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "content does not match its extension"),
    ("slides.pptx", b"PK\x03\x04", "unsupported file type .pptx"),
    ("broken.pdf", b"%PDF-1.4\n1 0 obj <<>> garbage", "corrupt PDF"),
])
def test_bad_files_in_a_submission_get_a_one_line_reason(live_server, tmp_path, name, data, reason) -> None:
    from tests.pdfs import encrypted_pdf, image_only_pdf

    if name == "scan.pdf":
        data = image_only_pdf(tmp_path / name).read_bytes()
    elif name == "locked.pdf":
        data = encrypted_pdf(tmp_path / name, ["Un rapport confidentiel sur les quartiers."]).read_bytes()
    client, token = session(live_server, "maya")
    r = client.post("/share", data=FIELDS | {"csrf_token": token}, files={"file": (name, data)})
    assert r.status_code == 400, r.text[:300]
    message = re.search(r'class="form-error"[^>]*>([^<]+)<', r.text).group(1)
    assert message.startswith(name) and reason in message, message


def test_login_is_rate_limited(live_server) -> None:
    client, token = session(live_server)
    codes = [client.post("/login", data={"username": "ada", "password": f"wrong-{i}", "csrf_token": token}).status_code
             for i in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # the right password does not help while throttled
    r = client.post("/login", data={"username": "ada", "password": PASSWORDS["ada"], "csrf_token": token})
    assert r.status_code == 429 and "try again in" in r.text
    r = httpx.post(f"{live_server}/api/auth/token", json={"username": "ada", "password": "nope-nope-nope"})
    assert r.status_code == 429


def test_authorisation_is_checked_on_every_write(live_server, live_hub) -> None:
    anon = httpx.Client(base_url=live_server, timeout=30)
    assert anon.post("/api/submissions", data=FIELDS).status_code == 401
    assert anon.get("/api/moderation/queue").status_code == 401
    member = live_hub.accounts.create_token(live_hub.accounts.by_name("maya").id, "t")
    moderator = live_hub.accounts.create_token(live_hub.accounts.by_name("mona").id, "t")
    as_member = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {member}"}, timeout=60)
    as_moderator = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {moderator}"}, timeout=60)
    sub = as_member.post("/api/submissions", data=FIELDS | {"title": "Authz case"})
    assert sub.status_code == 201, sub.text
    sid = sub.json()["id"]
    assert as_member.get("/api/moderation/queue").status_code == 403
    assert as_member.post(f"/api/moderation/{sid}/approve").status_code == 403
    assert as_member.put("/api/users/maya/role", json={"role": "admin"}).status_code == 403
    # another member can neither read nor change it
    other = live_hub.accounts.create_token(live_hub.accounts.by_name("amir").id, "t")
    as_other = httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {other}"}, timeout=30)
    assert as_other.get(f"/api/submissions/{sid}").status_code == 404
    assert as_other.post(f"/api/submissions/{sid}/withdraw").status_code == 404
    assert as_moderator.post(f"/api/moderation/{sid}/reject", json={"reason": " "}).status_code == 400
    r = as_moderator.post(f"/api/moderation/{sid}/reject", json={"reason": "Needs results."})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert as_moderator.post(f"/api/moderation/{sid}/approve").status_code == 409
    # briefs are private unless shared
    brief = as_member.post("/api/briefs", json={"title": "Private"}).json()
    assert as_other.get(f"/api/briefs/{brief['id']}").status_code == 404
    assert as_other.post(f"/api/briefs/{brief['id']}/items", json={"kind": "note", "text": "x"}).status_code == 404
    link = as_member.post(f"/api/briefs/{brief['id']}/share").json()
    assert httpx.get(link["url"]).status_code == 200
    assert as_member.delete(f"/api/briefs/{brief['id']}/share").status_code == 200
    assert httpx.get(link["url"]).status_code == 404
    assert httpx.get(f"{live_server}/api/me", headers={"Authorization": "Bearer ush_forged"}).status_code == 401


def test_no_page_answers_500_to_odd_requests(live_server) -> None:
    client, token = session(live_server, "amir")
    odd = [("GET", "/submissions/abc"), ("GET", "/submissions/999999"), ("GET", "/briefs/999999"),
           ("GET", "/briefs/1/export?format=docx"), ("GET", "/shared/nope"), ("GET", "/api/briefs/x"),
           ("POST", "/briefs/add"), ("POST", "/briefs/999/items/1"), ("POST", "/share"),
           ("GET", "/login?next=//evil.example"), ("POST", "/api/briefs/1/items")]
    for method, path in odd:
        r = client.request(method, path, data={"csrf_token": token}, headers={"X-CSRF-Token": token})
        assert r.status_code < 500, (method, path, r.status_code, r.text[:200])
    # a crafted multipart body is a 400, not a crash
    r = client.post("/share", content=b"--x\r\nnonsense", headers={"Content-Type": "multipart/form-data; boundary=x",
                                                                 "X-CSRF-Token": token})
    assert 400 <= r.status_code < 500
    # the login redirect never leaves the site
    r = client.post("/login", data={"username": "amir", "password": PASSWORDS["amir"], "csrf_token": token,
                                    "next": "//evil.example/x"})
    assert r.headers["location"] == "/"
