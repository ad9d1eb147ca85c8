"""Dense retrieval over one named vector per encoder (search/dense.py): the joint scores the
engine's answers give are those of the two encoders' cosines weighed in NumPy from the stored
vectors, MiniLM voting only on English questions against English passages."""

from __future__ import annotations

import numpy as np
import pytest

from search.dense import DenseRetriever


@pytest.mark.parametrize("question, language", [("how do we make bus stops safer at night", "en"),
                                                ("¿El alumbrado público reduce la delincuencia?", "es")])
def test_joint_scores_equal_the_encoders_cosines_weighed(documents_hub, question, language) -> None:
    hub = documents_hub
    embedder = hub.embedder()
    retriever = DenseRetriever(hub.index.store, embedder, center=False)
    asked = retriever.question(question, language)
    found = retriever.search(asked, 20)
    assert len(found) == 20

    everything = list(hub.index.store.passages())
    ids, parts = hub.index.store.vectors(everything)
    languages = [p["language"] for p in (hub.index.store.payloads(ids)[c] for c in ids)]
    joined = embedder.join([parts[p] for p in embedder.parts])
    expected = embedder.scores(embedder.query_parts(question, language), joined, language, languages)
    order = np.argsort(-expected, kind="stable")[:20]
    assert [f.chunk_id for f in found] == [ids[i] for i in order]
    # The engine computes with the stored half-precision vectors (search/store.py).
    assert [f.score for f in found] == pytest.approx([float(expected[i]) for i in order], abs=1e-4)
    if language == "en":  # MiniLM had a say on English passages, and none on the others
        english = [i for i, lang in enumerate(languages) if lang == "en"]
        other = [i for i, lang in enumerate(languages) if lang != "en"]
        use = parts["use-m3"] @ embedder.query_parts(question, language)[0].ravel()
        assert not np.allclose(expected[english], use[english]) and np.allclose(expected[other], use[other], atol=1e-5)


def test_feedback_moves_the_question_towards_the_passages(documents_hub) -> None:
    hub = documents_hub
    retriever = DenseRetriever(hub.index.store, hub.embedder())
    asked = retriever.question("street lighting", "en")
    first = retriever.search(asked, 30)
    moved = retriever.feedback(asked, [f.chunk_id for f in first[:5]], 1.5)
    again = retriever.rescore(moved, first, 30)
    assert {f.chunk_id for f in again} == {f.chunk_id for f in first}
    top = {f.chunk_id for f in first[:5]}
    # the passages fed back score higher relative to the rest than they did before
    gain = {f.chunk_id: f.score for f in again}
    base = {f.chunk_id: f.score for f in first}
    assert np.mean([gain[c] - base[c] for c in top]) > np.mean([gain[c] - base[c] for c in base if c not in top])


def test_an_encoder_has_no_say_on_passages_it_cannot_read(documents_hub) -> None:
    """MiniLM reads English only: the non-English passages its search finds (and USE's did not)
    do not become candidates through it."""
    retriever = DenseRetriever(documents_hub.index.store, documents_hub.embedder(), center=False)
    seen = 0
    for q in ["how do we make bus stops safer at night", "women safety", "exploratory walk"]:
        asked = retriever.question(q, "en")
        asks = retriever.asks(asked, 20)
        answers = documents_hub.index.store.search(asks)
        by = {a.using: answer for a, answer in zip(asks, answers)}
        foreign = {f.chunk_id for f in by["minilm"] if f.language != "en"} - {f.chunk_id for f in by["use-m3"]}
        assert not foreign & {f.chunk_id for f in retriever.collect(asked, asks, answers, 1000)}, q
        seen += len(foreign)
    assert seen


UNRELATED_FR = [
    "Recette de la tarte aux pommes : étaler la pâte, couper les pommes en lamelles fines, "
    "saupoudrer de sucre et cuire quarante minutes à four chaud.",
    "Le club de football du village a gagné le championnat régional après une saison de "
    "matchs serrés, grâce à son gardien et à ses deux attaquants.",
    "Pour entretenir un vélo, graisser la chaîne chaque mois, vérifier la pression des pneus "
    "et régler les freins avant les longues sorties.",
    "La chorale répète le mardi soir à la salle des fêtes ; elle prépare un concert de chants "
    "traditionnels pour la fin de l'année.",
    "Le jardin potager demande un arrosage le soir en été, des tomates tuteurées et un paillage "
    "épais pour garder la fraîcheur du sol.",
    "Les horaires de la médiathèque changent en août : ouverture l'après-midi seulement, "
    "fermeture le lundi et retour des prêts à la boîte extérieure.",
]


def test_documents_that_answer_nothing_do_not_move_the_librarys_scores(make_hub, tmp_path) -> None:
    """A passage's dense score for a question is its own: the encoder's bonus for texts in the
    question's language is measured once (search/embedder.py ``UNRELATED_COSINE``), not from the
    candidates of the moment. Levelling each language's candidates to one mean moved every
    French passage when unrelated French files were ingested (bench/quality.py, "library among
    unrelated files": hybrid 0.848 against 0.884 on the tuning half)."""
    from tests.conftest import DOCUMENTS

    hub = make_hub()
    hub.ingest([DOCUMENTS / "police-proximite-quebec.fr.pdf", DOCUMENTS / "prevention-integree.fr.md",
                DOCUMENTS / "community-policing-evidence.en.txt", DOCUMENTS / "juntas-locales-seguridad.es.html"])
    question = "¿Cómo acercar a los policías de barrio a los vecinos?"
    before = {h.chunk_id: h.score for h in _dense_passages(hub, question)}
    extra = tmp_path / "unrelated"
    extra.mkdir()
    for i, text in enumerate(UNRELATED_FR):
        (extra / f"note-{i}.fr.txt").write_text(f"Note {i}\n\n{text}\n", encoding="utf-8")
    assert hub.ingest([extra]).rejected == []
    after = {h.chunk_id: h.score for h in _dense_passages(hub, question)}
    assert any(c not in before for c in after), "the unrelated passages are among the candidates"
    assert {c: after[c] for c in before if c in after} == pytest.approx(
        {c: before[c] for c in before if c in after}, abs=1e-5)


def _dense_passages(hub, question: str):  # type: ignore[no-untyped-def]
    retriever = DenseRetriever(hub.index.store, hub.embedder(), center=True)
    return retriever.search(retriever.question(question, "es"), 200)
