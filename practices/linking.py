"""Links between practices and the evidence documents that speak about them.

Three kinds, strongest first: ``source`` (the profile cites the document), ``declared`` (the
document's front matter says ``practices: [id]``) and ``auto`` (no declaration, but a passage
of the document is close to the profile's summary). Automatic links are marked as such and
listed for curators (``hub practices links``), who can confirm them by declaring them.
"""

from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np

from practices.profile import Practice, document_path, practice_from_document, source_path

#: Cosine between a passage and a profile summary above which a link is made automatically.
AUTO_THRESHOLD = 0.6
#: At most this many automatic links per document: a review of "what works" is not about everything.
AUTO_PER_DOCUMENT = 2
#: Catalog meta key: what the automatic links were last computed against (``_fingerprint``).
AUTO_AGAINST = "auto_links_against"


def relink(catalog, index, changed: Iterable[str] | None = None  # type: ignore[no-untyped-def]
           ) -> list[tuple[str, str, str, float | None]]:
    """Rebuild the links. ``changed``: the documents an ingest added or updated (None: all).
    The automatic links of the others are kept while the profiles' summaries, the model and
    the thresholds are those they were computed against: computing them reads every passage's
    vectors (14 to 16 s at 100,000 passages, bench/RESULTS.md, "Ingest into a large library"), which an
    ingest of one file, or a moderator approving a case study, need not wait for."""
    practices = [practice_from_document(d) for d in catalog.documents("practice")]
    by_id = {p.id: p for p in practices}
    docs = [d for d in catalog.documents() if d.doc_type != "practice"]
    by_path = {document_path(d): d for d in docs}
    links: dict[tuple[str, str], tuple[str, float | None]] = {}

    for p in practices:
        for src in p.sources:
            doc = by_path.get(source_path(p, src))
            if doc is not None:
                links[(p.id, doc.id)] = ("source", None)
    declared_docs = set()
    for doc in docs:
        for pid in _ids(doc.extra.get("practices")):
            if pid in by_id:
                declared_docs.add(doc.id)
                links.setdefault((pid, doc.id), ("declared", None))

    undeclared = [d for d in docs if d.id not in declared_docs]
    fingerprint = None
    if practices and undeclared:
        summaries = _summary_vectors(catalog, index, practices)
        if summaries is not None:
            fingerprint = _fingerprint(practices, summaries)
            todo = undeclared
            if changed is not None and catalog.meta(AUTO_AGAINST) == fingerprint:
                fresh = set(changed)
                todo = [d for d in undeclared if d.id in fresh]
                kept = {d.id for d in undeclared} - fresh
                for link in catalog.practice_links():
                    if link["kind"] == "auto" and link["doc_id"] in kept:
                        links.setdefault((link["practice_id"], link["doc_id"]), ("auto", link["score"]))
            for doc in todo:
                chunk_ids = [c.id for c in catalog.chunks_of(doc.id)]
                vectors = index.vectors(chunk_ids)
                if not len(vectors):
                    continue
                best = (vectors @ summaries.T).max(axis=0)
                order = np.argsort(-best)[:AUTO_PER_DOCUMENT]
                for i in order:
                    if best[i] >= AUTO_THRESHOLD:
                        links.setdefault((practices[i].id, doc.id), ("auto", round(float(best[i]), 4)))
    rows = [(pid, did, kind, score) for (pid, did), (kind, score) in links.items()]
    catalog.replace_practice_links(rows)
    catalog.set_meta(AUTO_AGAINST, fingerprint)
    return rows


def _fingerprint(practices: list[Practice], summaries: np.ndarray) -> str:
    """The practices, their summaries' vectors (which change with the summary and the model)
    and the thresholds: automatic links computed against the same fingerprint are the same."""
    digest = hashlib.sha256(f"{AUTO_THRESHOLD} {AUTO_PER_DOCUMENT} {[p.id for p in practices]}".encode())
    digest.update(np.ascontiguousarray(summaries, dtype=np.float32).tobytes())
    return digest.hexdigest()


def _summary_vectors(catalog, index, practices: list[Practice]):  # type: ignore[no-untyped-def]
    """The vector of each profile's summary passage (the first passage of a profile)."""
    ids = []
    for p in practices:
        chunks = catalog.chunks_of(p.doc_id)
        if not chunks:
            return None
        ids.append(chunks[0].id)
    vectors = index.vectors(ids)
    return vectors if len(vectors) == len(ids) else None


def _ids(value) -> list[str]:  # type: ignore[no-untyped-def]
    if not value:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value]
