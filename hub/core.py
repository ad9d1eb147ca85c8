"""The hub as a plain Python object: what the CLI, the web app, the benchmarks and the tests use.

    hub = Hub(Settings.from_env(home="~/hub"))
    hub.ingest(["library/"])
    for hit in hub.search("éclairage public").hits: ...

Stores open when first needed and the embedding model loads on first use, once per process, so
commands that need no model (``hub check``, re-ingesting an unchanged library) stay quick.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from hub.catalog import Catalog
from hub.consistency import CheckReport, RepairReport
from hub.errors import HubError, NotFound, RejectedDocument
from hub.settings import Settings
from ingest.records import Document
from search.request import SearchRequest

#: How long a server waits at start-up for the shard's files to be read into the page cache
#: (about 1 GB and a second at 500,000 passages) before it answers anyway.
WARM_READ_WAIT_S = 20.0

if TYPE_CHECKING:
    from search.hybrid import SearchResults


class Hub:
    def __init__(self, settings: Settings, embedder: Any | None = None) -> None:
        self.settings = settings
        settings.home.mkdir(parents=True, exist_ok=True)
        self.catalog = Catalog(settings.catalog_path)
        self._embedder = embedder
        self._model_checked = False
        self._index = None
        self._thesaurus = None
        self._speller = None
        self._lexicon = None
        self._serving = False  # set by warm_up: this hub answers requests
        self._forums = None
        #: The practice profiles as last parsed, with the catalog's change marker then (``practices``).
        self._practices: tuple[tuple[int, int], list] | None = None
        self._cache = None
        self._community = None
        self._moderation = None
        self._briefs = None
        self._parser = None
        self._lock = threading.Lock()
        # One writer at a time per process: the web app ingests on approval while other requests
        # read, and Whoosh allows a single writer (a second one would fail on its lock).
        self._write_lock = threading.RLock()

    # --- lazily opened parts -----------------------------------------------------------------
    def embedder(self):  # type: ignore[no-untyped-def]
        """The embedder, once the home is known to hold this model's vectors (hub/models.py)."""
        with self._lock:
            self._check_model()
            if self._embedder is None:
                from search.embedder import Embedder

                self._embedder = Embedder(self.settings.model, self.settings.model_share, self.settings.model_cache)
            return self._embedder

    def _check_model(self) -> None:
        if not self._model_checked:
            from hub.models import check_model

            check_model(self.catalog, self._embedder.name if self._embedder is not None else self.settings.model)
            self._model_checked = True

    def reset_embedder(self, embedder) -> None:  # type: ignore[no-untyped-def]
        """After `hub reindex`: the new model's embedder serves from now on."""
        with self._lock:
            self._embedder = embedder
            self._model_checked = True

    def upgrade(self):  # type: ignore[no-untyped-def]
        """Rebuild the passage index of a home made by an earlier hub (hub/models.py)."""
        from hub.models import upgrade

        return upgrade(self)

    def reindex(self, progress: bool = True):  # type: ignore[no-untyped-def]
        """Re-embed every stored passage with the configured model (hub/models.py)."""
        from hub.models import reindex

        return reindex(self, progress=progress)

    @property
    def index(self):  # type: ignore[no-untyped-def]
        """The passage indexes (search/index.py), the only way to them."""
        if self._index is None:
            from search.index import PassageIndex

            self._index = PassageIndex(self.settings, self.catalog, self.embedder)
        return self._index

    def warm_up(self, requests: bool = False) -> None:
        """Load the model and open the indexes now (a server does this before taking requests).
        ``requests``: also send one question down the search and advice paths, which load more
        lazily (thesaurus, practice profiles, forums): without it the first visitors of a
        server waited up to 2 s (bench/load.py)."""
        self._serving = True
        from ingest import language

        def languages() -> None:
            language.warm(self.settings.model_cache)
            try:
                _ = self.thesaurus  # 0.25 s of stemming its labels, otherwise paid by the first search
            except HubError:
                pass  # a broken thesaurus file: the first search says so, in one line

        # The language identifier and the thesaurus load while the encoders load their models.
        langid = threading.Thread(target=languages, daemon=True)
        langid.start()
        self.speller.start()
        embedder = self.embedder()
        self.lexicon.warm()
        # The encoders load in a thread while the shard opens (search/embedder.py ``warm``).
        warm = getattr(embedder, "warm", None) or (lambda: embedder.embed_query("warm up the question encoder"))
        encoder = threading.Thread(target=warm, daemon=True)
        encoder.start()
        reading = self.index.warm()
        langid.join()
        encoder.join()
        # Searches that run while the shard's files are still being read fault them from the disk
        # one page at a time: at 500,000 passages, once the shard opened faster, the first 300
        # searches made 6,200 such reads, p95 121 ms against 52 once read (bench/RESULTS.md,
        # "Payload indexes mapped"). At 100,000 passages the reading ends with the encoders. A
        # library too large to read in a few seconds is served meanwhile, slower at first.
        reading.join(timeout=WARM_READ_WAIT_S)
        if requests and self.catalog.counts()["passages"]:
            self.search("warm up the search path", limit=3)
            self.recommend("how to warm up the advice path", limit=3)

    def close(self) -> None:
        """Close every store; a second call does nothing."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        if self._index is not None:
            self._index.close()
        if self._cache is not None:
            self._cache.close()
        if self._community is not None:
            self._community.close()
        if self._parser is not None:
            self._parser.close()
        if self._lexicon is not None:
            self._lexicon.close()
        self.catalog.close()

    def __enter__(self) -> "Hub":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- ingest ------------------------------------------------------------------------------
    def ingest(self, paths: Iterable[str | Path],
               on_reject: Callable[[RejectedDocument], None] | None = None, force: bool = False,
               overrides: dict[Path, dict] | None = None, seed: bool = False):  # type: ignore[no-untyped-def]
        """Take files and folders in. ``seed``: the library given at every start (``hub serve
        --seed``), which leaves out the files whose documents a person removed (``remove``);
        otherwise files ingested are taken in even so, and seeding takes them in again."""
        with self._write_lock:
            try:
                report = self._ingest(paths, on_reject, force, overrides,
                                      self.catalog.removed_files() if seed else frozenset())
            finally:
                self.flush()
            if not seed:
                self.catalog.forget_removed(str(Path(s).resolve()) for s in
                                            [*report.added, *report.updated, *(c for c, _ in report.duplicates)])
            if report.added or report.updated:
                # The new words are embedded here, once, and kept in the home: a server that did
                # not ingest only reads them back. A serving hub (a moderator approving a case
                # study) does it in the background instead: the approval need not wait for the
                # words of a new field to be embedded and compared (0.5 s for 200 words at
                # 100,000 passages, seconds for thousands).
                if self._serving:
                    self.lexicon.warm()
                    # and "did you mean" learns the new words before the next question asks, not
                    # during it: the word just ingested was "corrected" to a known neighbour
                    self.speller.start()
                else:
                    self.lexicon.refresh()
            return report

    @property
    def parser(self):  # type: ignore[no-untyped-def]
        """The parse worker (ingest/worker.py): one child process kept for the hub's lifetime,
        shared by ingest and by the checks made when a member uploads a file."""
        with self._lock:
            if self._parser is None:
                from ingest.worker import ParseWorker

                self._parser = ParseWorker.from_settings(self.settings)
            return self._parser

    @property
    def write_lock(self) -> threading.RLock:
        """Held while the stores change; moderation holds it across check-then-ingest."""
        return self._write_lock

    def _ingest(self, paths, on_reject, force, overrides, leave_out):  # type: ignore[no-untyped-def]
        with self._lock:
            self._check_model()
        from ingest import language
        from ingest.pipeline import Ingester
        from practices.profile import validate

        language.warm(self.settings.model_cache)  # from its unpacked copy: 0.3 s less than LZMA
        report = Ingester(self.settings, self.catalog, self.index, self.embedder,
                          validators={"practice": validate}, annotate=self.thesaurus.annotate,
                          cache=self.embedding_cache, parser=self.parser).ingest(paths, on_reject=on_reject, force=force,
                                                       overrides=overrides, leave_out=leave_out)
        # What this batch's files became, looked up once for the links and the practice check.
        brought = [d for source in [*report.added, *report.updated] for d in self.catalog.documents_by_source(source)]
        if brought or not self.catalog.practice_links():
            self.relink(changed={d.id for d in brought})
        if brought:
            self._check_ingested(report, brought)
        return report

    def _check_ingested(self, report, brought: list) -> None:  # type: ignore[no-untyped-def]
        """The practice check (practices/check.py) on the profiles this batch added or updated
        (``brought``), or whose cited documents it did: its lines become the report's warnings."""
        from practices.check import OLDER_FORMAT

        changed = {str(Path(d.extra.get("path", d.source)).resolve()) for d in brought}
        concerned = []
        for p in self.practices():
            profile = self.catalog.document(p.doc_id)
            path = Path(profile.extra.get("path", profile.source)).resolve() if profile else None
            if path is not None and (str(path) in changed
                                     or any(str((path.parent / s.file).resolve()) in changed for s in p.sources)):
                concerned.append(p.id)
        if not concerned:
            return
        for problem in self.check_practices(concerned, forums=False):
            # the profile's validation already said it is in the older format
            if problem.problem.startswith(OLDER_FORMAT) and any(
                    w.startswith(f"{problem.file}: ") and OLDER_FORMAT in w for w in report.warnings):
                continue
            report.warnings.append(str(problem))

    # --- community: accounts, moderated case studies, briefs -----------------------------------
    @property
    def community(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._community is None:
                from hub.community import CommunityDB

                self._community = CommunityDB(self.settings.community_path)
            return self._community

    @property
    def accounts(self):  # type: ignore[no-untyped-def]
        from hub.accounts import Accounts

        return Accounts(self.community, self.settings.login_attempts, self.settings.login_window)

    @property
    def moderation(self):  # type: ignore[no-untyped-def]
        """Built once: moderation and briefs hold no per-request state."""
        if self._moderation is None:
            from hub.moderation import Moderation

            self._moderation = Moderation(self.community, self)
        return self._moderation

    @property
    def briefs(self):  # type: ignore[no-untyped-def]
        if self._briefs is None:
            from hub.briefs import Briefs

            self._briefs = Briefs(self.community, self)
        return self._briefs

    def secret_key(self) -> bytes:
        """Signs cookies and CSRF tokens: HUB_SECRET_KEY, or a random key kept (0600) in the home."""
        if self.settings.secret_key:
            return self.settings.secret_key.encode()
        path = self.settings.secret_path
        with self._lock:
            if not path.exists():
                import os
                import secrets

                fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32))
            return path.read_text().strip().encode()

    # --- practices ---------------------------------------------------------------------------
    def relink(self, changed: set[str] | None = None) -> list:
        """Rebuild the links between practices and their evidence (see practices/linking.py).
        ``changed``: the documents an ingest added or updated; the others keep their automatic
        links (None: every document's are computed again)."""
        from practices.linking import relink

        return relink(self.catalog, self.index, changed)

    def practices(self) -> list:
        """Every practice profile, by name. Parsed again only when the catalog has changed: each
        advice and each search page asks (3.3 ms for the 30 bundled profiles)."""
        from practices.profile import PRACTICE_TYPE, practice_from_document

        mark = self.catalog.changes()
        if self._practices is None or self._practices[0] != mark:
            parsed = sorted((practice_from_document(d) for d in self.catalog.documents(PRACTICE_TYPE)),
                            key=lambda p: p.name.lower())
            self._practices = (mark, parsed)
        return list(self._practices[1])

    def practice(self, practice_id: str):  # type: ignore[no-untyped-def]
        for p in self.practices():
            if p.id == practice_id:
                return p
        raise NotFound(f"no practice with id {practice_id!r} (see `hub practices list`)")

    def check_practices(self, practice_ids=None, forums: bool = True) -> list:  # type: ignore[no-untyped-def]
        """``hub practices check``: the problems (practices/check.py ``Problem``) of the practice
        profiles (all, or those with these ids), of the library's summaries (when all are
        checked), then of the forum registry (unless ``forums`` is False)."""
        from practices.check import check_practices, cited_in
        from practices.forums import DEFAULT_PATH

        practices = self.practices()
        known = {p.id for p in practices}
        if practice_ids is not None:
            wanted = set(practice_ids)
            practices = [p for p in practices if p.id in wanted]
        profiles = self.catalog.documents_by_ids(p.doc_id for p in practices)
        practices.sort(key=lambda p: profiles[p.doc_id].source)
        registry = Path(self.settings.forums or DEFAULT_PATH)
        try:
            shown = str(registry.resolve().relative_to(Path.cwd()))
        except ValueError:
            shown = str(registry)
        return check_practices(practices, cited_in(self.catalog), self.forums if forums else [],
                               file_of=lambda p: profiles[p.doc_id].source, known_ids=known, forums_file=shown,
                               documents=self.catalog.documents() if practice_ids is None else ())

    @property
    def forums(self) -> list:
        if self._forums is None:
            from practices.forums import DEFAULT_PATH, load_forums

            path = self.settings.forums or DEFAULT_PATH
            self._forums = load_forums(path) if (self.settings.forums or path.exists()) else []
        return self._forums

    def recommend(self, question: str, limit: int = 5, context: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        """Ranked practices for an advisory question; see practices/recommender.py."""
        from practices.recommender import recommend

        searcher = self.index.searcher(self.embedder, lexicon=self.lexicon)
        return recommend(searcher, self.catalog, self.practices(), self.catalog.practice_links(), self.forums,
                         question, limit=limit, context=context, thesaurus=self.thesaurus)

    def remove(self, source: str) -> list[Document]:
        """Delete the documents ingested from ``source`` (path as given, resolved path, id, or a
        folder: every document from a file inside it). Their files stay out of later seeds of the
        library (``ingest(seed=True)``), until ingested again on purpose."""
        with self._write_lock:
            try:
                return self._remove(source)
            finally:
                self.flush()

    def flush(self) -> None:
        """Persist the indexes after a change, and build the engine's indexes (search/index.py)."""
        if self._index is not None:
            self._index.flush()

    def _remove(self, source: str) -> list[Document]:
        docs = self.catalog.documents_by_source(source)
        resolved = str(Path(source).expanduser().resolve())
        if not docs:
            docs = self.catalog.documents_by_source(resolved)
        if not docs and (doc := self.catalog.document(source)):
            docs = [doc]
        if not docs and Path(resolved).is_dir():
            docs = self.catalog.documents_under(resolved)
        if not docs:
            for path in (source, resolved):
                if self.catalog.copy_of(path) is not None:  # a copy: forget it, its document stays
                    self.catalog.remove_copies(path=path)
                    self.catalog.mark_removed([resolved])
                    return []
        if not docs:
            raise NotFound(f"{source}: not in the hub (see `hub documents` for what is)")
        from ingest.pipeline import original_path

        self.index.delete_documents([d.id for d in docs])
        # A person removed them: the library seeded at each start must not bring them back, nor
        # their copies (which would come back as documents of their own).
        self.catalog.mark_removed([str(d.extra.get("path", d.source)) for d in docs]
                                  + [c["path"] for d in docs for c in self.catalog.copies(d.id)])
        for doc in docs:
            original_path(self.settings, doc).unlink(missing_ok=True)
            self.catalog.delete_document(doc.id)
        if any(d.doc_type == "practice" for d in docs):
            self.relink()
        return docs

    # --- reading -----------------------------------------------------------------------------
    @property
    def embedding_cache(self):  # type: ignore[no-untyped-def]
        if self._cache is None:
            from search.cache import EmbeddingCache

            self._cache = EmbeddingCache(self.settings.embedding_cache_path)
        return self._cache

    @property
    def thesaurus(self):  # type: ignore[no-untyped-def]
        if self._thesaurus is None:
            from search.thesaurus import Thesaurus, configured_path

            path = configured_path(self.settings.thesaurus)
            self._thesaurus = Thesaurus.load(path, self.settings.model_cache) if path else Thesaurus([])
        return self._thesaurus

    @property
    def speller(self):  # type: ignore[no-untyped-def]
        if self._speller is None:
            from search.spelling import Speller

            self._speller = Speller(self.catalog)
        return self._speller

    @property
    def lexicon(self):  # type: ignore[no-untyped-def]
        """The library's words per language, for carrying a question's words across languages
        (search/lexicon.py); its vectors come from the model's multilingual encoder, if it has one."""
        if self._lexicon is None:
            from search.lexicon import Lexicon

            embedder = self.embedder()
            part = embedder.multilingual()
            embed = (lambda words: embedder.encoder(part).encode(words, batch_size=256)) if part else None
            self._lexicon = Lexicon(self.catalog, embed, self.settings.lexicon_path, model=part or "",
                                    max_words=self.settings.lexicon_words, threshold=self.settings.lexicon_threshold)
        return self._lexicon

    def migrate(self, dest: Any, shards: int = 1, replicas: int = 1, force: bool = False, batch: int = 512):  # type: ignore[no-untyped-def]
        """Copy this hub's passage index to ``dest`` (a Qdrant server, or an embedded shard: see
        search/migration.py ``destination``) and verify the copy."""
        report = self.index.copy_to(dest, self.catalog.counts()["passages"], shards=shards, replicas=replicas,
                                    force=force, batch=batch)
        from search.store import EdgeDriver

        if report.ok and isinstance(dest, EdgeDriver) and dest.path == self.settings.edge_path:
            # Back home: served by a server, the home kept no Whoosh (search/index.py), and an
            # embedded hub answers phrases and ``title:`` words from it.
            from hub.models import GROUP, passage_groups

            self.index.rewrite_words(passage_groups(self.catalog, self.catalog.documents(), GROUP))
        return report

    def search(self, query: str | SearchRequest, **options: Any) -> SearchResults:
        """Search the library: ``hub.search("éclairage public", limit=5, mode="dense")``, or a
        :class:`search.request.SearchRequest` as the web app and the CLI build it. See
        :class:`search.hybrid.SearchResults` for what comes back."""
        from practices.profile import PRACTICE_TYPE

        started = time.perf_counter()
        request = query if isinstance(query, SearchRequest) else SearchRequest(query, **options)
        # The practice profiles are shown beside the documents, not among them (search/hybrid.py).
        searcher = self.index.searcher(self.embedder, thesaurus=self.thesaurus, speller=self.speller,
                                       lexicon=self.lexicon, apart=PRACTICE_TYPE)
        results = searcher.search(request)
        if request.practices and PRACTICE_TYPE not in results.filters.get("doc_type", []):
            results.practices = self.fitting_practices(request.query, request.practices, results.language)
            # The time a page shows is the wait for all it shows, the practices beside included.
            results.took_ms = (time.perf_counter() - started) * 1000
        return results

    def fitting_practices(self, question: str, limit: int = 3, language: str | None = None) -> list[dict[str, Any]]:
        """The practices whose profiles best fit a question, as shown beside a search's documents
        (practices/recommender.py ``fitting``): id, names, rating and relevance of each, named in
        the question's ``language`` (found from the question when not given)."""
        from practices.recommender import fitting
        from search.hybrid import query_language
        from search.query import parse_query

        language = language or query_language(parse_query(question).text, self.catalog)
        searcher = self.index.searcher(self.embedder, lexicon=self.lexicon)
        return [{**p.headline_json(language), "relevance": round(relevance, 6)}
                for p, relevance in fitting(searcher, self.catalog, self.practices(), question, limit,
                                            thesaurus=self.thesaurus, language=language)]

    def document(self, doc_id: str) -> Document:
        doc = self.catalog.document(doc_id, with_chunks=True)
        if doc is None:
            raise NotFound(f"no document with id {doc_id!r}")
        return doc

    def documents(self) -> list[Document]:
        return self.catalog.documents()

    def original(self, doc: Document) -> Path:
        from ingest.pipeline import original_path

        path = original_path(self.settings, doc)
        if not path.exists():
            raise NotFound(f"the original file of {doc.id} is missing from {self.settings.originals_path}")
        return path

    # --- consistency ---------------------------------------------------------------------------
    def check(self) -> CheckReport:
        """Compare the stores passage by passage, naming the documents of any difference."""
        from hub.consistency import check

        return check(self)

    def restore(self) -> CheckReport:
        """After ``hub import``: the embedded passage index rebuilt from the catalog and the
        embedding cache, and Whoosh as the catalog says (an export of a home served by a server
        has none, or one it no longer kept up to date). A server keeps its own index: checked."""
        if self.settings.qdrant_url:
            return self.check()
        self.upgrade()
        return self.repair().after

    def repair(self) -> RepairReport:
        """Remove passages the catalog does not know from the indexes and re-index catalogued
        documents they lack (hub/consistency.py)."""
        from hub.consistency import repair

        return repair(self)

    def health(self) -> dict[str, Any]:
        """Counts per store: a mismatch means an interrupted write (`hub check` says which)."""
        counts = self.catalog.counts()
        stores: dict[str, Any] = {"catalog": counts["passages"], **self.index.counts()}
        indexes = [stores[name] for name in ("qdrant", "whoosh") if name in stores]
        ok = all(isinstance(count, int) for count in indexes)
        consistent = ok and all(count == counts["passages"] for count in indexes)
        return {"ok": ok, "consistent": consistent, "documents": counts["documents"],
                "passages": counts["passages"], "stores": stores, "model": self.catalog.meta("model") or self.settings.model,
                "qdrant": self.settings.qdrant_url or "embedded", "last_ingest": self.catalog.last_run()}
