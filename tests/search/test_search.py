"""Hybrid search on a small real library: pages, grouping, filters, snippets."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.errors import InvalidQuery
from search.fusion import normalise, rrf, weighted
from tests.pdfs import text_pdf

PAGES = [
    "Hot spots policing puts patrols where crime concentrates. Sherman and Weisburd ran the "
    "Minneapolis experiment; later reviews found modest reductions without displacement.",
    "Mentoring programmes pair a young person with an adult volunteer. Reviews report small but "
    "reliable reductions in delinquency, strongest when mentors meet weekly and emotional support is given.",
    "Scared Straight visits to prisons increased later offending in randomised trials; the Campbell "
    "review advises against such programmes.",
]


@pytest.fixture
def small_hub(hub, tmp_path: Path):
    lib = tmp_path / "lib"
    lib.mkdir()
    text_pdf(lib / "youth-and-places.pdf", PAGES, title="Youth and places review")
    (lib / "lighting.md").write_text(
        "---\ntitle: Éclairage public et sécurité\nlanguage: fr\ndoc_type: review\ntags: [lighting, night]\nyear: 2008\n---\n"
        "## Résultats\n\nL'amélioration de l'éclairage public est suivie d'une baisse de la criminalité, "
        "la nuit comme le jour, selon la méta-analyse de Welsh et Farrington.\n")
    (lib / "transit.txt").write_text(
        "Safer bus stops at night\n\nWomen report feeling unsafe waiting at isolated bus stops after dark. "
        "Request stops let riders get off between stops, closer to home.\n")
    assert hub.ingest([lib]).exit_code == 0
    return hub


def test_query_on_page_two_cites_page_two(small_hub) -> None:
    hit = small_hub.search("mentors meet weekly delinquency", limit=1).hits[0]
    assert hit.title == "Youth and places review" and hit.page == 2
    hit = small_hub.search("Scared Straight prison visits", limit=1).hits[0]
    assert hit.page == 3


def test_one_hit_per_document_with_highlighted_snippet(small_hub) -> None:
    results = small_hub.search("crime", limit=10)
    ids = [h.doc_id for h in results.hits]
    assert len(ids) == len(set(ids)) == results.total == 3
    hit = small_hub.search("request stops for women at night", limit=1).hits[0]
    assert hit.title == "Safer bus stops at night" and hit.page is None
    marked = {hit.snippet[a:b].lower() for a, b in hit.highlights}
    assert {"women", "request", "stops"} <= marked
    assert "<mark>Request</mark>" in hit.snippet_html


def test_words_added_in_other_languages_mark_no_function_words(hub, tmp_path: Path) -> None:
    """The thesaurus adds "parada de autobús" and "arrêt d'autobus" to a question about bus stops:
    their nouns may be marked, not every "de" of an English passage (the page showed "Société
    <mark>de</mark> transport <mark>de</mark> Montréal")."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "night-buses.txt").write_text(
        "Night buses in Montreal\n\nSince 1996 the Société de transport de Montréal has let women leave the "
        "bus between two stops at night, closer to home, a service that La Presse de Montréal praised.\n")
    assert hub.ingest([lib]).exit_code == 0
    results = hub.search("women waiting at bus stops at night", limit=1)
    assert any("de" in w.split() for c in results.concepts for w in c["labels"].values())  # what is added
    hit = results.hits[0]
    marked = [hit.snippet[a:b].lower() for a, b in hit.highlights]
    assert {"women", "stops", "night"} <= set(marked), marked
    assert not {"de", "la", "d"} & set(marked), marked


def test_snippet_highlighting_is_language_aware(small_hub) -> None:
    hit = small_hub.search("eclairage securite", limit=1).hits[0]
    assert hit.language == "fr"
    assert "<mark>éclairage</mark>" in hit.snippet_html


def test_filters(small_hub) -> None:
    assert {h.language for h in small_hub.search("crime", filters={"language": "fr"}).hits} == {"fr"}
    assert [h.doc_type for h in small_hub.search("crime", filters={"doc_type": ["review"]}).hits] == ["review"]
    assert [h.title for h in small_hub.search("crime", filters={"tags": "Lighting"}).hits] == ["Éclairage public et sécurité"]
    assert small_hub.search("crime", filters={"language": "de"}).hits == []


def test_modes_and_pagination(small_hub) -> None:
    for mode in ("dense", "keyword", "hybrid"):
        assert small_hub.search("Minneapolis hot spots", mode=mode).hits[0].page == 1
    first = small_hub.search("crime", limit=2)
    second = small_hub.search("crime", limit=2, offset=2)
    assert len(first.hits) == 2 and len(second.hits) == 1
    assert not {h.doc_id for h in first.hits} & {h.doc_id for h in second.hits}


@pytest.mark.parametrize("kwargs, message", [
    ({"query": "  "}, "empty query"),
    ({"query": "x", "limit": 0}, "limit"),
    ({"query": "x", "mode": "magic"}, "unknown search mode"),
    ({"query": "x", "filters": {"colour": "red"}}, "unknown filter"),
])
def test_invalid_requests_say_what_is_wrong(small_hub, kwargs, message) -> None:
    with pytest.raises(InvalidQuery, match=message):
        small_hub.search(**kwargs)


def test_odd_query_syntax_does_not_crash(small_hub) -> None:
    for query in ['"unclosed phrase', "title:", "AND OR NOT", "(((", "crime^^", "*", "a:b:c"]:
        small_hub.search(query)


def test_an_english_question_ranks_the_same_whether_minilm_finishes_first_or_last(small_hub, monkeypatch) -> None:
    # An English question's MiniLM vector is computed on a worker thread while the engine looks
    # for USE's neighbours; its own neighbours are asked for after. Waiting for both vectors and
    # asking the engine once must give the very same page.
    from search.dense import DenseRetriever

    questions = ["mentors meet weekly", "women waiting at bus stops after dark", "patrols where crime concentrates"]
    staged = [[(h.doc_id, h.score, h.chunk_id) for h in small_hub.search(q, limit=5).hits] for q in questions]
    start = DenseRetriever.start

    def all_at_once(self, text, language, share=None):  # type: ignore[no-untyped-def]
        question, later = start(self, text, language, share)
        assert later or language != "en"  # the English questions here do take the staged path
        return (DenseRetriever.complete(question, later) if later else question), {}

    small_hub.embedder()._queries.clear()
    monkeypatch.setattr(DenseRetriever, "start", all_at_once)
    once = [[(h.doc_id, h.score, h.chunk_id) for h in small_hub.search(q, limit=5).hits] for q in questions]
    assert once == staged and all(staged)


def test_empty_hub_returns_nothing(hub) -> None:
    assert hub.search("anything").hits == []


def test_fusion_functions() -> None:
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
    keyword = [("c", 12.0), ("a", 6.0)]
    assert normalise(dense) == {"a": 1.0, "b": 0.5, "c": 0.0}
    fused = weighted({"dense": dense, "keyword": keyword}, {"dense": 0.5, "keyword": 0.5})
    assert max(fused, key=fused.get) == "a"
    ranks = rrf({"dense": dense, "keyword": keyword})
    assert ranks["a"] > ranks["c"] > ranks["b"]


def test_highlights_land_on_the_words_whatever_the_letters() -> None:
    """Accents, capitals and letters whose lower case is longer ("İ") must not shift the marks."""
    from search.snippets import make_snippet

    for text in ("Sécurité des GARES et de l'ÉCLAIRAGE", "İstanbul: sécurité des gares, “éclairage” public"):
        snip = make_snippet(text, "gare eclairage", "fr")
        assert sorted(snip.text[a:b].lower() for a, b in snip.highlights) == ["gares", "éclairage"], text


def test_highlights_mark_whole_words_in_long_and_untidy_passages() -> None:
    """A window cut out of a long passage marks the same words wherever the passage's spaces,
    line breaks and word lengths put the cut."""
    from search.snippets import make_snippet

    filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 12
    for text in (f"{filler}Les gares sans éclairage inquiètent les usagères. {filler}",
                 f"{filler}Les  gares\n\nsans éclairage\tinquiètent les usagères.\n{filler}",
                 f"{'x' * 300} gares éclairage {'y' * 900}"):
        snip = make_snippet(text, "gare eclairage", "fr")
        marked = [snip.text[a:b] for a, b in snip.highlights]
        assert marked == ["gares", "éclairage"], (marked, snip.text)
        assert "  " not in snip.text and "\n" not in snip.text


def test_a_questions_small_words_are_not_matched_in_french_or_spanish_either() -> None:
    """"les", "comment", "¿cómo?", "¿dónde?" are what "the", "how", "where" are in English: words
    that match every passage of the language; they are neither marked nor searched for."""
    from search.analysis import query_terms
    from search.snippets import make_snippet

    snip = make_snippet("Les usagères disent comment les gares sans éclairage les inquiètent, plus que tout.",
                        "Comment l'éclairage des gares rassure-t-il plus les usagères ?", "fr")
    assert [snip.text[a:b] for a, b in snip.highlights] == ["usagères", "gares", "éclairage"]
    snip = make_snippet("Cómo y dónde esperan las mujeres: en paradas oscuras.",
                        "¿Cómo y dónde se sienten seguras las mujeres en las paradas?", "es")
    assert [snip.text[a:b] for a, b in snip.highlights] == ["mujeres", "paradas"]
    assert query_terms("Comment, quand et où les quartiers sont-ils plus sûrs ?", "fr") == ("quarti", "sur")


@pytest.mark.parametrize("language, text, question, marked", [
    ("es", "Las mujeres y los jóvenes de las ciudades, en talleres y acciones.", "mujer joven ciudad taller acción",
     ["mujeres", "jóvenes", "ciudades", "talleres", "acciones"]),
    ("fr", "Les usagers et les élus du quartier.", "usager élu", ["usagers", "élus"]),
    ("en", "Women and children of the neighborhood organized patrols against offenses.",
     "woman child neighbourhood organise offence", ["Women", "children", "neighborhood", "organized", "offenses"]),
])
def test_a_word_finds_its_plural_and_its_other_spelling(language, text, question, marked) -> None:
    """Snowball stems "mujer" and "mujeres", "usager" and "usagers" apart; English has its
    irregular plurals and two spellings: a question in the singular must still find the plural."""
    from search.snippets import make_snippet

    snip = make_snippet(text, question, language)
    assert [snip.text[a:b] for a, b in snip.highlights] == marked


def test_a_passage_in_another_language_than_its_document_is_marked_in_its_own(make_hub) -> None:
    """A practice profile written in English carries its summary in Spanish: a Spanish question
    marks that passage's words as Spanish ("alumbrado"), not its small words ("la", "el")."""
    from tests.conftest import LIBRARY

    hub = make_hub()
    hub.ingest([LIBRARY / "practices" / "street-lighting.md"])
    hit = hub.search("¿El alumbrado público reduce la delincuencia?", limit=1).hits[0]
    assert hit.language == "en"
    spanish = [p for p in hit.passages if "alumbrado" in p.snippet.lower()]
    assert spanish, [p.snippet for p in hit.passages]
    for passage in spanish:
        marked = {passage.snippet[a:b].lower() for a, b in passage.highlights}
        assert "alumbrado" in marked and not marked & {"la", "el", "de", "los", "las", "del"}, marked


def test_a_qdrant_server_ranks_as_the_embedded_index(make_hub, tmp_path) -> None:
    """The same layout on a server (qdrant-client's local mode, its emulation of the server API)
    and on the embedded Qdrant Edge shard: same rankings, same scores, in every mode."""
    from tests.conftest import LIBRARY

    files = [LIBRARY / "practices" / "street-lighting.md", LIBRARY / "documents"]
    embedded = make_hub()
    embedded.ingest(files)
    server = make_hub(qdrant_url=str(tmp_path / "server"))
    server.ingest(files)
    for question, mode in (("¿El alumbrado público reduce la delincuencia?", "hybrid"),
                           ("how do we make bus stops safer at night", "hybrid"),
                           ("marches exploratoires de femmes", "keyword"), ("youth violence", "dense")):
        a = embedded.search(question, limit=5, mode=mode).hits
        b = server.search(question, limit=5, mode=mode).hits
        assert [h.source for h in a] == [h.source for h in b], (question, mode)
        assert [h.score for h in a] == pytest.approx([h.score for h in b], abs=1e-4), (question, mode)


def test_levelling_languages_keeps_each_languages_order_and_removes_its_offset() -> None:
    import numpy as np

    from search.dense import center_by_language

    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05, 0.5, 0.45, 0.4, 0.35, 0.3], dtype=np.float32)
    languages = ["es"] * 10 + ["en"] * 5
    out = center_by_language(scores, languages)
    es, en = out[:10], out[10:]
    assert np.all(np.diff(es) < 0) and np.all(np.diff(en) < 0), "order within a language is kept"
    assert abs(float(es.mean()) - float(en.mean())) < 1e-6
    assert np.allclose(center_by_language(scores, ["es"] * 15), scores), "one language: nothing to level"
    few = center_by_language(scores, ["es"] * 13 + ["en"] * 2)
    assert np.allclose(few[13:], scores[13:]), "two passages are too few to estimate a language's offset"


def test_a_spanish_question_finds_the_english_evaluation_before_spanish_texts_on_other_subjects(
        documents_hub) -> None:
    """The multilingual encoder scores Spanish texts higher for a Spanish question whatever they
    are about; levelling each language's scores lets the English evaluation of cameras lead."""
    question = "El alcalde quiere llenar el centro de cámaras. ¿Reducen de verdad la delincuencia?"
    hits = documents_hub.search(question, limit=3).hits
    assert Path(hits[0].source).name == "situational-prevention-public-space.en.pdf", [h.source for h in hits]


@pytest.mark.parametrize("query", ["juvenile delinquency", "délinquance juvénile", "delincuencia juvenil"])
def test_a_subject_looked_up_in_two_words_finds_its_document_first(library_hub, query: str) -> None:
    """Two words say little to an encoder, and the keyword ranking matches them exactly: a search
    of one or two words gives the dense ranking at most a fifth of the weight
    (HUB_DENSE_WEIGHT_SHORT). In any of the three languages, the review of juvenile delinquency
    comes first, not a practice profile that the encoders find near the words."""
    hits = library_hub.search(query, limit=3).hits
    assert Path(hits[0].source).name == "prevencion-juvenil.es.pdf", [Path(h.source).name for h in hits]


def test_a_managers_question_lists_documents_and_the_practices_that_fit_beside_them(library_hub) -> None:
    """The practice profiles are written as managers tell their problems, and took most of the
    first places of a search, above the library's documents that answer it (bench/quality.py,
    "library as served"). They are listed beside the documents, the same in each language, and
    among them only when asked for."""
    asked = ["Women tell us they avoid the bus stop on the main street after dark. What can the city do?",
             "Les femmes nous disent qu'elles évitent l'arrêt de bus de la rue principale la nuit. Que peut faire la ville ?",
             "Las mujeres nos dicen que evitan la parada de autobús de la calle principal de noche. ¿Qué puede hacer la ciudad?"]
    listed = []
    for question in asked:
        results = library_hub.search(question, limit=10, practices=3)
        assert [h.title for h in results.hits if h.doc_type == "practice"] == [], question
        assert Path(results.hits[0].source).name == "womens-safety-public-transport.en.pdf", [h.title for h in results.hits]
        assert "practice" not in dict(results.facets["doc_type"])
        assert {"name", "names", "rating", "rating_label", "relevance"} <= set(results.practices[0])
        listed.append({p["practice_id"] for p in results.practices})
    assert "womens-transit-safety" in listed[0] and listed[0] == listed[1] == listed[2], listed
    profiles = library_hub.search("type:practice " + asked[0], limit=3, practices=3)
    assert profiles.hits and {h.doc_type for h in profiles.hits} == {"practice"}
    assert profiles.practices == [], "the profiles are the results: nothing to list beside them"
    assert library_hub.search(asked[0], limit=3).practices == [], "listed only when asked for"


def test_the_time_a_search_reports_includes_the_practices_listed_beside_it(library_hub, monkeypatch) -> None:
    """The page says how long the search took: the practices beside the documents are part of
    that wait, so a slow ranking of the profiles shows in it."""
    import time

    question = "street lighting in parks"
    library_hub.search(question, limit=3, practices=3)  # the encoders loaded, the question's vectors kept
    quick = library_hub.search(question, limit=3, practices=3).took_ms
    fitting = library_hub.fitting_practices

    def slow(question: str, limit: int = 3, language: str | None = None) -> list:
        time.sleep(1.0)
        return fitting(question, limit, language)

    monkeypatch.setattr(library_hub, "fitting_practices", slow)
    results = library_hub.search(question, limit=3, practices=3)
    assert quick < 1000, quick
    assert results.practices and results.took_ms >= 1000, results.took_ms


PORTUGUESE_NEWS = (
    "O clube venceu o campeonato depois de uma temporada difícil. Para o treinador, a equipe "
    "mostrou que sabe sofrer: os jogadores correram até o fim, e a torcida cantou durante todo o "
    "jogo no estádio lotado. Na próxima semana, o time viaja para a capital, onde enfrenta o líder "
    "da tabela, que não perde em casa desde o início do ano.")


def test_a_text_in_another_language_is_not_found_through_the_questions_small_words(make_hub, tmp_path) -> None:
    """Passages in a language the hub does not analyse keep their own words, but not the small
    words of English, French and Spanish, which name no subject there either: a Spanish
    question's "que" and "para" found Portuguese football news before the evidence."""
    from tests.conftest import DOCUMENTS

    hub = make_hub()
    news = tmp_path / "noticias.txt"
    news.write_text("Campeonato\n\n" + PORTUGUESE_NEWS + "\n", encoding="utf-8")
    assert hub.ingest([news, DOCUMENTS / "juntas-locales-seguridad.es.html"]).rejected == []
    asked = "¿Qué hacer para que los vecinos participen en la seguridad del barrio?"
    sources = [Path(h.source).name for h in hub.search(asked, mode="keyword", expand=False).hits]
    assert sources and "noticias.txt" not in sources, sources
    assert [Path(h.source).name for h in hub.search("campeonato estádio", mode="keyword").hits] == ["noticias.txt"]


LIGHTING = ("Residents told the council that the path between the station and the housing estate feels "
            "unsafe after dark because half of the street lamps are broken and the rest give a dim orange "
            "light. The council replaced the lamps with brighter white ones, trimmed the hedges that hid the "
            "path, and asked residents to report any lamp that goes out. Six months later more people walked "
            "home that way in the evening, and fewer said they avoided the path at night. The lighting "
            "engineers kept the lamps evenly spaced so that no stretch of the path was left in shadow.")


def test_of_two_documents_saying_the_same_the_shorter_comes_first(make_hub, tmp_path) -> None:
    """A document is scored by its best passage, and the best of many passages is high by chance
    alone: a long report on other subjects outranked the short documents that answered (a 90-page
    transport plan and a 73-part novel among 230 unrelated files, bench/RESULTS.md, "Long
    documents"). Here both documents' best passages are the same text, under the same title."""
    title = "# Street lighting and safety at night\n\n"
    note = tmp_path / "b-note.md"
    note.write_text(f"{title}## The path to the estate\n\n{LIGHTING}\n", encoding="utf-8")
    sections = [f"## Budget line {k}\n\n" + " ".join(
        f"Item {k}.{i} of the municipal budget covers the {topic} and its yearly maintenance costs."
        for i, topic in enumerate(["swimming pool", "library opening hours", "school canteens", "parks staff",
                                   "bus fleet", "museum roof", "sports grounds", "waste collection"]))
                for k in range(30)]
    report = tmp_path / "a-report.md"
    report.write_text(f"{title}## The path to the estate\n\n{LIGHTING}\n\n" + "\n\n".join(sections) + "\n",
                      encoding="utf-8")
    question = "How bright should the street lamps be so that residents feel safe walking home at night?"
    for prior, first in ((0.0, "a-report.md"), (None, "b-note.md")):  # None: the default setting
        hub = make_hub(length_prior=prior)
        assert hub.ingest([report, note]).rejected == []
        counts = hub.catalog.passage_counts()
        assert sorted(counts.values()) == [1, 31], counts
        hits = hub.search(question, limit=5).hits
        assert [Path(h.source).name for h in hits[:2]] == [first, ({"a-report.md", "b-note.md"} - {first}).pop()]
        if prior == 0.0:  # the same best passage, the same score: the order of their ids decides
            assert hits[0].score == pytest.approx(hits[1].score)
