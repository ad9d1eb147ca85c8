"""One settings object for the whole hub.

Built once from ``HUB_*`` environment variables, then overridden by CLI options, and passed
down explicitly. Every piece of state lives under ``home`` so that backup, ``hub check`` and the
tests agree on where things are.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

#: The multilingual USE beside the English MiniLM: bench/encoders.py and bench/quality.py
#: measured every candidate on every collection (README, "Choosing the model").
DEFAULT_MODEL = "use-m3+minilm"


def _bool(value: str) -> bool:
    word = value.strip().lower()
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise ValueError(word)  # "HUB_OCR=maybe": said, not read as off


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=lambda: Path.home() / ".urban-safety-hub")
    #: Embedding model: an encoder of search/encoders.py (use-m3, minilm, e5-small), two joined
    #: by '+', or a local sentence-transformers folder. Recorded in the home at the first
    #: ingest; another value later is refused until `hub reindex` re-embeds.
    model: str = DEFAULT_MODEL
    #: With two encoders: the first one's share of a passage's dense score where both read the
    #: question's and the passage's language (an English-only encoder has no say elsewhere).
    model_share: float = 0.2
    #: The same share when advice ranks practices (1: the multilingual encoder alone, so a
    #: question ranks practices the same way in every language).
    advice_model_share: float = 1.0
    #: Point at a Qdrant server or cluster instead of the embedded Qdrant Edge shard under
    #: ``home`` (``:memory:`` or a folder: qdrant-client's local mode, which the tests use).
    qdrant_url: str | None = None
    #: Where the packed model files of the encoder and language identifier packages are kept
    #: unpacked, shared by every home of this user (hub/unpacked.py): a start 0.8 s shorter.
    #: None (in code): none kept, they are unpacked at every start.
    model_cache: Path | None = field(default_factory=lambda: Path.home() / ".cache" / "urban-safety-hub")
    qdrant_api_key: str | None = None
    collection: str = "passages"
    max_file_mb: float = 50.0
    host: str = "127.0.0.1"
    port: int = 8000
    #: Passage sizes in words: chunks aim for ``chunk_words`` and stay within min/max.
    chunk_words: int = 180
    chunk_min_words: int = 100
    chunk_max_words: int = 300
    embed_batch_size: int = 32
    #: Passages embedded and written to the stores together: bounds memory, and how much a
    #: crash can interrupt (the next run redoes only the unfinished group).
    ingest_group_passages: int = 512
    #: Parsing a file runs in a worker process (ingest/worker.py) that gets this long and this
    #: much memory (its whole address space, about 50 MB of it Python and the parsers); a file
    #: that needs more is rejected, the rest of the batch lands. 0: no limit.
    parse_timeout_s: float = 30.0
    parse_memory_mb: int = 1024
    #: PDFs with more pages are refused (a page tree can name one page 100,000 times in 600 KB).
    max_pdf_pages: int = 2000
    #: Read scanned PDF pages (a picture and no text layer) with Tesseract (ingest/ocr.py), at
    #: most ``ocr_max_pages`` of them per PDF; each OCR page gets ``parse_timeout_s`` of its own.
    ocr: bool = True
    ocr_max_pages: int = 200
    #: Documents that would make more passages are refused.
    max_passages_per_document: int = 5000
    #: How dense and keyword rankings combine: "weighted" (normalised scores) or "rrf".
    fusion: str = "weighted"
    #: Share of the dense ranking in weighted fusion for English questions; the keyword ranking
    #: gets the rest. Tuned on the tuning halves only (bench/tune.py; bench/RESULTS.md).
    dense_weight: float = 0.6
    #: The same for French and Spanish questions, whose answers are more often in another
    #: language, where the keyword index cannot follow.
    dense_weight_other: float = 0.7
    #: At most this share for a search of one or two words ("hot spots", "alumbrado público"):
    #: an encoder reads too little in them, where the keyword ranking matches them exactly
    #: (bench/quality.py, "library short").
    dense_weight_short: float = 0.2
    #: At least this share for a question of ``long_question_words`` words or more: a situation
    #: described at length, whose meaning the encoders read and whose many incidental words the
    #: keyword ranking matches (bench/RESULTS.md, "Long questions lean on the dense ranking"). Search only:
    #: advice ranks practices with the weights tuned for it.
    dense_weight_long: float = 0.85
    long_question_words: int = 20
    #: A hybrid search's document score is its best passage's, less this times the log of its
    #: number of passages: the best of many passages is high by chance alone, and a long report
    #: on another subject otherwise outranks the short note that answers (search/hybrid.py,
    #: bench/RESULTS.md, "Long documents"). 0: the best passage alone. Weighted fusion only (its
    #: scores run from 0 to 1).
    length_prior: float = 0.02
    #: Add the English labels of the thesaurus concepts a question names to the text the dense
    #: encoders read (the keyword index always gets every language's labels).
    dense_expansion: bool = False
    #: With two encoders: the keyword ranking's weight shrinks with the share of the best dense
    #: passages written in another language than the question (search/hybrid.py).
    keyword_confidence: bool = True
    #: The lexicon (search/lexicon.py): a question's words carried into the other languages for
    #: the keyword ranking. ``lexicon_words``: the most frequent words kept per language (0: no
    #: lexicon); ``lexicon_threshold``: the least cosine between a word and its translation.
    lexicon_words: int = 20_000
    lexicon_threshold: float = 0.7
    #: Where the lexicon carried a question's words over, the share of the keyword ranking's weight
    #: it keeps even when the best dense passages are in other languages (``keyword_confidence``
    #: would otherwise take it away): those words now find such passages too. Tuned on the tuning
    #: half only (bench/tune.py; bench/RESULTS.md, "The lexicon").
    lexicon_reach: float = 0.75
    #: Give passages in the other languages the bonus the encoders give texts in the question's
    #: own language, whatever they are about (search/embedder.py language_bonus; for a model
    #: without a measured table, each language's candidates are levelled to one mean instead:
    #: search/dense.py center_by_language). Search only; advice keeps raw scores.
    center_languages: bool = True
    #: Pseudo-relevance feedback: the query vector moves towards the top fused passages
    #: (Rocchio) and the dense search runs again. 0 turns it off.
    feedback_passages: int = 5
    feedback_weight: float = 1.5
    #: Feedback runs only when at least this share of the best dense passages is written in the
    #: question's language: otherwise the fused top is the keyword ranking's pick of same-language
    #: passages, and moving towards it pulls the question away from evidence in other languages.
    feedback_same_language: float = 0.6
    #: Trilingual thesaurus for query expansion (None: the one shipped in search/thesaurus.yaml).
    thesaurus: Path | None = None
    #: Registry of practitioner forums (None: practices/forums.yaml).
    forums: Path | None = None
    #: Passages each retriever hands to fusion.
    candidates: int = 100
    #: Postings Whoosh reads at most for a question with a quoted phrase or ``title:`` words
    #: (embedded mode: the documents holding each of its terms, summed); past them, the keyword
    #: sparse vectors answer it, as with a Qdrant server. A count, not a time, so that the same
    #: question gets the same answer however busy the machine. 0: no limit.
    phrase_max_postings: int = 20_000
    #: Candidates the engine's graph search considers for each dense question (HNSW ``ef``, at
    #: least the passages asked for): more is closer to an exact search and slower. At 100,000
    #: passages, recall@100 against an exact search was 0.92 / 0.95 / 0.98 / 0.99 at 64 / 128 /
    #: 256 / 512, and 128 instead of 256 took 2 to 3 ms off a search and changed 1.3% of the
    #: first ten documents (bench/RESULTS.md, "Scale").
    search_ef: int = 256
    progress: bool = True
    #: Signs session cookies and CSRF tokens. Empty: a random key kept in ``home/secret.key``.
    secret_key: str = ""
    #: Largest request body the web app reads (uploads included), in MB.
    max_upload_mb: float = 20.0
    #: Failed logins allowed per user name and address within ``login_window`` seconds.
    login_attempts: int = 5
    login_window: int = 300
    #: Mark session cookies Secure (set when the hub is served over HTTPS).
    secure_cookies: bool = False
    #: Log lines: "text" for people, "json" (one object per line) for log shippers.
    log_format: str = "text"
    log_level: str = "info"
    #: Anyone may register as a member; off: only admins create accounts (`hub users add`).
    open_registration: bool = True
    #: Reverse proxies whose X-Forwarded-For header is believed (comma-separated IPs or CIDRs,
    #: e.g. "127.0.0.1,10.0.0.0/8"). Empty: every client is its socket peer, whatever it claims,
    #: so nobody can pick the address the login throttle and rate limits count against.
    trusted_proxies: str = ""
    #: Rate limits, each per account and per address (an address gets four times an account's
    #: share, as offices share one): case-study uploads, brief exports (shared links included)
    #: and searches/advice, as requests per window of seconds. Over it: 429 with Retry-After.
    upload_limit: int = 20
    upload_window: int = 3600
    export_limit: int = 20
    export_window: int = 60
    search_limit: int = 120
    search_window: int = 60
    #: Memory for rendered brief exports, kept until their brief changes.
    export_cache_mb: float = 64.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Read ``HUB_*`` variables, then apply explicit overrides (None means: not given)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = env.get(f"HUB_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _convert(f.name, f.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "home" in values:
            values["home"] = Path(values["home"]).expanduser().resolve()
        return cls(**values)

    def __post_init__(self) -> None:
        """Check every enumerated or bounded setting now, so that a misspelt value stops the hub
        at start with one line naming it, rather than deep in a search or being ignored."""
        from hub.errors import ConfigError

        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ConfigError(f"HUB_{name.upper()}={value!r} is not one of: {', '.join(allowed)}")
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"HUB_{name.upper()}={value!r} must be between {low:g} and {high:g}")
        if not 0 < self.chunk_min_words <= self.chunk_words <= self.chunk_max_words:
            raise ConfigError(f"passage sizes must satisfy 0 < HUB_CHUNK_MIN_WORDS ({self.chunk_min_words}) <= "
                              f"HUB_CHUNK_WORDS ({self.chunk_words}) <= HUB_CHUNK_MAX_WORDS ({self.chunk_max_words})")

    # The layout of ``home``, in one place.
    @property
    def catalog_path(self) -> Path:
        return self.home / "catalog.sqlite"

    @property
    def qdrant_path(self) -> Path:
        """Where hubs before the Qdrant Edge shard kept their vectors (search/upgrade.py)."""
        return self.home / "qdrant"

    @property
    def whoosh_path(self) -> Path:
        return self.home / "whoosh"

    @property
    def embedding_cache_path(self) -> Path:
        return self.home / "embeddings.sqlite"

    @property
    def edge_path(self) -> Path:
        """The passage index in embedded mode: a Qdrant Edge shard (search/store.py)."""
        return self.home / "edge"

    @property
    def lexicon_path(self) -> Path:
        return self.home / "lexicon.npz"

    @property
    def community_path(self) -> Path:
        return self.home / "community.sqlite"

    @property
    def submissions_path(self) -> Path:
        return self.home / "submissions"

    @property
    def secret_path(self) -> Path:
        return self.home / "secret.key"

    @property
    def originals_path(self) -> Path:
        return self.home / "originals"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1024 * 1024)


#: Settings that take one of a few words.
CHOICES: dict[str, tuple[str, ...]] = {
    "fusion": ("weighted", "rrf"),
    "log_format": ("text", "json"),
    "log_level": ("debug", "info", "warning", "error", "critical"),
}
#: Settings that are shares or counts with limits (inclusive).
BOUNDS: dict[str, tuple[float, float]] = {
    "dense_weight": (0.0, 1.0),
    "dense_weight_other": (0.0, 1.0),
    "dense_weight_short": (0.0, 1.0),
    "dense_weight_long": (0.0, 1.0),
    "long_question_words": (3, 10_000),
    "length_prior": (0.0, 1.0),
    "model_share": (0.0, 1.0),
    "advice_model_share": (0.0, 1.0),
    "port": (1, 65535),
    "candidates": (1, 10_000),
    "embed_batch_size": (1, 4096),
    "ingest_group_passages": (1, 1_000_000),
    "feedback_passages": (0, 100),
    "feedback_same_language": (0.0, 1.0),
    "lexicon_words": (0, 1_000_000),
    "lexicon_threshold": (-1.0, 1.0),
    "lexicon_reach": (0.0, 1.0),
    "max_file_mb": (0.001, 1_000_000),
    "max_upload_mb": (0.001, 1_000_000),
    "phrase_max_postings": (0, 1_000_000_000),
    "search_ef": (16, 100_000),
}


def _convert(name: str, type_name: Any, raw: str) -> Any:
    kind = str(type_name)
    if name in CHOICES:
        return raw.strip().lower()
    try:
        if "Path" in kind:
            return Path(raw)
        if kind == "bool":
            return _bool(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        from hub.errors import ConfigError

        expected = "yes or no (1/0, true/false, on/off)" if kind == "bool" else f"a valid {kind}"
        raise ConfigError(f"HUB_{name.upper()}={raw!r} is not {expected}") from None
    return raw
