"""Which model a home's vectors come from, and re-embedding a home with another (``hub reindex``).

Vectors of two models do not mix: a question embedded by one model finds nothing meaningful
among another's passages. So the catalog records the model (its canonical name, and each
encoder's package version) at the first ingest, and a hub opened with another ``HUB_MODEL``
refuses to search or ingest until ``hub reindex`` has re-embedded every stored passage.

Re-indexing reads the passages from the catalog (no original file is parsed again), embeds them
in groups into the embedding cache, then swaps the vectors in one pass. A crash (or Ctrl-C)
loses nothing: the cache keeps every group already embedded, so running it again picks up where
it stopped, and the home keeps saying which model it needs until the swap has finished.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from hub.errors import HubError
from search.embedder import model_name

#: Homes from before the record existed were embedded with the then default, MiniLM.
LEGACY_MODEL = "minilm"
GROUP = 512


class ModelMismatch(HubError):
    """The home's vectors come from another model than the one configured."""


def recorded_model(catalog) -> str | None:  # type: ignore[no-untyped-def]
    model = catalog.meta("model")
    if model is None and catalog.counts()["passages"]:
        return LEGACY_MODEL
    return model


def check_model(catalog, configured: str) -> None:  # type: ignore[no-untyped-def]
    """Record the model in a new home; refuse another one in a home that has vectors."""
    wanted = model_name(configured)
    recorded = recorded_model(catalog)
    pending = catalog.meta("reindex_to")
    if recorded is None:
        from search.analysis import VERSION
        from search.encoders import version

        catalog.set_meta("analysis", str(VERSION))
        catalog.set_meta("model", wanted)
        catalog.set_meta("model_versions", json.dumps({p: version(p) for p in wanted.split("+")}, sort_keys=True))
        return
    if pending is not None:  # the old vectors may be gone already: neither model can search
        raise ModelMismatch(f"re-embedding this home with {pending!r} did not finish: run `hub reindex` again "
                            f"with HUB_MODEL={pending} to complete it")
    if recorded != wanted:
        raise ModelMismatch(
            f"this home's passages were embedded with the model {recorded!r}, but HUB_MODEL is {wanted!r}: "
            f"run `hub reindex` to re-embed them with {wanted!r}, or set HUB_MODEL={recorded} to use them as they are")
    if catalog.meta("model") is None:
        catalog.set_meta("model", recorded)


@dataclass
class ReindexReport:
    model: str
    previous: str | None
    passages: int
    embedded: int
    seconds: float


def reindex(hub, progress: bool = True, on_group: Callable[[int], Any] | None = None,  # type: ignore[no-untyped-def]
            group_passages: int = GROUP) -> ReindexReport:
    """Re-embed every passage of ``hub``'s catalog with its configured model. ``on_group`` is
    called after each group is in the cache, with the count embedded so far."""
    import time

    from ingest.pipeline import passage_texts
    from search.embedder import Embedder

    started = time.perf_counter()
    settings, catalog = hub.settings, hub.catalog
    target = model_name(settings.model)
    previous = recorded_model(catalog)
    with hub.write_lock:
        catalog.set_meta("reindex_to", target)
        embedder = Embedder(settings.model, settings.model_share, settings.model_cache)
        docs = catalog.documents()
        total = sum(catalog.passage_counts().values()) if docs else 0
        annotate = hub.thesaurus.annotate
        bar = _bar(total, progress)
        embedded = 0
        try:
            # Pass 1: every passage's vector into the cache, a group at a time (resumable).
            for group in passage_groups(catalog, docs, group_passages):
                _, computed = embedder.embed_cached(passage_texts(group, annotate), hub.embedding_cache,
                                                    settings.embed_batch_size)
                embedded += computed
                bar.update(sum(len(d.chunks) for d in group))
                if on_group is not None:
                    on_group(embedded)
        finally:
            bar.close()
        # Pass 2: swap. Every vector now comes from the cache.
        hub.reset_embedder(embedder)  # it names the new dense vectors; `reindex_to` guards a crash
        rebuild_index(hub, embedder, docs, group_passages)
        # The index was written with today's keyword terms: Whoosh is made with them too, where an
        # earlier analysis made it, and the catalog says so (else `hub check` still asked for
        # `hub upgrade`, which would have written them all a second time).
        current_words(hub, docs, group_passages)
        catalog.set_meta("model", target)
        catalog.set_meta("model_versions", json.dumps(embedder.versions, sort_keys=True))
        catalog.set_meta("reindex_to", None)
    return ReindexReport(target, previous, total, embedded, time.perf_counter() - started)


def rebuild_index(hub, embedder, docs, group_passages: int = GROUP) -> int:  # type: ignore[no-untyped-def]
    """Write every catalogued passage into an empty passage index again (Whoosh stays): vectors
    from the embedding cache, keyword vectors from the catalog's text. Returns how many passages
    an encoder had to read (0 when the cache holds them all)."""
    from ingest.pipeline import passage_texts

    hub.index.reset()
    computed = 0
    for group in passage_groups(hub.catalog, docs, group_passages):
        vectors, n = embedder.embed_cached(passage_texts(group, hub.thesaurus.annotate), hub.embedding_cache,
                                           hub.settings.embed_batch_size)
        hub.index.put(group, vectors, words=False)
        computed += n
    hub.flush()
    return computed


@dataclass
class UpgradeReport:
    documents: int
    passages: int
    embedded: int
    removed: list[str]
    seconds: float
    #: Only the keyword terms were written again: every passage kept the vectors it had.
    terms_only: bool = False
    #: Only the payload indexes were rebuilt, as mapped ones: no passage was written again.
    indexes_only: bool = False


def outdated_words(catalog) -> bool:  # type: ignore[no-untyped-def]
    """True when the home's keyword terms were made by an earlier text analysis
    (search/analysis.py ``VERSION``; a home from before the record used the first)."""
    from search.analysis import VERSION

    recorded = catalog.meta("analysis")
    if recorded is None:
        return bool(catalog.counts()["passages"])
    return recorded != str(VERSION)


def upgrade(hub) -> UpgradeReport:  # type: ignore[no-untyped-def]
    """``hub upgrade``: a home made before the Qdrant Edge shard, or whose shard has an earlier
    layout, gets its passage index rebuilt from the catalog and the embedding cache
    (search/upgrade.py says what it removes), and its keyword terms (Whoosh's too) made again
    by today's text analysis."""
    import shutil
    import time

    from search.upgrade import old_layout, outdated_shard, payload_indexes_in_heap

    started = time.perf_counter()
    with hub.write_lock:
        old = old_layout(hub.settings)
        for path in old:  # first: a crash half-way leaves a home that `hub upgrade` finishes
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
        docs = hub.catalog.documents()
        words = outdated_words(hub.catalog)
        rebuild = bool(old) or outdated_shard(hub.settings)
        # Payload indexes of an earlier layout, in a shard that is kept: mapped in place, no point
        # written again (a rebuilt shard is created with them mapped).
        remap = payload_indexes_in_heap(hub.settings) and not rebuild
        indexes_only = remap and not words
        # Only the terms of an earlier analysis: the vectors stay, nothing is embedded.
        terms_only = words and not rebuild
        embedded = 0
        if terms_only:
            for group in passage_groups(hub.catalog, docs, GROUP):
                hub.index.rewrite_terms(group)
            hub.flush()
        elif not indexes_only:
            embedded = rebuild_index(hub, hub.embedder(), docs)
        if remap:
            hub.index.map_payload_indexes()
        current_words(hub, docs)
    return UpgradeReport(len(docs), hub.catalog.counts()["passages"], embedded, [p.name for p in old],
                         time.perf_counter() - started, terms_only, indexes_only)


def current_words(hub, docs, group_passages: int = GROUP) -> None:  # type: ignore[no-untyped-def]
    """After the passage index was written with today's keyword terms: Whoosh made with them
    too when an earlier analysis made it, then the catalog's record of the analysis set (last: a
    crash before it leaves the note, and `hub upgrade` finishes)."""
    from search.analysis import VERSION

    if outdated_words(hub.catalog) and hub.index.keeps_words:
        hub.index.rewrite_words(passage_groups(hub.catalog, docs, group_passages))
    hub.catalog.set_meta("analysis", str(VERSION))


def passage_groups(catalog, docs, limit: int):  # type: ignore[no-untyped-def]
    """``docs`` with their catalogued passages, in groups of about ``limit`` passages: what is
    rewritten from the catalog is read a group at a time, not all at once."""
    group, size = [], 0
    for doc in docs:
        doc.chunks = catalog.chunks_of(doc.id)
        group.append(doc)
        size += len(doc.chunks)
        if size >= limit:
            yield group
            group, size = [], 0
    if group:
        yield group


def _bar(total: int, enabled: bool):  # type: ignore[no-untyped-def]
    from ingest.pipeline import progress_bar

    bar = progress_bar(total, enabled)
    if hasattr(bar, "set_description"):
        bar.set_description("re-embedding")
        bar.unit = "passage"
    return bar
