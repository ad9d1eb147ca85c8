"""The evidence map: placement (unit), the page and its JSON over real HTTP, and Chromium.

Profiles are written in tmp_path in the new format (per-outcome ratings with their studies), with
one in the older format (a single rating) and one method, and ingested into a real hub.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from practices import evidence_map as em
from practices.profile import Practice
from practices.ratings import SCALE, Outcome
from tests.conftest import serving
from web.app import create_app

NEW = """---
doc_type: practice
id: {id}
name: {name}
names: {{fr: "{fr}", es: "{es}"}}
language: en
kind: intervention
summary: {name} in a few words.
prevention_level: [{level}]
themes: [{theme}]
populations: [{population}]
outcomes:
{outcomes}
---
How cities use {name}.
"""
OUTCOME = """  - outcome: {0}
    direction: {1}
    rating: {2}
    studies: {3}
    design: {4}
"""


def write_library(root: Path) -> Path:
    folder = root / "practices"
    folder.mkdir(parents=True)

    def new(pid: str, name: str, outcomes: list[tuple], level: str = "primary", theme: str = "policing",
            population: str = "general", fr: str = "", es: str = "") -> None:
        text = NEW.format(id=pid, name=name, fr=fr or name, es=es or name, level=level, theme=theme,
                          population=population, outcomes="".join(OUTCOME.format(*o) for o in outcomes))
        (folder / f"{pid}.md").write_text(text, encoding="utf-8")

    new("hot-spots", "Hot spots policing", [("crime", "reduces", "effective", 65, "systematic-review"),
                                            ("fear", "no-change", "no-effect", 3, "randomised")],
        fr="Police des points chauds", es="Patrullaje de puntos calientes")
    new("murals", "Community murals", [("crime", "unknown", "insufficient", 1, "case-study")],
        theme="public space", population="youth", fr="Fresques murales", es="Murales comunitarios")
    new("scared-straight", "Scared Straight", [("reoffending", "increases", "harmful", 9, "randomised")],
        level="tertiary", theme="youth", population="youth")
    new("mentoring", "Mentoring", [("reoffending", "reduces", "promising", 2, "quasi-experimental")],
        level="secondary", theme="youth", population="youth")
    (folder / "old-lighting.md").write_text(
        "---\ndoc_type: practice\nid: old-lighting\nname: Street lighting (old format)\nlanguage: en\n"
        "summary: Better lamps.\nevidence: promising\nprevention_level: [primary]\nthemes: [public space]\n"
        "populations: [general]\n---\nLamps.\n", encoding="utf-8")
    (folder / "safety-survey.md").write_text(
        "---\ndoc_type: practice\nid: safety-survey\nname: Safety survey\nlanguage: en\nkind: method\n"
        "summary: Ask residents where they feel unsafe.\nprevention_level: [primary]\nthemes: [public space]\n"
        "populations: [general]\n---\nQuestionnaires.\n", encoding="utf-8")
    return root


@pytest.fixture
def map_hub(hub, tmp_path: Path):  # type: ignore[no-untyped-def]
    report = hub.ingest([write_library(tmp_path / "library")])
    assert report.rejected == [], [str(r) for r in report.rejected]
    assert len(hub.practices()) == 6
    return hub


# --- unit: placement ----------------------------------------------------------------------------
def practice(pid: str, outcomes: list[tuple] = (), rating: str = "insufficient", kind: str = "intervention",
             theme: str = "policing", population: str = "general", level: str = "primary") -> Practice:
    return Practice(id=pid, name=pid.replace("-", " ").title(), names={"fr": "FR " + pid}, summary="",
                    rating=SCALE[rating], levels=[level], themes=[theme], populations=[population], settings=[],
                    related_tools=[], emmie={}, sources=[], doc_id=f"doc-{pid}", language="en", kind=kind,
                    outcomes=[Outcome(o, d, SCALE[r], n, design) for o, d, r, n, design in outcomes])


STRONG = practice("strong", [("crime", "reduces", "effective", 40, "systematic-review")])
WEAK = practice("weak", [("crime", "unknown", "insufficient", 1, "case-study")], theme="public space",
                population="youth")


def point(the_map: em.EvidenceMap, pid: str) -> em.Point:
    return next(p for p in the_map.points if p.practice_id == pid)


def test_a_strong_effective_practice_is_right_of_and_above_a_weak_insufficient_one() -> None:
    the_map = em.build([WEAK, STRONG])
    strong, weak = point(the_map, "strong"), point(the_map, "weak")
    assert (strong.x, strong.y, strong.strength) == (4, 4, "strong")
    assert (weak.x, weak.y, weak.strength) == (1, 2, "very-limited")
    # in the SVG: further right, and higher (smaller y on screen)
    assert strong.cx > weak.cx and strong.cy < weak.cy
    harmful = point(em.build([practice("bad", [("crime", "increases", "harmful", 5, "randomised")]), WEAK]), "bad")
    assert harmful.y == 0 and harmful.cy > point(em.build([WEAK]), "weak").cy


def test_bubble_radius_grows_with_the_number_of_studies_and_is_capped() -> None:
    sizes = [em.radius(n) for n in (None, 0, 1, 5, 20, 76, 100, 5000)]
    assert sizes[0] == sizes[1] < sizes[2] < sizes[3] < sizes[4] < sizes[5] < sizes[6] == sizes[7]
    the_map = em.build([STRONG, WEAK])
    assert point(the_map, "strong").r > point(the_map, "weak").r


def test_filters_drop_practices_and_methods_and_unrated_are_listed_apart() -> None:
    trust = practice("dialogue", [("trust", "increases", "promising", 3, "quasi-experimental")])
    method = practice("walks", rating="method", kind="method")
    legacy = practice("old", rating="mixed")
    everyone = [STRONG, WEAK, trust, method, legacy]
    assert {p.practice_id for p in em.build(everyone).points} == {"strong", "weak", "dialogue", "old"}
    assert em.build(everyone).methods == [("walks", "Walks")]
    assert {p.practice_id for p in em.build(everyone, theme="public space").points} == {"weak"}
    assert {p.practice_id for p in em.build(everyone, population="youth").points} == {"weak"}
    assert em.build(everyone, level="tertiary").points == []
    # one outcome: who does not rate it is listed, not plotted; an older profile names no outcome
    crime = em.build(everyone, outcome="crime")
    assert {p.practice_id for p in crime.points} == {"strong", "weak"}
    assert {pid for pid, _ in crime.unrated} == {"dialogue", "old"}
    # an older profile on the default view: by its headline rating, in the "not graded" column
    old = point(em.build(everyone), "old")
    assert old.strength == em.UNGRADED and old.x is None and old.y == 2
    assert old.cx < point(em.build(everyone), "weak").cx
    with pytest.raises(Exception, match="theme: unknown value 'nope'"):
        em.build(everyone, theme="nope")
    with pytest.raises(Exception, match="outcome: unknown value"):
        em.build(everyone, outcome="happiness")


def test_bubbles_sharing_a_cell_never_overlap_and_the_svg_links_each_with_a_title() -> None:
    crowd = [practice(f"p{i}", [("crime", "reduces", "effective", i * 11 + 10, "systematic-review")]) for i in range(9)]
    the_map = em.build(crowd)
    boxes = [(p.cx - p.r, p.cy - p.r, p.cx + p.r, p.cy + p.r) for p in the_map.points]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert a[3] <= b[1] or b[3] <= a[1] or a[2] <= b[0] or b[2] <= a[0], (a, b)
    # labels (to the right of their bubble, one per line of the stack) are apart too
    assert len({p.cy for p in the_map.points}) == 9
    assert min(abs(a.cy - b.cy) for i, a in enumerate(the_map.points) for b in the_map.points[i + 1:]) >= 18
    svg = em.render_svg(the_map.points)
    assert svg.count('<a href="/practices/p') == 9 and svg.count("<title>") == 10
    assert 'aria-hidden="true"' in svg and 'tabindex="-1"' in svg
    assert "Strength of the evidence" in svg and "Effect on the outcome" in svg


def test_svg_redrawn_from_json_rows_is_the_same_and_labels_are_translated() -> None:
    the_map = em.build([STRONG, WEAK])
    rows = [p.to_json() for p in the_map.points]
    assert em.render_svg(rows) == em.render_svg(the_map.points)
    french = em.render_svg(rows, lambda m, **v: {"Strength of the evidence": "Solidité des preuves"}.get(m, m))
    assert "Solidité des preuves" in french and "Strength of the evidence" not in french


# --- HTTP -------------------------------------------------------------------------------------------
AXES = {"en": ("Strength of the evidence", "Effect on the outcome", "Evidence map"),
        "fr": ("Solidité des preuves", "Effet sur le résultat visé", "Carte des preuves"),
        "es": ("Solidez de la evidencia", "Efecto sobre el resultado", "Mapa de la evidencia")}


def test_page_in_three_languages_json_and_filters_over_http(map_hub) -> None:
    with serving(create_app(map_hub)) as base, httpx.Client(base_url=base) as http:
        for lang, (x_axis, y_axis, title) in AXES.items():
            page = http.get("/evidence-map", headers={"Accept-Language": lang})
            assert page.status_code == 200, page.text[:500]
            assert f'<html lang="{lang}">' in page.text
            svg = page.text[page.text.index("<svg"):page.text.index("</svg>")]
            assert f">{x_axis} →</text>" in svg and f">{y_axis} →</text>" in svg and f"<h1>{title}</h1>" in page.text
            assert 'href="/evidence-map"' in page.text  # the nav link
        page = http.get("/evidence-map").text
        svg = page[page.index("<svg"):page.index("</svg>")]
        for pid in ("hot-spots", "murals", "scared-straight", "mentoring", "old-lighting"):
            assert f'href="/practices/{pid}"' in svg
        assert "safety-survey" not in svg  # a method: listed apart, not plotted
        methods = page[page.index("Methods: not rated on effect"):]
        assert 'href="/practices/safety-survey"' in methods
        table = page[page.index('<table class="map-table"'):page.index("</table>")]
        assert table.count("<tr data-practice=") == 5
        assert re.search(r'Hot spots policing</a></th>\s*<td>Crime</td>', table)
        french = http.get("/evidence-map", headers={"Accept-Language": "fr"}).text
        assert "Police des points chauds" in french and "Efficace" in french

        data = http.get("/api/evidence-map").json()
        by_id = {p["practice_id"]: p for p in data["points"]}
        assert set(by_id) == {"hot-spots", "murals", "scared-straight", "mentoring", "old-lighting"}
        hot = by_id["hot-spots"]
        assert (hot["outcome"], hot["rating"], hot["strength"], hot["studies"], hot["x"], hot["y"]) == \
            ("crime", "effective", "strong", 65, 4, 4)
        assert hot["r"] > by_id["murals"]["r"] and by_id["old-lighting"]["x"] is None
        assert data["methods"] == [{"practice_id": "safety-survey", "name": "Safety survey"}]

        youth = http.get("/api/evidence-map", params={"theme": "youth"}).json()
        assert {p["practice_id"] for p in youth["points"]} == {"scared-straight", "mentoring"}
        fear = http.get("/api/evidence-map", params={"outcome": "fear"}).json()
        assert [(p["practice_id"], p["rating"]) for p in fear["points"]] == [("hot-spots", "no-effect")]
        page = http.get("/evidence-map", params={"outcome": "reoffending", "population": "youth"}).text
        table = page[page.index('<table class="map-table"'):page.index("</table>")]
        assert table.count("<tr data-practice=") == 2 and "Scared Straight" in table and "Murals" not in table
        assert "Not rated on this outcome" in page

        for params in ({"theme": "astrology"}, {"outcome": "happiness"}, {"level": "quaternary"},
                       {"population": "<script>"}):
            api = http.get("/api/evidence-map", params=params)
            assert api.status_code == 400 and "unknown value" in api.json()["error"], params
            html = http.get("/evidence-map", params=params)
            assert html.status_code == 400 and "unknown value" in html.text and "<script>" not in html.text
        assert http.get("/api/evidence-map", params={"lang": "de"}).status_code == 422
        long = http.get("/api/evidence-map", params={"theme": "x" * 5000})
        assert long.status_code == 400 and len(long.json()["error"]) < 1000
        assert http.get("/evidence-map", params={"outcome": "crime\x00"}).status_code == 422
        assert http.get("/evidence-map", params={"outcome": "CRIME ", "unknown": "1"}).status_code == 200


# --- Chromium -------------------------------------------------------------------------------------
def test_map_in_chromium_positions_labels_keyboard_and_three_languages(map_hub, browser, screenshots) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select

    from tests.web.test_browser import click_and_load

    def bubble(pid: str):  # type: ignore[no-untyped-def]
        return browser.find_element(By.CSS_SELECTOR, f'svg.evidence-map-svg a[data-practice="{pid}"] circle').rect

    def texts(selector: str) -> list[str]:
        return [e.text for e in browser.find_elements(By.CSS_SELECTOR, selector)]

    with serving(create_app(map_hub)) as base:
        browser.delete_all_cookies()
        browser.get(base + "/evidence-map")
        strong, weak, harmful = bubble("hot-spots"), bubble("murals"), bubble("scared-straight")
        assert strong["width"] > 0 and weak["width"] > 0
        # strong and effective: right of and above the weak, insufficient one; harmful lowest
        assert strong["x"] > weak["x"] + weak["width"] and strong["y"] + strong["height"] < weak["y"]
        assert harmful["y"] > weak["y"] + weak["height"]
        assert strong["width"] > weak["width"]  # 65 studies against 1
        # labels: axes, rows, columns, legend and bubble names are drawn
        assert "Strength of the evidence →" in texts("svg text.x-axis")
        assert "Effect on the outcome →" in texts("svg text.y-axis")
        assert {"Effective", "Promising", "Mixed or unclear", "No effect"} <= set(texts("svg text.row-label"))
        assert {"Strong", "Very limited", "Not graded (older profile)"} <= set(texts("svg text.col-label"))
        assert {"Effective", "Insufficient evidence", "Harmful"} <= set(texts("svg .legend text.legend-label"))
        assert any(t.startswith("Dashed outline") for t in texts("svg .legend text.legend-label"))
        assert "Hot spots policing" in texts("svg text.bubble-label")
        # no two bubble labels overlap on screen
        boxes = [e.rect for e in browser.find_elements(By.CSS_SELECTOR, "svg text.bubble-label")]
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                apart = (a["x"] + a["width"] <= b["x"] or b["x"] + b["width"] <= a["x"]
                         or a["y"] + a["height"] <= b["y"] or b["y"] + b["height"] <= a["y"])
                assert apart, (a, b)
        browser.execute_script("document.querySelector('figure.evidence-map').scrollIntoView()")
        screenshots(browser, "evidence-map")

        # keyboard: the skip link leads to the table, whose links are the next stops; the SVG's are not
        browser.find_element(By.LINK_TEXT, "Skip to the table").send_keys(Keys.ENTER)
        browser.switch_to.active_element.send_keys(Keys.TAB)
        for _ in range(3):
            focused = browser.switch_to.active_element
            if focused.tag_name == "a" and focused.get_attribute("href").split("/practices/")[-1] in {
                    "hot-spots", "murals", "scared-straight", "mentoring", "old-lighting"}:
                break
            focused.send_keys(Keys.TAB)
        assert browser.execute_script("return document.activeElement.closest('table.map-table') !== null")
        assert all(a.get_attribute("tabindex") == "-1" for a in browser.find_elements(By.CSS_SELECTOR, "svg a"))

        # the filter form works without JavaScript (a GET)
        Select(browser.find_element(By.NAME, "outcome")).select_by_value("reoffending")
        click_and_load(browser, lambda: browser.find_element(By.CSS_SELECTOR, "form.map-filters button"))
        assert "outcome=reoffending" in browser.current_url
        assert {a.get_attribute("data-practice") for a in browser.find_elements(By.CSS_SELECTOR, "svg a")} == \
            {"scared-straight", "mentoring"}
        assert bubble("mentoring")["y"] < bubble("scared-straight")["y"]

        # French and Spanish: the switch's cookie, then translated axes and legend
        for lang, (x_axis, y_axis, title) in (("fr", AXES["fr"]), ("es", AXES["es"])):
            browser.add_cookie({"name": "hub_lang", "value": lang})
            browser.get(base + "/evidence-map")
            assert browser.find_element(By.TAG_NAME, "h1").text == title
            assert f"{x_axis} →" in texts("svg text.x-axis") and f"{y_axis} →" in texts("svg text.y-axis")
            legend = set(texts("svg .legend text.legend-label"))
            assert ("Efficace" if lang == "fr" else "Efectiva") in legend
            assert bubble("hot-spots")["x"] > bubble("murals")["x"]
            screenshots(browser, f"evidence-map-{lang}")


# --- briefs -----------------------------------------------------------------------------------------
def test_map_goes_into_a_brief_and_exports_as_table_and_svg(map_hub) -> None:
    import io

    from pypdf import PdfReader

    amir = map_hub.accounts.register("amir", "advisor-pass-12", role="member", display_name="Amir")
    token = map_hub.accounts.create_token(amir.id)
    with serving(create_app(map_hub)) as base, httpx.Client(base_url=base) as http:
        login = http.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', login.text).group(1)
        assert http.post("/login", data={"username": "amir", "password": "advisor-pass-12", "csrf_token": csrf},
                         follow_redirects=False).status_code == 303
        page = http.get("/evidence-map", params={"theme": "youth"}, headers={"Accept-Language": "fr"}).text
        form = page[page.index('<form method="post" action="/briefs/add"'):]
        form = form[:form.index("</form>")]
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        assert fields["kind"] == "map" and fields["map_theme"] == "youth" and fields["map_outcome"] == "primary"
        added = http.post("/briefs/add", data={**fields, "brief": "new"}, headers={"Accept-Language": "fr"},
                          follow_redirects=False)
        assert added.status_code == 303, added.text[:300]
        brief = http.get(f"/api/briefs/{http.get('/api/briefs').json()[0]['id']}").json()
        item = brief["items"][0]
        assert item["kind"] == "map" and {r["practice_id"] for r in item["evidence"]} == {"scared-straight", "mentoring"}
        shown = http.get(f"/briefs/{brief['id']}", headers={"Accept-Language": "fr"}).text
        assert "Carte des preuves" in shown and "Scared Straight" in shown

        md = http.get(f"/briefs/{brief['id']}/export", params={"format": "md"}).text
        assert "## 1. Evidence map: Each practice's primary outcome" in md
        assert "| Practice | Outcome | Rating | Strength of the evidence | Studies |" in md
        assert "| Scared Straight | Reoffending | − Harmful | Strong | 9 (randomised controlled trials) |" in md
        assert "Theme: youth." in md
        html = http.get(f"/briefs/{brief['id']}/export", params={"format": "html"},
                        headers={"Accept-Language": "es"}).text
        svg = html[html.index("<svg"):html.index("</svg>")]
        assert 'data-practice="mentoring"' in svg and "Solidez de la evidencia" in svg and "<a " not in svg
        assert '<table class="map">' in html and "Perjudicial" in html
        pdf = http.get(f"/briefs/{brief['id']}/export", params={"format": "pdf"})
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "Evidence map" in text and "Scared Straight: Reoffending" in text

        # the API adds one too, with the same filters; an unknown one is refused
        auth = {"Authorization": f"Bearer {token}"}
        made = http.post(f"/api/briefs/{brief['id']}/items", headers=auth,
                         json={"kind": "map", "map": {"outcome": "fear"}})
        assert made.status_code == 201 and [r["practice_id"] for r in made.json()["evidence"]] == ["hot-spots"]
        bad = http.post(f"/api/briefs/{brief['id']}/items", headers=auth, json={"kind": "map", "map": {"level": "x"}})
        assert bad.status_code == 400 and "level: unknown value" in bad.json()["error"]
