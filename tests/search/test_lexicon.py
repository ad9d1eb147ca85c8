"""The lexicon: a question's words carried into the library's other languages for the keyword
ranking (search/lexicon.py), with the real multilingual encoder and the real stores."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from hub.core import Hub
from search.request import SearchRequest
from tests.conftest import settings_for

#: Texts whose words the thesaurus does not name (no concept of bakeries, dogs or bins), so only
#: the lexicon can carry a question's words across.
TEXTS = {
    "bakery.md": "# The night bakery\n\nThe bakery on the corner keeps its lights on until dawn. Bakers talk with "
                 "the people waiting for the first tram, and the owner knows every regular customer by name.\n",
    "dogs.md": "# Dog walkers\n\nDog walkers cross the park every evening. Owners of dogs say the paths feel "
               "busy and friendly when many walkers are about, even after dark.\n",
    "bins.fr.md": "# Les poubelles de la rue\n\nLes poubelles débordent chaque lundi dans la rue commerçante. Les "
                  "commerçants demandent une collecte supplémentaire avant le marché du mardi.\n",
    "huerto.es.md": "# El huerto comunitario\n\nLos vecinos cultivan tomates y lechugas en el huerto comunitario. Cada "
                    "sábado reparten la cosecha entre las familias de la manzana.\n",
}


@pytest.fixture
def mixed_library(tmp_path: Path) -> Path:
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _sources(results) -> list[str]:  # type: ignore[no-untyped-def]
    return [Path(h.source).name for h in results.hits]


def test_a_question_in_one_language_finds_a_text_in_another_by_its_words(make_hub, mixed_library) -> None:
    """In keyword mode a French question about the bakery finds the English text, and a Spanish
    one about dogs the English text too: their words were carried into English. Without the
    lexicon the keyword index has no French or Spanish word of theirs to match."""
    hub = make_hub()
    hub.ingest([mixed_library])
    assert _sources(hub.search("Une boulangerie et ses clients", mode="keyword"))[:1] == ["bakery.md"]
    assert _sources(hub.search("perros y paseadores en el parque", mode="keyword"))[:1] == ["dogs.md"]
    # ... and the other way: an English question finds the Spanish garden and the French bins.
    assert _sources(hub.search("community garden tomatoes", mode="keyword"))[:1] == ["huerto.es.md"]
    assert _sources(hub.search("overflowing rubbish bins", mode="keyword"))[:1] == ["bins.fr.md"]
    # The carried words are marked in the passage shown, and named in the results.
    results = hub.search("Une boulangerie et ses clients", mode="keyword")
    hit = results.hits[0]
    assert "bakery" in {hit.snippet[a:b].lower() for a, b in hit.highlights}
    assert "bakery" in results.to_json()["carried"]

    without = make_hub(lexicon_words=0)
    without.ingest([mixed_library])
    assert "bakery.md" not in _sources(without.search("Une boulangerie et ses clients", mode="keyword"))
    # Asking for no expansion asks for the question's own words only.
    literal = hub.search(SearchRequest("Une boulangerie et ses clients", mode="keyword", expand=False))
    assert "bakery.md" not in _sources(literal)


def test_the_lexicon_learns_the_words_of_new_documents_and_is_kept(make_hub, embedder, mixed_library, tmp_path,
                                                                   request) -> None:
    """A document ingested later brings its words: a question in another language then finds
    it. The words and their vectors are kept in the home, and a new hub on it reads them back
    rather than embedding them again."""
    hub = make_hub()
    hub.ingest([mixed_library])
    assert "skate.md" not in _sources(hub.search("¿Dónde se juntan los patinadores?", mode="keyword"))
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "skate.md").write_text("# Skaters\n\nSkaters gather under the bridge; the skaters asked for "
                                    "a ramp and a bench.\n", encoding="utf-8")
    hub.ingest([extra])
    assert _sources(hub.search("¿Dónde se juntan los patinadores?", mode="keyword"))[:1] == ["skate.md"]
    assert hub.settings.lexicon_path.exists()

    embedded: list[int] = []
    hub.close()
    again = Hub(settings_for(hub.settings.home, collection=hub.settings.collection), embedder=embedder)
    request.addfinalizer(again.close)
    encode = again.lexicon.embed
    again.lexicon.embed = lambda words: embedded.append(len(words)) or encode(words)
    assert _sources(again.search("¿Dónde se juntan los patinadores?", mode="keyword"))[:1] == ["skate.md"]
    # "juntan" and "patinadores", which no Spanish text of the library holds: nothing else.
    assert embedded == [2], embedded


def test_an_english_only_model_carries_nothing(mixed_library, tmp_path, request) -> None:
    """MiniLM reads English only: with it alone there are no translations, and no error."""
    hub = Hub(settings_for(tmp_path / "minilm-home", model="minilm"))
    request.addfinalizer(hub.close)
    hub.ingest([mixed_library])
    assert not hub.lexicon.enabled
    assert "bakery.md" not in _sources(hub.search("Une boulangerie et ses clients", mode="keyword"))


def test_a_damaged_lexicon_file_is_counted_again(make_hub, mixed_library, caplog) -> None:
    """A lexicon file cut short (a full disk, a copy interrupted) is not an error: the words are
    counted and embedded again, with one line in the log, and the question is carried over."""
    hub = make_hub()
    hub.ingest([mixed_library])
    path = hub.settings.lexicon_path
    path.write_bytes(path.read_bytes()[:1000])
    from search.lexicon import Lexicon

    fresh = Lexicon(hub.catalog, hub.lexicon.embed, path, model=hub.lexicon.model)
    with caplog.at_level("WARNING"):
        assert "bakery" in fresh.translations("Une boulangerie et ses clients", "fr")
    assert "could not be read" in caplog.text
    assert path.stat().st_size > 1000


def test_a_question_does_not_wait_while_the_words_are_counted_again(make_hub, mixed_library, tmp_path) -> None:
    """While an ingest counts the library's words again (6 s at 100,000 passages), questions are
    carried with the words as they were, at once; the new words count from the next question
    after the count."""
    hub = make_hub()
    hub.ingest([mixed_library])
    lexicon = hub.lexicon
    release = threading.Event()
    count = lexicon._count_and_embed
    lexicon._count_and_embed = lambda known: (release.wait(120), count(known))[1]
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "skate.md").write_text("# Skaters\n\nSkaters gather under the bridge; the skaters asked for "
                                    "a ramp and a bench.\n", encoding="utf-8")
    ingest = threading.Thread(target=hub.ingest, args=([extra],))
    ingest.start()
    try:
        deadline = time.monotonic() + 120
        while hub.catalog.counts()["documents"] < len(TEXTS) + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        answers: list[list[str]] = []
        asking = threading.Thread(target=lambda: answers.append(
            lexicon.translations("Une boulangerie et ses clients", "fr")))
        asking.start()
        asking.join(60)
        assert not asking.is_alive(), "the question waited for the count"
        assert "bakery" in answers[0]
    finally:
        release.set()
        ingest.join()
    assert any(w.startswith("skater") for w in lexicon.translations("¿Dónde se juntan los patinadores?", "es"))


def test_a_one_word_search_is_read_in_the_language_the_library_uses_it_in(make_hub, tmp_path) -> None:
    """Too short for the language identifier, "perros" used to be read as English, and was carried
    into French and Spanish only. The library's word counts say it is Spanish: it is carried into
    English, and the English text about dogs is found by its words."""
    from search.hybrid import query_language

    folder = tmp_path / "pets"
    folder.mkdir()
    (folder / "dogs.md").write_text(TEXTS["dogs.md"], encoding="utf-8")
    (folder / "perros.es.md").write_text(
        "# Perros en la plaza\n\nLos vecinos pasean a sus perros por la plaza cada tarde; los perros juegan "
        "cerca de la fuente mientras los dueños conversan.\n", encoding="utf-8")
    hub = make_hub()
    hub.ingest([folder])
    assert [query_language(q, hub.catalog) for q in ("perros", "dogs", "walkers")] == ["es", "en", "en"]
    results = hub.search("perros", mode="keyword")
    assert "dogs" in results.carried
    assert sorted(_sources(results)[:2]) == ["dogs.md", "perros.es.md"]


def test_after_an_ingest_each_word_is_carried_as_a_fresh_count_would_carry_it(make_hub, mixed_library, tmp_path) -> None:
    """Each word's nearest words in the other languages are kept in the lexicon's file, so that a
    question looks them up rather than searching for them. An ingest compares only the words it
    brings with the others: what it finds is what counting the whole library afresh finds."""
    from search.analysis import LANGUAGES
    from search.lexicon import Lexicon

    hub = make_hub()
    hub.ingest([mixed_library])
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "skate.md").write_text("# Skaters\n\nSkaters gather under the bridge at night; the skaters asked "
                                    "for a ramp, a bench and a lamp.\n", encoding="utf-8")
    (extra / "patines.es.md").write_text("# Patinadores\n\nLos patinadores se reúnen bajo el puente; piden una "
                                         "rampa, un banco y una farola.\n", encoding="utf-8")
    hub.ingest([extra])
    kept, _ = hub.lexicon._state
    fresh = Lexicon(hub.catalog, hub.lexicon.embed, None, model=hub.lexicon.model)
    fresh.refresh()
    again, _ = fresh._state
    for a in LANGUAGES:
        for b in LANGUAGES:
            if a != b:
                assert kept[a].words == again[a].words
                rows, cosines = kept[a].nearest_in[b]
                assert list(rows) == list(again[a].nearest_in[b][0]), (a, b)
                assert np.allclose(cosines, again[a].nearest_in[b][1], atol=1e-3)
    assert "skaters" in fresh.translations("¿Dónde se juntan los patinadores?", "es")
    # words the library has are looked up at once; a word it lacks ("juntan") is embedded first
    assert "skaters" in hub.lexicon.known_translations("los patinadores bajo el puente", "es")
    assert hub.lexicon.known_translations("¿Dónde se juntan los patinadores?", "es") is None
