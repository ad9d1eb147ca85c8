"""The forum registry leads somewhere: every practice it names has a profile, and a practice's
recommendation links the forum's own page on it (``links``) rather than the forum's home page."""

from __future__ import annotations

from pathlib import Path

import httpx
import yaml

from practices.forums import DEFAULT_PATH, load_forums
from tests.conftest import serving
from tests.practices.test_practices import library  # noqa: F401 - a fixture
from web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
DEEP = "https://forum.example.org/toolkit/mentoring/"
HOME = "https://forum.example.org"


def _profile_ids() -> set[str]:
    ids = set()
    for path in (ROOT / "library" / "practices").glob("*.md"):
        front = path.read_text(encoding="utf-8").split("---", 2)[1]
        ids.add(str(yaml.safe_load(front)["id"]))
    return ids


def test_every_forum_practice_id_has_a_profile() -> None:
    ids = _profile_ids()
    assert len(ids) >= 30
    unknown = [(f.id, p) for f in load_forums(DEFAULT_PATH) for p in [*f.practices, *f.links] if p not in ids]
    assert unknown == []


def test_every_forum_links_its_practices_or_says_why_its_home_page_is_best() -> None:
    for forum in load_forums(DEFAULT_PATH):
        assert set(forum.links) <= set(forum.practices), forum.id
        home_only = [p for p in forum.practices if p not in forum.links]
        assert forum.reason or not home_only, f"{forum.id}: {home_only} link the home page without a reason"
        assert all(url.startswith("https://") for url in forum.links.values()), forum.id


def test_recommendation_links_the_forums_page_on_the_practice(make_hub, library: Path, tmp_path: Path) -> None:  # noqa: F811
    registry = tmp_path / "forums.yaml"
    registry.write_text(yaml.safe_dump({"forums": [
        {"id": "youth-toolkit", "name": "Youth toolkit forum", "url": HOME, "language": ["en"],
         "themes": ["youth"], "links": {"mentoring": DEEP}, "description": "Peers on youth work."},
        {"id": "night-network", "name": "Night network", "url": "https://night.example.org", "language": ["en"],
         "themes": ["mobility"], "practices": ["transit-safety"], "reason": "One page for everything.",
         "description": "Peers on safety at night."},
    ]}), encoding="utf-8")
    hub = make_hub(forums=registry)
    assert hub.ingest([library]).exit_code == 0
    forum = next(f for f in hub.forums if f.id == "youth-toolkit")
    assert forum.url == HOME and forum.practices == ["mentoring"] and forum.link_for("scared-straight") == HOME

    advice = hub.recommend("how can adult volunteers help young people stay out of trouble")
    mentoring = next(r for r in advice.recommendations if r.practice.id == "mentoring")
    assert [f.url for f in mentoring.forums] == [DEEP]
    assert mentoring.to_json()["forums"][0]["url"] == DEEP
    # The registry itself keeps the home page (what `hub practices check` reads).
    assert next(f for f in hub.forums if f.id == "youth-toolkit").url == HOME

    with serving(create_app(hub)) as base:
        advise = httpx.get(f"{base}/advise", params={"q": "adult volunteers for young people at risk"}).text
        page = httpx.get(f"{base}/practices/mentoring").text
    assert f'href="{DEEP}"' in advise and f'href="{DEEP}"' in page
    assert f'href="{HOME}"' not in page
