"""`hub practices list/show` and `hub recommend` print the rating of each outcome with the
strength of its evidence, and their --json carries the outcomes (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.cli import main
from tests.web.test_outcome_ratings import write_library


@pytest.fixture
def home(hub, tmp_path: Path) -> str:
    report = hub.ingest([write_library(tmp_path / "library")])
    assert report.exit_code == 0, [str(r) for r in report.rejected]
    home = str(hub.settings.home)
    hub.close()  # the CLI opens the hub itself
    return home


def test_practices_show_prints_each_outcome_with_its_strength(home: str, capsys) -> None:
    assert main(["--home", home, "practices", "show", "lit-stops"]) == 0
    out = capsys.readouterr().out
    assert "Effective: Strong evidence from several rigorous evaluations" in out
    assert "Headline: the rating of its primary outcome, crime; harmful if any outcome is harmed." in out
    assert ("  - Crime: Effective; impact: reduced (strong evidence, 20 studies, systematic review or "
            "meta-analysis); about 21 percent less crime") in out
    assert "  - Fear of crime and feelings of safety: Insufficient evidence\n" in out
    assert "Effect [quality of evidence: Strong]: Twenty studies" in out

    assert main(["--home", home, "practices", "show", "night-walks"]) == 0
    out = capsys.readouterr().out
    assert "Method: a tool for diagnosis or consultation, not rated on effect." in out
    assert "outcome by outcome" not in out

    assert main(["--home", home, "practices", "show", "lit-stops", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [(o["outcome"], o["rating"], o["strength"]) for o in data["outcomes"]] == [
        ("crime", "effective", "strong"), ("fear", "insufficient", "none")]


def test_practices_list_prints_kind_and_a_line_of_outcomes(home: str, capsys) -> None:
    assert main(["--home", home, "practices", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("lit-stops "))
    assert "Effective" in lines[at] and "intervention" in lines[at]
    assert lines[at + 1].strip() == ("Crime: Effective (strong evidence, 20 studies) · "
                                     "Fear of crime and feelings of safety: Insufficient evidence")
    walks = next(line for line in lines if line.startswith("night-walks "))
    assert "Method" in walks and "method" in walks
    assert main(["--home", home, "practices", "list", "--json"]) == 0
    data = {p["id"]: p for p in json.loads(capsys.readouterr().out)}
    assert data["night-walks"]["kind"] == "method" and data["night-walks"]["outcomes"] == []
    assert data["lit-stops"]["outcomes"][0]["studies"] == 20


def test_recommend_prints_the_outcomes_of_each_practice(home: str, capsys) -> None:
    assert main(["--home", home, "recommend", "lighting at bus stops at night for women"]) == 0
    out = capsys.readouterr().out
    assert ("    Outcomes: Crime: Effective (strong evidence, 20 studies) · Fear of crime and feelings of "
            "safety: Insufficient evidence") in out
    assert main(["--home", home, "recommend", "lighting at bus stops at night for women", "--json"]) == 0
    recs = {r["practice_id"]: r for r in json.loads(capsys.readouterr().out)["recommendations"]}
    assert recs["lit-stops"]["outcomes"][0]["design"] == "systematic-review"
