"""Ratings per outcome with the strength of the evidence (issue 16), over real HTTP: practice
pages, advice, the JSON API and exported briefs (Markdown, HTML, PDF), for a profile in the new
format, a method, and a profile in the older format."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from tests.conftest import serving
from tests.pdfs import text_pdf

NEW = """---
doc_type: practice
id: lit-stops
name: Lit bus stops
names: {fr: "Arrêts éclairés"}
language: en
kind: intervention
summary: Brighter lighting and clear sight lines at bus stops used after dark.
prevention_level: [primary]
themes: [mobility]
populations: [women]
settings: [public transport]
outcomes:
  - outcome: crime
    direction: reduces
    rating: effective
    studies: 20
    design: systematic-review
    size: about 21 percent less crime
  - outcome: fear
    direction: unknown
    rating: insufficient
emmie_quality:
  effect: strong
  mechanism: moderate
emmie:
  effect: Twenty studies found less crime at lit stops and streets.
  mechanism: More people see and are seen, so offenders expect to be noticed.
  implementation: The transit authority and the city share the work.
sources:
  - file: ../docs/lighting-review.pdf
    pages: [1]
---
How transit authorities light their stops.
"""

METHOD = """---
doc_type: practice
id: night-walks
name: Night safety walks
language: en
kind: method
summary: Residents walk their streets at night with staff and note what makes them feel unsafe at bus stops.
prevention_level: [primary]
themes: [mobility]
populations: [women]
settings: [public transport]
emmie:
  implementation: A facilitator, a map and a checklist.
sources:
  - file: ../docs/lighting-review.pdf
    pages: [2]
---
How to run a walk.
"""

OLD = """---
doc_type: practice
id: transit-patrols
name: Transit patrols
language: en
summary: Uniformed staff ride buses late at night on the routes where women report harassment.
evidence: promising
prevention_level: [primary]
themes: [mobility]
populations: [women]
settings: [public transport]
sources:
  - file: ../docs/lighting-review.pdf
    pages: [2]
---
Patrols in practice.
"""


def write_library(root: Path) -> Path:
    """A small library: a review (PDF), a profile in the new format, a method, an older profile."""
    docs, practices = root / "docs", root / "practices"
    docs.mkdir(parents=True)
    practices.mkdir()
    text_pdf(docs / "lighting-review.pdf", [
        "A systematic review of 20 studies: improved lighting at bus stops and on streets reduced crime "
        "by about 21 percent, by night and by day.",
        "Night safety walks with women who ride the bus after dark, and patrols on late buses.",
    ], title="Lighting and crime at bus stops: a review")
    (practices / "lit-stops.md").write_text(NEW, encoding="utf-8")
    (practices / "night-walks.md").write_text(METHOD, encoding="utf-8")
    (practices / "transit-patrols.md").write_text(OLD, encoding="utf-8")
    return root


@pytest.fixture
def outcome_hub(hub, tmp_path: Path):
    report = hub.ingest([write_library(tmp_path / "library")])
    assert report.exit_code == 0, [str(r) for r in report.rejected]
    return hub


@pytest.fixture
def base(outcome_hub) -> Iterator[str]:
    from web.app import create_app

    with serving(create_app(outcome_hub)) as url:
        yield url


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_practice_page_shows_each_outcome_with_its_rating_and_strength(base: str) -> None:
    html = httpx.get(f"{base}/practices/lit-stops", timeout=30).text
    table = html.split('<table class="outcomes">')[1].split("</table>")[0]
    rows = {_text(r).split(" ")[0]: _text(r) for r in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)[1:]}
    assert set(rows) == {"Crime", "Fear"}
    assert "reduced" in rows["Crime"] and "Effective" in rows["Crime"] and "Strong" in rows["Crime"]
    assert "20 · systematic review or meta-analysis" in rows["Crime"] and "about 21 percent less crime" in rows["Crime"]
    assert "not known" in rows["Fear"] and "Insufficient evidence" in rows["Fear"] and "No evidence" in rows["Fear"]
    # each rating carries its meaning, and the headline says how it is derived
    assert 'title="Strong evidence from several rigorous evaluations' in table
    text = _text(html)
    assert "What the evidence says, outcome by outcome" in text
    assert "Headline: the rating of its primary outcome, crime; harmful if any outcome is harmed." in text
    # EMMIE headings give their quality level; the evidence map opens on the primary outcome
    assert "Effect Quality of evidence: Strong" in text and "Mechanism Quality of evidence: Moderate" in text
    assert 'href="/evidence-map?outcome=crime"' in html


def test_practice_page_in_french_translates_the_outcome_labels(base: str) -> None:
    text = _text(httpx.get(f"{base}/practices/lit-stops", headers={"Accept-Language": "fr"}, timeout=30).text)
    assert "Ce que disent les données probantes, résultat par résultat" in text
    assert "Criminalité" in text and "en baisse" in text and "revue systématique ou méta-analyse" in text


def test_method_shows_the_method_line_and_no_outcomes_table(base: str) -> None:
    html = httpx.get(f"{base}/practices/night-walks", timeout=30).text
    assert "Method: a tool for diagnosis or consultation, not rated on effect." in _text(html)
    assert '<table class="outcomes">' not in html and "outcome by outcome" not in html
    listing = _text(httpx.get(f"{base}/practices", timeout=30).text)
    assert "Night safety walks Method" in listing  # its headline is "Method", and the list says its kind
    assert "Method (diagnosis or consultation)" in listing and "Intervention" in listing
    filtered = _text(httpx.get(f"{base}/practices", params={"rating": "method"}, timeout=30).text)
    assert "Night safety walks" in filtered and "Lit bus stops" not in filtered


def test_profile_in_the_older_format_keeps_its_single_rating(base: str) -> None:
    html = httpx.get(f"{base}/practices/transit-patrols", timeout=30).text
    text = _text(html)
    assert "Promising Some rigorous evidence" in text
    assert "Headline: a single rating, from a profile in the older format" in text
    assert '<table class="outcomes">' not in html and 'href="/evidence-map"' in html


def test_api_practice_and_recommend_json_carry_the_outcomes(base: str) -> None:
    data = httpx.get(f"{base}/api/practices/lit-stops", timeout=30).json()
    assert data["kind"] == "intervention" and data["rating"] == "effective"
    assert [(o["outcome"], o["rating"], o["strength"], o["studies"]) for o in data["outcomes"]] == [
        ("crime", "effective", "strong", 20, ), ("fear", "insufficient", "none", None)]
    assert data["emmie_quality"]["effect"] == {"level": "strong", "label": "Strong"}
    advice = httpx.get(f"{base}/api/recommend", params={"q": "lighting at bus stops at night for women"},
                       timeout=60).json()
    recs = {r["practice_id"]: r for r in advice["recommendations"]}
    assert recs["lit-stops"]["kind"] == "intervention"
    assert [(o["label"], o["rating_label"], o["strength_label"]) for o in recs["lit-stops"]["outcomes"]] == [
        ("Crime", "Effective", "Strong"), ("Fear of crime and feelings of safety", "Insufficient evidence", "No evidence")]
    assert recs["night-walks"]["kind"] == "method" and recs["night-walks"]["outcomes"] == []


def test_advice_page_shows_a_compact_line_per_outcome(base: str) -> None:
    html = httpx.get(f"{base}/advise", params={"q": "lighting at bus stops at night for women"}, timeout=60).text
    card = next(c for c in html.split('<article class="card')[1:] if "/practices/lit-stops" in c)
    assert ("Crime: Effective (strong evidence, 20 studies) · Fear of crime and feelings of safety: "
            "Insufficient evidence") in _text(card)
    assert 'href="/evidence-map"' in html


def test_exported_brief_shows_the_ratings_per_outcome(outcome_hub, base: str) -> None:
    from pypdf import PdfReader

    user = outcome_hub.accounts.register("advisor", "advisor-password-1", role="member")
    token = outcome_hub.accounts.create_token(user.id, "test")
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    brief = api.post("/api/briefs", json={"title": "Bus stops at night"}).json()
    for pid in ("lit-stops", "night-walks"):
        r = api.post(f"/api/briefs/{brief['id']}/items", json={"kind": "practice", "practice_id": pid})
        assert r.status_code in (200, 201), r.text
    line = ("Crime: Effective; impact: reduced (strong evidence, 20 studies, systematic review or "
            "meta-analysis); about 21 percent less crime")
    md = api.get(f"/api/briefs/{brief['id']}/export", params={"format": "md"}).text
    assert f"- {line}" in md and "- Fear of crime and feelings of safety: Insufficient evidence\n" in md
    assert "*Headline: the rating of its primary outcome, crime; harmful if any outcome is harmed.*" in md
    assert "*Method: a tool for diagnosis or consultation, not rated on effect.*" in md
    html = api.get(f"/api/briefs/{brief['id']}/export", params={"format": "html"}).text
    assert f"<li>{line}</li>" in html and "What the evidence says, outcome by outcome" in html
    pdf = api.get(f"/api/briefs/{brief['id']}/export", params={"format": "pdf"}).content
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert f"- {line}" in text and "Fear of crime and feelings of safety: Insufficient evidence" in text
    fr = api.get(f"/api/briefs/{brief['id']}/export", params={"format": "md", "lang": "fr"}).text
    assert "- Criminalité : Efficace; effet : en baisse (niveau de preuve fort, 20 études" in fr
    # the item keeps a copy of the outcomes, as it keeps the rating
    item = api.get(f"/api/briefs/{brief['id']}").json()["items"][0]
    assert [o["outcome"] for o in item["outcomes"]] == ["crime", "fear"]
