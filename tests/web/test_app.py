"""The web hub through FastAPI's test client, and once over a real HTTP server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.pdfs import text_pdf
from web.app import create_app


@pytest.fixture
def client(hub, tmp_path: Path) -> TestClient:
    lib = tmp_path / "lib"
    lib.mkdir()
    text_pdf(lib / "review.pdf", ["Hot spots policing in Minneapolis reduced calls for service.",
                                  "Focused deterrence in Boston reduced youth homicide."], title="Policing review")
    (lib / "page.html").write_text(
        "<html lang='en'><head><title>Bus stops <script>alert(1)</script></title></head><body><main>"
        "<h1>Safer bus stops</h1><p>Women waiting at night asked for lighting &lt;b&gt;and&lt;/b&gt; "
        "request stops.</p><img src=x onerror=alert(2)></main></body></html>")
    assert hub.ingest([lib]).exit_code == 0
    return TestClient(create_app(hub))


def test_search_page_shows_results_with_page_citation(client) -> None:
    page = client.get("/", params={"q": "Boston youth homicide"})
    assert page.status_code == 200
    assert "Policing review" in page.text and "p. 2" in page.text and "<mark>Boston</mark>" in page.text


def test_api_search_matches_the_cli_contract(client) -> None:
    hits = client.get("/api/search", params={"q": "Boston youth homicide", "limit": 1}).json()
    assert len(hits) == 1
    assert {"doc_id", "source", "title", "doc_type", "language", "page", "score", "snippet"} <= set(hits[0])
    assert hits[0]["page"] == 2


def test_document_page_and_original(client) -> None:
    doc_id = client.get("/api/search", params={"q": "Boston"}).json()[0]["doc_id"]
    page = client.get(f"/documents/{doc_id}", params={"q": "Boston"})
    assert page.status_code == 200 and "Page 2" in page.text and "<mark>Boston</mark>" in page.text
    original = client.get(f"/documents/{doc_id}/original")
    assert original.status_code == 200 and original.content.startswith(b"%PDF")
    assert original.headers["content-type"] == "application/pdf"


def test_ingested_markup_is_never_executed(client) -> None:
    hit = client.get("/api/search", params={"q": "women bus stops lighting"}).json()[0]
    response = client.get("/", params={"q": "women bus stops lighting"})
    assert response.status_code == 200
    page = response.text
    assert hit["title"].startswith("Safer bus stops") or "Bus stops" in hit["title"]
    assert "<script>alert(1)</script>" not in page and "onerror" not in page
    # the page's text is there, and text that looked like markup is shown as text
    assert "waiting at" in page and "&lt;b&gt;and&lt;/b&gt;" in page
    assert "<b>and</b>" not in page
    original = client.get(f"/documents/{hit['doc_id']}/original")
    assert original.headers["content-type"].startswith("text/plain")
    assert original.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize("url, status, message", [
    ("/api/search?q=", 400, "empty query"),
    ("/api/search", 422, "q: Field required"),
    ("/api/search?q=x&limit=1000", 422, "limit"),
    ("/api/search?q=x&mode=magic", 422, "mode"),
    ("/api/documents/nope", 404, "no document with id 'nope'"),
])
def test_api_errors_are_4xx_json(client, url: str, status: int, message: str) -> None:
    response = client.get(url)
    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False and message in body["error"]


def test_page_errors_are_4xx_pages(client) -> None:
    assert client.get("/documents/nope").status_code == 404
    assert client.get("/documents/nope/original").status_code == 404
    assert client.get("/?q=x&page=0").status_code == 422
    assert "Not found" in client.get("/no/such/page").text


def test_health_and_openapi(client) -> None:
    health = client.get("/api/health").json()
    assert health["ok"] is True and health["documents"] == 2 and health["consistent"] is True
    assert health["stores"]["qdrant"] == health["stores"]["whoosh"] == health["passages"]
    assert "/api/search" in client.get("/openapi.json").json()["paths"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hub_serve_over_real_http(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "note.txt").write_text("Local safety committees\n\nThe mayor chairs the local safety committee.\n")
    port = _free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HUB_LOG_FORMAT": "json"}
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "hub", "--home", str(tmp_path / "home"), "serve",
                             "--port", str(port), "--seed", str(lib)],
                            stdout=subprocess.DEVNULL, stderr=log, env=env)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.5)
        else:
            pytest.fail("hub serve did not start")
        assert health.json()["documents"] == 1
        hits = httpx.get(f"http://127.0.0.1:{port}/api/search", params={"q": "who chairs the committee"}).json()
        assert hits[0]["title"] == "Local safety committees"
        assert health.headers["x-content-type-options"] == "nosniff"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    # structured logs: one JSON object per line, with the request's path, status and duration
    entries = [json.loads(line) for line in (tmp_path / "serve.log").read_text().splitlines() if line.startswith("{")]
    events = {e["event"] for e in entries}
    assert {"seeded", "serving", "request"} <= events, events
    search = next(e for e in entries if e["event"] == "request" and e["path"] == "/api/search")
    assert search["status"] == 200 and search["ms"] > 0 and search["level"] == "info"


def test_results_page_has_facets_suggestion_and_concepts(library_hub) -> None:
    client = TestClient(create_app(library_hub))
    page = client.get("/", params={"q": "marche exploratoire"})
    assert page.status_code == 200
    assert 'class="facets"' in page.text and "Language" in page.text
    assert "exploratory walk / marche exploratoire / marcha exploratoria" in page.text
    typo = client.get("/", params={"q": "exploratry walks"})
    assert "Did you mean" in typo.text and "exploratory walks" in typo.text
    filtered = client.get("/", params={"q": "marche exploratoire", "language": "fr"})
    assert "How to run an exploratory walk" not in filtered.text


def test_api_search_full(library_hub) -> None:
    client = TestClient(create_app(library_hub))
    data = client.get("/api/search/full", params={"q": "éclairage public", "limit": 2}).json()
    assert data["total"] >= len(data["hits"]) == 2
    assert {f["value"] for f in data["facets"]["language"]} >= {"en", "fr"}
    assert data["concepts"][0]["id"] == "street-lighting"
    assert all(p["page"] is None or p["page"] >= 1 for h in data["hits"] for p in h["passages"])
    page2 = client.get("/api/search/full", params={"q": "éclairage public", "limit": 2, "offset": 2}).json()
    assert not {h["doc_id"] for h in data["hits"]} & {h["doc_id"] for h in page2["hits"]}
    assert client.get("/api/search/full", params={"q": "x year:abc"}).status_code == 400
    # The practices whose profiles fit, beside the documents, when asked for; never among them.
    asked = {"q": "éclairage public", "limit": 5, "practices": 2}
    data = client.get("/api/search/full", params=asked).json()
    assert [p["practice_id"] for p in data["practices"]][:1] == ["street-lighting"] and len(data["practices"]) == 2
    assert all(h["doc_type"] != "practice" for h in data["hits"])
    assert all(h["doc_type"] != "practice" for h in client.get("/api/search", params=asked).json())
    assert client.get("/api/search/full", params={**asked, "practices": 11}).status_code == 422
    page = client.get("/", params={"q": "éclairage public"})
    assert 'class="fitting"' in page.text and 'href="/practices/street-lighting"' in page.text
    assert '<span class="rating rating-effective" title="' in page.text  # its rating, as on the advice page
    # The introduction counts what a search goes through, and the profiles listed beside it.
    total, profiles = library_hub.catalog.counts(), library_hub.catalog.counts_of("practice")
    intro = client.get("/").text
    assert f"Search {total['documents'] - profiles['documents']} documents " in intro
    assert f"Of the {profiles['documents']} practice profiles" in intro and profiles["documents"] >= 20
