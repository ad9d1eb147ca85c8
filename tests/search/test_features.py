"""Search features people expect: syntax, facets, several passages, suggestions, diversity,
and thesaurus expansion across languages."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from search.thesaurus import Concept, Thesaurus
from tests.pdfs import text_pdf


def _md(folder: Path, name: str, title: str, lang: str, body: str, **meta) -> None:
    extra = "".join(f"{k}: {v}\n" for k, v in meta.items())
    (folder / name).write_text(f"---\ntitle: {title}\nlanguage: {lang}\n{extra}---\n{body}\n", encoding="utf-8")


@pytest.fixture
def feature_hub(hub, tmp_path: Path):
    assert hub.ingest([_library(tmp_path)]).exit_code == 0
    return hub


def _library(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    lib.mkdir()
    _md(lib, "stops.md", "Safer bus stops for women", "en",
        "Women waiting at bus stops at night feel safer with good lighting and request stops. "
        "Transit agencies also trained drivers to respond to harassment.",
        doc_type="evaluation", tags="[transit, women]", year=2016)
    _md(lib, "walks.md", "Marches exploratoires de femmes", "fr",
        "Des habitantes parcourent le quartier la nuit et notent l'éclairage, les arrêts d'autobus "
        "et les lieux isolés. La ville corrige ensuite les points noirs.",
        doc_type="tool guide", tags="[women, diagnosis]", year=2012)
    _md(lib, "cctv.md", "CCTV in car parks", "en",
        "Closed-circuit television reduced vehicle crime in car parks; effects in city centres and "
        "on public transport were smaller.", doc_type="review", tags="[cctv]", year=2019)
    text_pdf(lib / "report.pdf", [
        "Street lighting at bus stops: lighting upgrades at stops reduced fear after dark.",
        "Lighting and crime: a review of street lighting found fewer crimes by night and by day.",
        "Lighting costs: LED lighting pays back its cost within a few years through energy savings.",
    ], title="Lighting report")
    return lib


def titles(results) -> list[str]:
    return [h.title for h in results.hits]


def test_quoted_phrase_must_appear(feature_hub) -> None:
    assert titles(feature_hub.search('"request stops"')) == ["Safer bus stops for women"]
    loose = titles(feature_hub.search("request stops"))
    assert len(loose) > 1


def test_a_minus_before_a_number_is_part_of_the_question_not_an_exclusion() -> None:
    from search.query import parse_query

    parsed = parse_query('winter nights at -10 degrees -cctv -"car parks"')
    assert parsed.excluded == ["cctv", "car parks"]
    assert "-10" in parsed.words and "-10" in parsed.text


def test_title_field_and_exclusion(feature_hub) -> None:
    assert titles(feature_hub.search("lighting title:report")) == ["Lighting report"]
    assert "CCTV in car parks" not in titles(feature_hub.search("crime -television"))
    assert "CCTV in car parks" in titles(feature_hub.search("crime"))


@pytest.mark.parametrize("engine", ["embedded", "whoosh past its postings", "server"])
def test_phrases_and_title_words_by_keyword(make_hub, tmp_path: Path, engine: str) -> None:
    """Embedded, Whoosh answers quoted phrases and title words, and the passage index when they
    would make Whoosh read too many postings (a phrase of common words in a large library); with
    a Qdrant server no local
    index file answers a question (machines share only the collection): the home keeps no
    Whoosh, and the passage index alone finds the same."""
    server = engine == "server"
    if server:
        hub = make_hub(qdrant_url=str(tmp_path / "server"))
    else:
        hub = make_hub(phrase_max_postings=1 if engine == "whoosh past its postings" else 20_000)
    assert hub.ingest([_library(tmp_path)]).exit_code == 0
    assert hub.settings.whoosh_path.exists() is not server
    assert titles(hub.search('"request stops"', mode="keyword")) == ["Safer bus stops for women"]
    assert titles(hub.search('"stops request"', mode="keyword")) == []
    # the report says "crime" less than the review of car parks, but its title has "report"
    assert titles(hub.search("crime title:report", mode="keyword")) == ["Lighting report"]
    assert titles(hub.search("title:marches", mode="keyword")) == ["Marches exploratoires de femmes"]


def test_filter_syntax_in_the_query(feature_hub) -> None:
    results = feature_hub.search("women safety tag:women lang:fr")
    assert titles(results) == ["Marches exploratoires de femmes"]
    assert results.filters == {"tags": ["women"], "language": ["fr"]}
    assert titles(feature_hub.search("safety year:2015..2020 type:evaluation")) == ["Safer bus stops for women"]
    # An open range: only the 2019 review is from 2018 on (the report has no year, so it is out too).
    assert titles(feature_hub.search("crime year:2018..", mode="keyword")) == ["CCTV in car parks"]
    assert titles(feature_hub.search("crime year:2030..", mode="keyword")) == []


def test_facets_count_every_matching_document(feature_hub) -> None:
    results = feature_hub.search("women safety at night", limit=1)
    assert len(results.hits) == 1
    facets = dict(results.facets["language"])
    assert sum(facets.values()) == results.total
    assert ("women", 2) in results.facets["tags"]
    assert {"2016", "2012"} <= dict(results.facets["year"]).keys()


def test_several_passages_per_document_with_pages(feature_hub) -> None:
    hit = next(h for h in feature_hub.search("street lighting").hits if h.title == "Lighting report")
    assert len(hit.passages) >= 2
    assert len({p.page for p in hit.passages}) == len(hit.passages)
    assert hit.passages[0].page == hit.page


def test_did_you_mean(feature_hub) -> None:
    results = feature_hub.search("ligthing harrassment")
    assert results.suggestion == "lighting harassment"
    assert feature_hub.search("lighting").suggestion is None


def test_a_suggestion_does_not_wait_while_the_words_are_counted_again(feature_hub, tmp_path) -> None:
    """After another ingest, "did you mean" keeps the earlier word counts until the new count is
    done in the background: a search never waits for it."""
    import threading

    speller = feature_hub.speller
    assert feature_hub.search("ligthing").suggestion == "lighting"
    release = threading.Event()
    count = speller._count
    speller._count = lambda: (release.wait(120), count())[1]
    extra = tmp_path / "extra"
    extra.mkdir()
    _md(extra, "skate.md", "Skateboarders", "en", "Skateboarders gather under the bridge.",
        doc_type="case study", tags="[youth]", year=2020)
    try:
        feature_hub.ingest([extra])
        answers: list = []
        asking = threading.Thread(target=lambda: answers.append(feature_hub.search("ligthing").suggestion))
        asking.start()
        asking.join(60)
        assert not asking.is_alive(), "the search waited for the count"
        assert answers == ["lighting"]
    finally:
        release.set()
    speller.follower.join(60)
    assert feature_hub.search("skateboardres").suggestion == "skateboarders"


def test_did_you_mean_leaves_known_words_alone(hub, tmp_path) -> None:
    """Another form of a word the library holds is no typo ("souterrain" where the library says
    "souterrains": the search finds it anyway); and a serving hub learns the words of what it has
    just taken in before the next question, instead of "correcting" them to an older neighbour."""
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir()
    later.mkdir()
    _md(first, "passages.md", "Passages souterrains", "fr",
        "Les passages souterrains sans lighting inquiètent les habitantes le soir.")
    assert hub.ingest([first]).exit_code == 0
    hub.warm_up()
    assert hub.search("passage souterrain").suggestion is None
    assert hub.search("passages souterains").suggestion == "passages souterrains"  # a typo still is one
    _md(later, "storms.md", "Storms", "en", "Lightning struck the shelter twice during the storm.")
    count = hub.speller._count  # as slow as a large library's count: longer than a search
    hub.speller._count = lambda: (time.sleep(2), count())[1]
    assert hub.ingest([later]).exit_code == 0
    hub.speller.follower.join(60)  # a moment later
    assert hub.search("lightning shelter").suggestion is None


def test_diversify_keeps_the_same_documents(feature_hub) -> None:
    plain = feature_hub.search("lighting at bus stops at night")
    diverse = feature_hub.search("lighting at bus stops at night", diversify=True)
    assert set(titles(plain)) == set(titles(diverse))
    assert titles(diverse)[0] == titles(plain)[0]


def test_diversify_moves_a_near_copy_below_different_evidence(hub, tmp_path: Path) -> None:
    """Two editions of one note and a different document about as relevant: with diversity on,
    the second edition gives way to the different document. (The scores are set so that the
    three nearly tie, which is when MMR reorders; the vectors are the real ones.)"""
    lib = tmp_path / "lib"
    lib.mkdir()
    note = ("Street lighting at the tram stops was renewed and residents waiting at night said they "
            "felt safer; the lamps were checked every month by the transport company.")
    _md(lib, "note-2021.md", "Tram stop lighting note 2021", "en", note)
    _md(lib, "note-2022.md", "Tram stop lighting note 2022", "en", note)
    _md(lib, "guards.md", "Night guards at tram stops", "en",
        "Uniformed guards at tram stops at night reduced harassment of waiting passengers.")
    _md(lib, "budget.md", "Municipal budget 2023", "en",
        "The council approved its budget for parks, libraries and road repairs at the March meeting.")
    assert hub.ingest([lib]).exit_code == 0
    searcher = hub.index.searcher(hub.embedder)
    by_title = {d.title: d for d in hub.documents()}
    order = ["Tram stop lighting note 2021", "Tram stop lighting note 2022", "Night guards at tram stops",
             "Municipal budget 2023"]
    scores = [1.0, 0.99, 0.97, 0.1]
    by_doc = {by_title[t].id: [(score, hub.document(by_title[t].id).chunks[0].id)] for t, score in zip(order, scores)}
    ranked = [by_title[t].id for t in order]
    diverse = [hub.document(d).title for d in searcher._mmr(ranked, by_doc)]
    assert diverse == [order[0], order[2], order[1], order[3]], diverse


def test_thesaurus_finds_concepts_in_any_language() -> None:
    thesaurus = Thesaurus([
        Concept("exploratory-walk", {"en": ["exploratory walk", "safety audit"],
                                     "fr": ["marche exploratoire"], "es": ["marcha exploratoria"]}),
        Concept("bus-stop", {"en": ["bus stop"], "fr": ["arrêt d'autobus", "arrêt de bus"],
                             "es": ["parada de autobús"]}, related=["exploratory-walk"]),
    ])
    found = thesaurus.find("Les marches exploratoires autour des arrêts d'autobus")
    assert [c.id for c in found] == ["exploratory-walk", "bus-stop"]
    expansions = thesaurus.expansions(found, "Les marches exploratoires autour des arrêts d'autobus")
    assert "exploratory walk" in expansions["keyword"] and "marcha exploratoria" in expansions["keyword"]
    assert expansions["dense"] == ["exploratory walk", "bus stop"]
    assert thesaurus.describe(found[1])["related"][0]["labels"]["fr"] == "marche exploratoire"


def test_a_label_that_is_one_word_and_stop_words_names_nothing(caplog: pytest.LogCaptureFixture) -> None:
    # "what works" is "work" once its stop word is gone: every question about work would get the
    # evidence-based-practice concept, its expansions and its practices' lift in advice.
    thesaurus = Thesaurus([
        Concept("evidence-based-practice", {"en": ["evidence-based practice", "what works"],
                                            "fr": ["ce qui fonctionne"], "es": ["lo que funciona"]}),
        Concept("call-in-meeting", {"en": ["call-in meeting", "call-in"], "fr": [], "es": []}),
    ])
    assert thesaurus.find("Residents who work late call the police about the noise") == []
    assert thesaurus.find("Comment ça fonctionne ?") == []
    assert [c.id for c in thesaurus.find("what does the evidence-based practice say")] == ["evidence-based-practice"]
    assert [c.id for c in thesaurus.find("a call-in meeting with gang members")] == ["call-in-meeting"]
    # the curator is told which labels find nothing, and why
    assert "'what works' (evidence-based-practice)" in caplog.text and "'call-in' (call-in-meeting)" in caplog.text


def test_the_thesaurus_labels_terms_kept_for_the_next_start_follow_the_curators_edits(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A server starts without analysing the 1,400 labels again (their terms kept in the model
    cache), yet a label a curator adds or removes counts at the next start."""
    import os

    from search.thesaurus import DEFAULT_PATH

    cache = tmp_path / "cache"
    fresh = Thesaurus.load(DEFAULT_PATH)
    first = Thesaurus.load(DEFAULT_PATH, cache)
    again = Thesaurus.load(DEFAULT_PATH, cache)
    assert len(list(cache.glob("*.json"))) == 1
    assert again.analysed() == first.analysed() == fresh.analysed()
    for text in ("Les marches exploratoires autour des arrêts d'autobus", "alumbrado público en los parques",
                 "hot spots policing and focused deterrence"):
        assert [c.id for c in again.find(text)] == [c.id for c in fresh.find(text)], text

    edited = tmp_path / "thesaurus.yaml"
    edited.write_text("concepts:\n  - id: bus-stop\n    en: [bus stop]\n    fr: [abribus]\n    es: [parada]\n"
                      "  - id: notice\n    en: [what works]\n    fr: []\n    es: []\n", encoding="utf-8")
    assert [c.id for c in Thesaurus.load(edited, cache).find("un abribus la nuit")] == ["bus-stop"]
    caplog.clear()
    assert [c.id for c in Thesaurus.load(edited, cache).find("un abribus la nuit")] == ["bus-stop"]
    assert "'what works' (notice)" in caplog.text, "the curator is told at every start, from the cache too"
    edited.write_text(edited.read_text(encoding="utf-8").replace("[abribus]", "[aubette]"), encoding="utf-8")
    os.utime(edited, ns=(edited.stat().st_atime_ns, edited.stat().st_mtime_ns + 1_000_000))
    reloaded = Thesaurus.load(edited, cache)
    assert reloaded.find("un abribus la nuit") == [] and [c.id for c in reloaded.find("une aubette")] == ["bus-stop"]


def test_shipped_thesaurus_is_large_and_consistent() -> None:
    thesaurus = Thesaurus.load()
    assert len(thesaurus.concepts) >= 150
    for concept in thesaurus.concepts.values():
        assert all(concept.labels[lang] for lang in ("en", "fr", "es")), concept.id
        assert all(r in thesaurus.concepts for r in concept.related), concept.id
    assert [c.id for c in thesaurus.find("marche exploratoire")] == [
        c.id for c in thesaurus.find("exploratory walk")]
