"""`hub practices check`: numbers against cited pages, sources, ratings, forums; at ingest too."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from practices.check import Problem, numbers, page_numbers
from tests.pdfs import text_pdf

PAGES = [
    "Page one. A pilot in Springfield cut burglary by 41 percent.",
    "Page two. Piza et al. (2019) pooled 76 studies of 1,200 street segments: crime fell by about "
    "13 percent where cameras were installed. Sixteen cities took part.",
    "Page three. Running costs reached 0,5 million a year.",
]

PROFILE = """---
doc_type: practice
id: {id}
name: {name}
language: en
kind: {kind}
summary: {summary}
summaries:
  fr: {summary_fr}
{outcomes}emmie:
  effect: {effect}
sources:
  - file: ../docs/{source}
    pages: [{pages}]
---
How cities use it in practice, with the details a manager needs.
"""

OUTCOMES = """outcomes:
  - outcome: crime
    direction: reduces
    rating: {rating}
    studies: {studies}
    design: {design}
    size: {size}
"""


def profile(folder: Path, *, id: str, old: bool = False, **fields) -> Path:
    outcome = {"rating": "promising", "studies": 76, "design": "systematic-review", "size": "about 13 percent less crime"}
    outcome |= {k: fields.pop(k) for k in list(fields) if k in outcome}
    values = dict(name=id.replace("-", " ").capitalize(), kind="intervention", source="study.pdf", pages="2",
                  summary="Cameras in public places; crime fell by 13 percent in 1 200 street segments.",
                  summary_fr="Des caméras; la criminalité baisse de 13 % (Piza et al., 2019).",
                  effect="76 studies in 16 cities.",
                  outcomes="evidence: promising\n" if old else OUTCOMES.format(**outcome))
    path = folder / f"{id}.md"
    path.write_text(PROFILE.format(id=id, **{**values, **fields}), encoding="utf-8")
    return path


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "library"
    (root / "docs").mkdir(parents=True)
    (root / "practices").mkdir()
    text_pdf(root / "docs" / "study.pdf", PAGES, title="Cameras and crime")
    return root


def ingest(hub, *paths: Path):  # type: ignore[no-untyped-def]
    report = hub.ingest(list(paths))
    assert report.exit_code == 0, [str(r) for r in report.rejected]
    return report


def test_a_number_on_the_cited_page_passes_and_one_on_another_page_is_named_with_file_and_field(hub, library) -> None:
    path = profile(library / "practices", id="cameras",
                   summary="Crime fell by 13 percent over 1 200 street segments (Piza et al. (2019)), "
                           "and by 41 percent in one pilot.")
    ingest(hub, library)
    problems = hub.check_practices(forums=False)
    assert problems == [Problem(str(path), "summary", '"41 percent" is on no cited page (cited: study.pdf p. 2)')]
    assert str(problems[0]) == (f'{path}: summary: "41 percent" is on no cited page (cited: study.pdf p. 2)')


def test_translated_summaries_emmie_notes_and_outcome_sizes_are_checked_too(hub, library) -> None:
    profile(library / "practices", id="cameras", summary_fr="La criminalité baisse de 13,5 % selon 3 études.",
            effect="76 studies; running costs of 0.5 million.", size="about 15 percent less crime")
    ingest(hub, library)
    found = {(p.field, p.problem.split(" on no")[0]) for p in hub.check_practices(forums=False)}
    # 0.5 is on page 3, not the cited page 2; "Sixteen" on page 2 supports a "16".
    assert found == {("summaries.fr", '"13,5 %", "3 études" are'), ("emmie.effect", '"0.5 million" is'),
                     ("outcomes[0].size", '"15 percent" is')}


@pytest.mark.parametrize("written, on_page", [
    ("1,200", "1200"), ("1 200", "1.200"), ("1\u00a0200", "1,200"), ("0,5", "0.5"), ("13,5 %", "13.5%"),
    ("12 000", "12,000"), ("1,234.5", "1.234,5"), ("40", "forty years"), ("16", "seize villes"),
    ("2019", "(2019)"),
])
def test_numbers_are_compared_once_normalised(written: str, on_page: str) -> None:
    ((_, values),) = numbers(written)
    assert values & page_numbers(on_page)


@pytest.mark.parametrize("written, on_page", [("13", "130 cities"), ("1.5", "15"), ("2019", "2018"),
                                               ("25 percent", "a quarter less")])
def test_different_numbers_do_not_match(written: str, on_page: str) -> None:
    ((_, values),) = numbers(written)
    assert not values & page_numbers(on_page)


def test_sources_missing_from_the_hub_and_pages_beyond_the_document_are_flagged(hub, library) -> None:
    practices = library / "practices"
    cites_page_3 = profile(practices, id="cameras", pages="3", summary="Running costs of 0,5 million a year.",
                           summary_fr="Des coûts de 0,5 million.", effect="Costly.", size="less crime")
    ingest(hub, library)
    assert hub.check_practices(forums=False) == []
    # The document is replaced by a shorter edition: its profile now cites a page it lacks.
    text_pdf(library / "docs" / "study.pdf", PAGES[:2], title="Cameras and crime")
    report = ingest(hub, library / "docs" / "study.pdf")
    assert f"{cites_page_3}: sources[0].pages: study.pdf has 2 pages, not page 3" in report.warnings
    # A profile citing a file that is on disk but was never ingested.
    text_pdf(library / "docs" / "other.pdf", PAGES)
    elsewhere = profile(practices, id="elsewhere", source="other.pdf")
    report = ingest(hub, elsewhere)
    assert f"{elsewhere}: sources[0].file: ../docs/other.pdf is not in the hub (ingest it, or correct the path)" \
        in report.warnings


def test_ratings_must_meet_the_scale_and_methods_carry_no_outcomes(hub, library) -> None:
    practices = library / "practices"
    weak = profile(practices, id="weak", rating="effective", studies=1, design="observational")
    method = profile(practices, id="walks", kind="method")
    old = profile(practices, id="older", old=True)
    profile(practices, id="sound", rating="effective", studies=76, design="systematic-review")
    report = ingest(hub, library)
    problems = [str(p) for p in hub.check_practices(forums=False)]
    assert problems == [
        f"{old}: outcomes: in the older format: a single rating (promising) and no per-outcome ratings; "
        "rate each outcome with the number and design of its studies",
        f"{method}: outcomes: a method (kind: method) is described, not rated on an effect: remove its "
        "outcomes, or make it an intervention",
        f"{weak}: outcomes[0].rating: 'effective' needs a systematic review or at least 2 randomised or "
        "quasi-experimental studies; it rests on 1 study (observational)",
    ]
    # At ingest, the same lines are warnings; the older format is said once (by the profile's validation).
    assert [w for w in report.warnings if str(old) in w and "older format" in w][0].startswith(
        f"{old}: practice profile in the older format")
    assert len([w for w in report.warnings if "older format" in w]) == 1
    assert problems[1] in report.warnings and problems[2] in report.warnings


FORUMS = """forums:
  - id: network
    name: A network
    url: https://network.example.org/
    practices: [cameras, social-mediation]
  - id: guides
    name: Guides
    url: https://guides.example.org
    links: {cameras: "https://guides.example.org/guides/cameras"}
  - id: club
    name: A club
    url: https://club.example.org
    practices: [cameras]
    reason: A members' network with no page per practice.
"""


def test_forums_with_unknown_practice_ids_or_only_a_home_page_are_flagged(make_hub, library, tmp_path) -> None:
    registry = tmp_path / "forums.yaml"
    registry.write_text(FORUMS, encoding="utf-8")
    hub = make_hub(forums=registry)
    profile(library / "practices", id="cameras")
    ingest(hub, library)
    problems = [p for p in hub.check_practices() if p.field.startswith("forums[")]
    assert [(p.file.endswith("forums.yaml"), p.field, p.problem) for p in problems] == [
        (True, "forums[network].practices", "unknown practice id 'social-mediation' (no profile has it)"),
        (True, "forums[network].links", "only a home page (https://network.example.org/) for cameras: link the "
                                        "page on each practice, or give a reason why there is none"),
    ]


def test_cli_prints_one_line_per_problem_and_exits_1_then_0_once_fixed(hub, library, tmp_path, capsys,
                                                                       monkeypatch) -> None:
    from hub.cli import main

    registry = tmp_path / "forums.yaml"
    registry.write_text(FORUMS.split("  - id: guides")[0].replace(", social-mediation", "")
                        + "    reason: Its search finds the practice.\n", encoding="utf-8")
    monkeypatch.setenv("HUB_FORUMS", str(registry))
    home = str(hub.settings.home)
    path = profile(library / "practices", id="cameras", summary="Burglary fell by 41 percent in one pilot.")
    assert main(["--home", home, "ingest", str(library)]) == 0
    err = capsys.readouterr().err
    assert f'warning {path}: summary: "41 percent" is on no cited page (cited: study.pdf p. 2)' in err

    assert main(["--home", home, "practices", "check"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines() == [f'{path}: summary: "41 percent" is on no cited page (cited: study.pdf p. 2)']
    assert err.strip() == "1 problem in 1 file"
    assert main(["--home", home, "practices", "check", "--json"]) == 1
    assert json.loads(capsys.readouterr().out) == [
        {"file": str(path), "field": "summary", "problem": '"41 percent" is on no cited page (cited: study.pdf p. 2)'}]

    profile(library / "practices", id="cameras", summary="Crime fell by about 13 percent where cameras were installed.")
    assert main(["--home", home, "ingest", str(library)]) == 0
    assert "warning" not in capsys.readouterr().err
    assert main(["--home", home, "practices", "check"]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == "the 1 profile checks out"


SUMMARY = """---
title: {title}
language: en
provenance: {provenance}
{cites}---
A text written for the hub about cameras in public places and what published reviews found about them.
"""


def test_a_summary_document_that_cites_no_study_is_reported_naming_its_file(hub, library) -> None:
    from practices.check import check_practices

    docs = library / "docs"
    uncited = docs / "uncited-summary.md"
    uncited.write_text(SUMMARY.format(title="Cameras, a summary", provenance="summary", cites=""), encoding="utf-8")
    (docs / "cited-summary.md").write_text(SUMMARY.format(
        title="Cameras, another summary", provenance="summary",
        cites="cites:\n- 'Piza, E. L. et al. (2019). CCTV surveillance for crime prevention. Criminology & Public Policy.'\n"),
        encoding="utf-8")
    (docs / "scenario.md").write_text(SUMMARY.format(title="Cameras, a scenario", provenance="illustrative", cites=""),
                                      encoding="utf-8")
    profile(library / "practices", id="cameras")
    ingest(hub, library)
    problems = check_practices(hub.practices(), lambda p, s: None, documents=hub.catalog.documents())
    summaries = [str(p) for p in problems if p.field == "cites"]
    assert summaries == [f"{uncited}: cites: provenance is summary but it cites no study: list the studies it "
                         'reports (cites: in front matter, <meta name="cites"> in HTML, /Cites in a PDF)']


def test_the_bundled_library_has_no_summary_without_cites(library_hub) -> None:
    from practices.check import check_summaries

    documents = library_hub.catalog.documents()
    assert sum(d.extra.get("provenance") == "summary" for d in documents) >= 15
    assert check_summaries(documents) == []
