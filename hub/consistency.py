"""Do the catalog and the indexes hold the same passages? ``hub check`` and ``hub check --repair``.

The catalog is the record; the indexes (Qdrant, and Whoosh in embedded mode: search/index.py)
are derived from it. A passage an index holds that the catalog does not is an orphan, left by an
interrupted or refused write: repair removes it. A catalogued document some of whose passages an
index lacks is indexed again from the catalog's stored passages (vectors from the embedding
cache, or the model). A missing original file cannot be rebuilt: the document is named, to be
ingested again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol


class Home(Protocol):
    """What checking and repairing need of a hub: its stores and settings. A protocol rather
    than ``hub.core.Hub``, so that this module sits below the facade that calls it."""

    catalog: Any
    index: Any
    settings: Any
    thesaurus: Any
    embedding_cache: Any
    write_lock: Any

    def embedder(self) -> Any: ...  # noqa: E704

    def flush(self) -> None: ...  # noqa: E704

#: Documents named per problem line at most.
_NAMED = 10
#: Documents re-indexed together by a repair.
_GROUP = 64


@dataclass
class CheckReport:
    """How the stores compare; ``ok`` only when all hold the same passages and every original
    file is there."""

    documents: int
    passages: int
    semantic: int
    #: Passages in Whoosh; None with a Qdrant server, where the home keeps no Whoosh.
    keyword: int | None
    problems: list[str] = field(default_factory=list)
    #: Per index: the passages it holds that the catalog does not (passage id -> document id).
    orphans: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Per index: catalogued documents with passages it lacks.
    incomplete: dict[str, set[str]] = field(default_factory=dict)
    #: Catalogued documents whose original file is missing.
    no_original: list[str] = field(default_factory=list)
    #: What is not wrong but could be better (an index in an earlier layout).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class RepairReport:
    """What ``repair`` did, and the check made after it."""

    removed: int
    reindexed: list[str]
    reingest: list[str]
    after: CheckReport


def check(hub: Home) -> CheckReport:
    catalog = hub.catalog.passages()
    held = {name: get() for name, get in hub.index.held()}
    counts = hub.catalog.counts()
    report = CheckReport(counts["documents"], counts["passages"], len(held["Qdrant"]),
                         len(held["Whoosh"]) if "Whoosh" in held else None)
    from search.upgrade import outdated_shard, payload_indexes_in_heap

    if outdated_shard(hub.settings):
        report.notes.append("the passage index has an earlier layout (float32 vectors): `hub upgrade` rewrites "
                            "it at half the size, without re-embedding")
    elif payload_indexes_in_heap(hub.settings):
        report.notes.append("the passage index loads its payload indexes into memory at each opening (an "
                            "earlier layout): `hub upgrade` maps them from their files, in seconds, which "
                            "shortens start-up")
    from hub.models import outdated_words

    if outdated_words(hub.catalog):
        report.notes.append("the keyword terms were made by an earlier text analysis, and some words of today's "
                            "questions miss them (Spanish plurals, French small words): `hub upgrade` makes them "
                            "again from the catalog, without re-embedding")
    sources = {d.id: d.source for d in hub.catalog.documents()}

    def named(doc_ids: set[str]) -> str:
        names = [f"{d} ({sources[d]})" if d in sources else f"{d} (not in the catalog)"
                 for d in sorted(doc_ids)[:_NAMED]]
        more = f", and {len(doc_ids) - _NAMED} more" if len(doc_ids) > _NAMED else ""
        return ", ".join(names) + more

    for name, passages in held.items():
        missing = {c: d for c, d in catalog.items() if c not in passages}
        extra = {c: d for c, d in passages.items() if c not in catalog}
        if missing:
            docs = set(missing.values())
            report.incomplete[name] = docs
            report.problems.append(f"{name} lacks {len(missing)} passage(s) the catalog holds, of "
                                   f"{len(docs)} document(s): {named(docs)}")
        if extra:
            docs = set(extra.values())
            report.orphans[name] = extra
            report.problems.append(f"{name} holds {len(extra)} passage(s) the catalog does not know, of "
                                   f"{len(docs)} document(s): {named(docs)}")
    from ingest.pipeline import original_path

    for doc in hub.catalog.documents():
        if not original_path(hub.settings, doc).exists():
            report.no_original.append(doc.id)
            report.problems.append(f"original file of {doc.id} ({doc.source}) is missing: ingest it again")
    return report


def repair(hub: Home) -> RepairReport:
    """Make the indexes agree with the catalog (see the module's docstring)."""
    from ingest import stores

    with hub.write_lock:
        before = check(hub)
        vectors_by, words_by = hub.index.VECTOR_INDEXES, hub.index.WORD_INDEXES
        vector_orphans = set().union(*(before.orphans.get(n, {}) for n in vectors_by))
        word_orphans = set().union(*(before.orphans.get(n, {}) for n in words_by))
        hub.index.delete_chunks(sorted(vector_orphans), sorted(word_orphans))
        need_vectors = set().union(*(before.incomplete.get(n, set()) for n in vectors_by))
        need_words = set().union(*(before.incomplete.get(n, set()) for n in words_by))
        todo = sorted(need_vectors | need_words)
        for start in range(0, len(todo), _GROUP):
            docs = [d for i in todo[start:start + _GROUP] if (d := hub.catalog.document(i, with_chunks=True))]
            vector_docs = [d for d in docs if d.id in need_vectors]
            if vector_docs:
                vectors, _ = stores.embed(vector_docs, hub.embedder(), hub.embedding_cache,
                                          hub.settings.embed_batch_size, hub.thesaurus.annotate)
                hub.index.put(vector_docs, vectors, words=False)
            word_docs = [d for d in docs if d.id in need_words]
            if word_docs:
                hub.index.put(word_docs)
        hub.flush()
        after = check(hub)
    sources = {d.id: d.source for d in hub.catalog.documents()}
    reingest = [f"{d} ({sources.get(d, '?')})" for d in after.no_original]
    return RepairReport(len(vector_orphans | word_orphans), todo, reingest, after)
