"""Practice profiles at ingest, evidence links, and the recommender on a small real library."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from search.analysis import fold
from tests.pdfs import text_pdf

PROFILE = """---
doc_type: practice
id: {id}
name: {name}
names: {{fr: "{fr}"}}
language: en
summary: {summary}
evidence: {rating}
prevention_level: [{level}]
themes: [{themes}]
populations: [{populations}]
settings: [{settings}]
emmie:
  effect: {effect}
  implementation: Partners meet monthly and agree on a plan.
  economic_cost: Low cost.
sources:
  - file: ../docs/{source}
    pages: [{pages}]
---
{body}
"""


def profile(folder: Path, **fields) -> Path:
    defaults = dict(fr="Nom", level="primary", themes="policing", populations="general", settings="streets",
                    effect="Fewer crimes.", pages="", body="How cities use it in practice.")
    path = folder / f"{fields['id']}.md"
    path.write_text(PROFILE.format(**{**defaults, **fields}), encoding="utf-8")
    return path


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    docs, practices = root / "docs", root / "practices"
    docs.mkdir(parents=True)
    practices.mkdir()
    text_pdf(docs / "youth-review.pdf", [
        "Overview of youth programmes reviewed in this report.",
        "Mentoring pairs young people with adult volunteers; meta-analyses found reductions in "
        "delinquency and aggression, largest when mentors offered emotional support and advocacy.",
        "Scared Straight: juvenile awareness programmes that take teenagers on prison visits "
        "increased later offending in randomised trials (Petrosino and colleagues).",
    ], title="Youth crime prevention review")
    (docs / "stops.md").write_text(
        "---\ntitle: Women at bus stops at night\nlanguage: en\ndoc_type: evaluation\n"
        "practices: [transit-safety]\n---\nWomen waiting for buses after dark felt safer once stops "
        "were lit and drivers let riders off between stops, closer to home.\n", encoding="utf-8")
    (docs / "lamps.txt").write_text(
        "Street lighting and crime\n\nImproved street lighting reduced recorded crime in the "
        "evaluated areas, by night and by day, according to a systematic review.\n", encoding="utf-8")
    profile(practices, id="mentoring", name="Mentoring", fr="Mentorat", rating="promising", level="secondary",
            themes="youth", populations="youth", settings="neighbourhood", source="youth-review.pdf", pages="2",
            summary="Adult volunteers support young people at risk, meeting them regularly.",
            effect="Modest reductions in delinquency.")
    profile(practices, id="scared-straight", name="Scared Straight", rating="harmful", level="secondary",
            themes="youth", populations="youth", settings="prisons", source="youth-review.pdf", pages="3",
            summary="Prison visits meant to frighten teenagers away from crime.",
            effect="Increased offending.")
    profile(practices, id="transit-safety", name="Safer public transport for women", rating="promising",
            themes="mobility", populations="women", settings="public transport", source="stops.md",
            summary="Request stops, lit shelters and trained drivers for women travelling at night.")
    profile(practices, id="street-lighting", name="Street lighting", rating="effective",
            themes="public space", populations="general", settings="streets", source="lamps.txt",
            summary="Better street lighting in public spaces to reduce crime and fear after dark.")
    return root


@pytest.fixture
def practice_hub(hub, library: Path):
    report = hub.ingest([library])
    assert report.exit_code == 0, [str(r) for r in report.rejected]
    return hub


def test_profiles_are_ingested_as_practices(practice_hub) -> None:
    practices = {p.id: p for p in practice_hub.practices()}
    assert set(practices) == {"mentoring", "scared-straight", "transit-safety", "street-lighting"}
    mentoring = practices["mentoring"]
    assert mentoring.rating.label == "Promising" and mentoring.levels == ["secondary"]
    assert mentoring.names["fr"] == "Mentorat" and mentoring.emmie["economic_cost"] == "Low cost."
    assert practice_hub.document(mentoring.doc_id).doc_type == "practice"
    # The profiles, remembered between questions, follow the catalog when it changes.
    practice_hub.remove(mentoring.doc_id)
    assert {p.id for p in practice_hub.practices()} == {"scared-straight", "transit-safety", "street-lighting"}


def test_links_from_sources_and_front_matter(practice_hub, tmp_path: Path) -> None:
    kinds = {(link["practice_id"], link["kind"]) for link in practice_hub.catalog.practice_links()}
    assert ("mentoring", "source") in kinds and ("street-lighting", "source") in kinds
    assert ("transit-safety", "source") in kinds
    # a document that no profile cites, linked by its own front matter only
    notes = tmp_path / "field-notes"
    notes.mkdir()
    (notes / "mentors.md").write_text(
        "---\ntitle: Mentors in the east end\nlanguage: en\npractices: [mentoring]\n---\nVolunteers met "
        "teenagers every week for a school year; the youth workers kept notes.\n", encoding="utf-8")
    assert practice_hub.ingest([notes]).exit_code == 0
    doc = next(d for d in practice_hub.documents() if d.title == "Mentors in the east end")
    links = {(link["practice_id"], link["doc_id"]): link["kind"] for link in practice_hub.catalog.practice_links()}
    assert links[("mentoring", doc.id)] == "declared"


@pytest.mark.parametrize("change, field", [
    (("evidence: promising", "evidence: fabulous"), "'evidence'"),
    (("name: Mentoring\n", ""), "'name'"),
    (("file: ../docs/youth-review.pdf", "file: ../docs/missing.pdf"), "'sources[0].file'"),
    (("pages: [2]", "pages: [9]"), "'sources[0].pages'"),
    (("prevention_level: [secondary]", "prevention_level: [quaternary]"), "'prevention_level'"),
])
def test_malformed_profile_is_rejected_naming_file_and_field(hub, library: Path, change, field) -> None:
    path = library / "practices" / "mentoring.md"
    path.write_text(path.read_text().replace(*change))
    report = hub.ingest([library])
    assert report.exit_code == 1
    (rejected,) = report.rejected
    assert rejected.source.endswith("mentoring.md") and field in str(rejected)
    assert "mentoring" not in {p.id for p in hub.practices()}
    assert len(hub.practices()) == 3 and hub.check().ok


def test_recommendation_cites_passages_at_their_pages(practice_hub) -> None:
    advice = practice_hub.recommend("how can adult volunteers help young people stay out of trouble")
    top = advice.recommendations[0]
    assert top.practice.id == "mentoring"
    assert top.practice.rating.meaning.startswith("Some rigorous evidence")
    assert top.supporting_documents >= 1 and isinstance(top.forums, list)
    evidence = [r for r in top.reasons if r.kind == "evidence"]
    assert evidence and evidence[0].page == 2
    for reason in top.reasons:
        chunk = practice_hub.catalog.chunks_by_ids([reason.chunk_id])[reason.chunk_id]
        assert chunk.page == reason.page and chunk.doc_id == reason.doc_id


def test_harmful_practice_only_under_avoid(practice_hub) -> None:
    advice = practice_hub.recommend("should we take teenagers on prison visits to scare them away from crime?")
    assert "scared-straight" not in [r.practice.id for r in advice.recommendations]
    assert [r.practice.id for r in advice.avoid] == ["scared-straight"]
    assert advice.avoid[0].practice.rating.label == "Harmful"


def test_context_filters(practice_hub) -> None:
    advice = practice_hub.recommend("safer at night", context={"population": "women"})
    ids = [r.practice.id for r in advice.recommendations]
    # The profile that names women comes near the top; the one for youth only is filtered out;
    # street lighting is for the general population, so it fits women too.
    assert "transit-safety" in ids[:2] and "mentoring" not in ids
    assert "street-lighting" in ids
    advice = practice_hub.recommend("safer at night", context={"setting": "public transport"})
    assert [r.practice.id for r in advice.recommendations][0] == "transit-safety"


def test_recommend_json_schema_is_stable(practice_hub) -> None:
    data = json.loads(json.dumps(practice_hub.recommend("women bus stops at night").to_json()))
    rec = data["recommendations"][0]
    assert {"practice_id", "name", "rating", "rating_meaning", "score", "reasons", "forums"} <= set(rec)
    assert {"doc_id", "page", "snippet"} <= set(rec["reasons"][0])
    assert data["avoid"] == []


# --- the bundled library --------------------------------------------------------------------

def _advice_set() -> list[dict]:
    import yaml

    from tests.conftest import JUDGED

    return yaml.safe_load((JUDGED / "advice.yaml").read_text(encoding="utf-8"))


def test_sample_library_has_profiles_and_evidence_in_three_languages(library_hub) -> None:
    practices = library_hub.practices()
    assert len(practices) >= 25
    assert {p.language for p in practices} == {"en", "fr", "es"}
    evidence = [d for d in library_hub.documents() if d.doc_type != "practice"]
    assert len(evidence) >= 25 and {d.language for d in evidence} == {"en", "fr", "es"}
    assert {p.rating.key for p in practices} >= {"effective", "promising", "mixed", "insufficient", "harmful"}
    assert all(library_hub.catalog.practice_links(p.id) for p in practices)
    assert len(library_hub.forums) >= 15


def test_judged_advice_floor(library_hub) -> None:
    """Both halves of bench/judged/advice.yaml (bench/advice.py prints them apart). A practice
    rated harmful or no effect is never recommended, and shows under "avoid" when asked about."""
    judged = _advice_set()
    assert len(judged) >= 100 and sum(j["language"] != "en" for j in judged) >= 50
    first = top3 = 0
    avoid_expected = avoid_shown = 0
    for item in judged:
        advice = library_hub.recommend(item["question"], context=item.get("context") or {})
        ids = [r.practice.id for r in advice.recommendations]
        first += ids[0] in item["appropriate"]
        top3 += bool(set(ids[:3]) & set(item["appropriate"]))
        assert all(r.practice.rating.key not in ("harmful", "no-effect") for r in advice.recommendations)
        for harmful in item.get("avoid") or []:
            avoid_expected += 1
            avoid_shown += harmful in [r.practice.id for r in advice.avoid]
    assert first / len(judged) >= 0.7
    assert top3 / len(judged) >= 0.9
    assert avoid_shown / avoid_expected >= 0.85


def test_every_reason_cites_a_passage_on_its_page(library_hub) -> None:
    for item in _advice_set()[:12]:
        advice = library_hub.recommend(item["question"])
        for rec in advice.recommendations + advice.avoid:
            for reason in rec.reasons:
                chunk = library_hub.catalog.chunks_by_ids([reason.chunk_id])[reason.chunk_id]
                assert (chunk.doc_id, chunk.page) == (reason.doc_id, reason.page)
                assert reason.snippet.strip(" …")[:40] in " ".join(chunk.text.split())


def test_advise_pages(library_hub) -> None:
    from fastapi.testclient import TestClient

    from web.app import create_app

    client = TestClient(create_app(library_hub))
    page = client.get("/advise", params={"q": "Faut-il emmener des adolescents visiter une prison ?"})
    assert page.status_code == 200 and "Avoid" in page.text and "Harmful" in page.text
    assert "Rigorous evaluations found that it makes outcomes worse" in page.text
    api = client.get("/api/recommend", params={"q": "women safer at bus stops at night", "limit": 3}).json()
    assert api["recommendations"][0]["practice_id"] == "womens-transit-safety"
    assert api["recommendations"][0]["forums"]
    # the catalogue in the order of the names the reader sees, in the reader's language
    for lang in ("en", "fr", "es"):
        page = client.get("/practices", headers={"accept-language": lang}).text
        shown = [html.unescape(n) for n in re.findall(r'<a class="title" href="/practices/[^"]+">([^<]+)</a>', page)]
        assert len(shown) == len(library_hub.practices())
        assert shown == sorted(shown, key=lambda n: fold(n).casefold()), (lang, shown[:5])
    listing = client.get("/practices", params={"rating": "harmful"})
    assert "Scared Straight" in listing.text and "Hot spots policing" not in listing.text
    profile = client.get("/practices/hot-spots-policing")
    assert profile.status_code == 200 and "Effect" in profile.text and "p. 2" in profile.text
    # the practice's names in the other languages under its title, not its title again
    names = re.search(r'<p class="names">(.*?)</p>', profile.text).group(1)
    assert "<h1>Hot spots policing</h1>" in profile.text and "Hot spots policing" not in names
    assert client.get("/practices/nope").status_code == 404
    assert "popcenter.asu.edu" in client.get("/forums").text
    assert client.get("/api/recommend", params={"q": " "}).status_code == 400
    assert client.get("/api/recommend", params={"q": "x", "population": "youth", "limit": 0}).status_code == 422


def test_practice_page_shows_the_strongest_links_first_and_caps_them(library_home: Path, tmp_path: Path,
                                                                      embedder) -> None:
    """A practice of a large library is linked to hundreds of documents: the page shows the
    strongest 20 (the profile's own sources first) and says how many more the API lists."""
    import shutil

    from fastapi.testclient import TestClient

    from hub.core import Hub
    from tests.conftest import settings_for
    from web.advice import EVIDENCE_ON_PAGE
    from web.app import create_app

    home = tmp_path / "home"
    shutil.copytree(library_home, home, ignore=shutil.ignore_patterns(".lock", ".collection"))
    with Hub(settings_for(home), embedder=embedder) as hub:
        links = hub.catalog.practice_links()
        cited = [(l["practice_id"], l["doc_id"], l["kind"], l["score"]) for l in links
                 if l["practice_id"] == "hot-spots-policing" and l["kind"] == "source"]
        assert cited
        others = [d.id for d in hub.documents() if d.doc_type != "practice" and d.id not in {c[1] for c in cited}]
        assert len(others) + len(cited) > EVIDENCE_ON_PAGE + 2
        auto = [("hot-spots-policing", d, "auto", 0.9 - i / 100) for i, d in enumerate(others)]
        hub.catalog.replace_practice_links([(p, d, k, s) for p, d, k, s in
                                            [tuple(l.values()) for l in links] if p != "hot-spots-policing"]
                                           + auto + cited)  # cited last, to show the order is the catalog's
        page = TestClient(create_app(hub)).get("/practices/hot-spots-policing").text
        assert page.count('<section class="evidence">') == EVIDENCE_ON_PAGE
        first = page.index('<section class="evidence">')
        assert "cited by the profile" in page[first:page.index("</section>", first)]
        assert f"{len(others) + len(cited) - EVIDENCE_ON_PAGE} more linked documents" in page
        assert "p. 2" in page
        api = TestClient(create_app(hub)).get("/api/practices/hot-spots-policing").json()
        assert len(api["links"]) == len(others) + len(cited) and api["links"][0]["kind"] == "source"


@pytest.mark.parametrize("questions, first", [
    (["The paths through the park are pitch dark on winter evenings and people avoid them.",
      "Les allées du parc sont plongées dans le noir les soirs d'hiver et les gens les évitent.",
      "Los senderos del parque quedan a oscuras en las tardes de invierno y la gente los evita."],
     {"street-lighting", "cpted"}),
    (["A handful of street corners downtown account for most of the robberies. Where should patrols go?",
      "Quelques coins de rue du centre-ville concentrent la plupart des vols. Où envoyer les patrouilles ?",
      "Unas pocas esquinas del centro concentran la mayoría de los robos. ¿Adónde mandamos las patrullas?"],
     {"hot-spots-policing", "problem-oriented-policing"}),
    (["Victims want to meet the young person who hurt them and be repaired.",
      "Les victimes veulent rencontrer le jeune qui leur a fait du tort et obtenir réparation.",
      "Las víctimas quieren reunirse con el joven que les hizo daño y ser reparadas."],
     {"restorative-justice"}),
])
def test_the_same_question_in_three_languages_gets_the_same_advice(library_hub, questions, first) -> None:
    """Profiles written in one language, questions asked in another: the first practice and the
    practices rated harmful or no effect do not depend on the language of the question."""
    tops = [[r.practice.id for r in library_hub.recommend(q, limit=3).recommendations] for q in questions]
    assert all(top[0] in first for top in tops), tops


def test_a_source_is_matched_by_its_folder_not_its_file_name(practice_hub, library: Path) -> None:
    """Another folder holds a report of the same file name: the profile cites only its own, on
    the practice page, in advice and in briefs' evidence."""
    from practices.profile import sources_citing

    other = library / "other"
    other.mkdir()
    text_pdf(other / "youth-review.pdf", ["Unrelated cover page.", "A different report: parking fees rose in 2020.",
                                          "Appendix."], title="Parking fees report")
    assert practice_hub.ingest([other]).exit_code == 0
    docs = {d.title: d for d in practice_hub.documents()}
    mentoring = next(p for p in practice_hub.practices() if p.id == "mentoring")
    assert sources_citing(mentoring, docs["Youth crime prevention review"])
    assert sources_citing(mentoring, docs["Parking fees report"]) == []
    kinds = {(link["practice_id"], link["doc_id"]): link["kind"] for link in practice_hub.catalog.practice_links()}
    assert ("mentoring", docs["Parking fees report"].id) not in kinds or \
        kinds[("mentoring", docs["Parking fees report"].id)] != "source"
    advice = practice_hub.recommend("how can adult volunteers help young people stay out of trouble")
    top = advice.recommendations[0]
    assert top.practice.id == "mentoring"
    assert all(r.doc_id != docs["Parking fees report"].id for r in top.reasons)


def test_an_ingest_links_only_the_documents_it_brings(practice_hub, library: Path, tmp_path: Path) -> None:
    """The automatic links of the documents already held are kept, not computed again: that read
    every passage's vectors at each ingest, of one file too (16 s at 100,000 passages). They are
    the links a full relink computes, and a changed profile summary computes them all again."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "towpath.md").write_text(
        "---\ntitle: Street lighting on the towpath\nlanguage: en\n---\nBetter street lighting in the public "
        "spaces along the canal towpath reduced crime and fear after dark.\n", encoding="utf-8")
    assert practice_hub.ingest([notes / "towpath.md"]).exit_code == 0
    towpath = next(d for d in practice_hub.documents() if d.title == "Street lighting on the towpath")

    def held() -> list[tuple]:
        return sorted(tuple(link.values()) for link in practice_hub.catalog.practice_links())

    assert ("street-lighting", towpath.id, "auto") in {row[:3] for row in held()}

    read: list[str] = []
    vectors = practice_hub.index.vectors
    practice_hub.index.vectors = lambda ids: (read.extend(ids), vectors(ids))[1]
    (notes / "mentors.md").write_text(
        "---\ntitle: Volunteers and teenagers\nlanguage: en\n---\nAdult volunteers met young people at risk "
        "every week for a school year and supported them at school and at home.\n", encoding="utf-8")
    assert practice_hub.ingest([notes / "mentors.md"]).exit_code == 0
    mentors = next(d for d in practice_hub.documents() if d.title == "Volunteers and teenagers")
    summaries = {practice_hub.catalog.chunks_of(p.doc_id)[0].id for p in practice_hub.practices()}
    assert set(read) - summaries == {c.id for c in practice_hub.catalog.chunks_of(mentors.id)}
    after_ingest = held()
    practice_hub.relink()
    assert held() == after_ingest

    read.clear()
    lighting = library / "practices" / "street-lighting.md"
    lighting.write_text(lighting.read_text().replace("to reduce crime and fear after dark",
                                                     "so that people walk there after dark"))
    assert practice_hub.ingest([lighting]).exit_code == 0
    towpath_passages = {c.id for c in practice_hub.catalog.chunks_of(towpath.id)}
    assert towpath_passages <= set(read)


def test_advice_is_given_in_the_language_of_the_question(library_hub) -> None:
    """The practices' names and summaries come in the question's language, whatever language a
    profile was written in: a Spanish manager reads "Trabajo de calle", not "Travail de rue"."""
    from fastapi.testclient import TestClient

    from web.app import create_app

    question = "Los senderos del parque quedan a oscuras en las tardes de invierno y la gente los evita."
    advice = library_hub.recommend(question, limit=5)
    assert advice.language == "es"
    data = advice.to_json()
    assert data["language"] == "es"
    recs = {r["practice_id"]: r for r in data["recommendations"]}
    practices = {r.practice.id: r.practice for r in advice.recommendations}
    assert any(p.language != "es" for p in practices.values())
    for pid, rec in recs.items():
        assert rec["name"] == practices[pid].names["es"] and rec["summary"] == practices[pid].summaries["es"]
        assert rec["names"] == practices[pid].names and set(rec["summaries"]) == {"en", "fr", "es"}
    english = advice.to_json("en")["recommendations"]
    assert all(r["name"] == practices[r["practice_id"]].names["en"] for r in english)

    client = TestClient(create_app(library_hub))
    french = "Les allées du parc sont plongées dans le noir les soirs d'hiver et les gens les évitent."
    api = client.get("/api/recommend", params={"q": french, "limit": 3}).json()
    assert api["language"] == "fr"
    assert all(r["name"] == r["names"]["fr"] for r in api["recommendations"])
    asked = client.get("/api/recommend", params={"q": french, "limit": 3, "lang": "en"}).json()
    assert all(r["name"] == r["names"]["en"] for r in asked["recommendations"])
    refused = client.get("/api/recommend", params={"q": french, "lang": "de"})
    assert refused.status_code == 422 and "lang" in refused.text

    # and the practices listed beside a search's documents
    results = library_hub.search(french, limit=3, practices=3)
    assert results.language == "fr" and results.practices
    assert all(p["name"] == p["names"]["fr"] for p in results.practices)
    assert any(p["name"] != practices_named(library_hub)[p["practice_id"]] for p in results.practices)


def practices_named(hub) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each practice's name in its profile's own language."""
    return {p.id: p.name for p in hub.practices()}
