"""Move an embedded hub's vectors onto a Qdrant server (or cluster), then check the copy
(``PassageIndex.copy_to``; ``hub migrate --to http://qdrant:6333 [--shards 6 --replicas 2]``).

The destination collection is created with the hub's vector size and cosine distance, the shard
and replication settings asked for, and the payload indexes the hub filters on; then every point
is copied in batches (ids, vectors and payloads unchanged) and the copy is verified: same count
as the source and the catalog, and identical vectors on a sample. The hub switches over when
HUB_QDRANT_URL is set; nothing else changes (catalog, Whoosh and originals stay in the home).
"""

from __future__ import annotations

import random
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hub.errors import HubError


@dataclass
class MigrationReport:
    source: int
    copied: int
    destination: int
    catalog: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def destination_client(target: str, api_key: str | None = None) -> Any:
    from qdrant_client import QdrantClient

    if target.startswith(("http://", "https://")):
        return QdrantClient(url=target, api_key=api_key, timeout=60)
    return QdrantClient(path=target)  # another embedded store: moving a hub between disks


def copy_points(semantic: Any, dest: Any, catalog_passages: int, shards: int = 1, replicas: int = 1,
                force: bool = False, batch: int = 512) -> MigrationReport:
    """Copy the embedded semantic index's points to ``dest`` (a qdrant-client), then verify the
    copy against the source and the catalog's passage count."""
    from qdrant_client import models

    if not semantic.embedded:
        raise HubError("this hub already uses a Qdrant server (HUB_QDRANT_URL); migrate from an embedded hub")
    source = semantic.client
    name = semantic.collection
    if semantic.dim is None:
        raise HubError("the hub holds no vectors yet: ingest first, or point HUB_QDRANT_URL at the server now")
    if dest.collection_exists(name):
        if not force:
            raise HubError(f"the destination already has a collection {name!r}; use --force to replace it")
        dest.delete_collection(name)
    dest.create_collection(name, vectors_config=models.VectorParams(size=semantic.dim, distance=models.Distance.COSINE),
                           shard_number=shards, replication_factor=replicas)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a local destination has no payload indexes, and says so
        for key in ("doc_id", "doc_type", "language", "tags"):
            dest.create_payload_index(name, key, models.PayloadSchemaType.KEYWORD)
        dest.create_payload_index(name, "year", models.PayloadSchemaType.INTEGER)

    copied, offset, sample = 0, None, []
    rng = random.Random(0)
    while True:
        points, offset = source.scroll(name, limit=batch, offset=offset, with_payload=True, with_vectors=True)
        if points:
            dest.upsert(name, points=[models.PointStruct(id=p.id, vector=p.vector, payload=p.payload) for p in points],
                        wait=True)
            copied += len(points)
            sample += [p for p in points if rng.random() < 0.01][:5]
        if offset is None:
            break
    report = MigrationReport(source=int(source.count(name, exact=True).count), copied=copied,
                             destination=int(dest.count(name, exact=True).count),
                             catalog=catalog_passages)
    if not report.source == report.copied == report.destination:
        report.problems.append(f"counts differ: source {report.source}, copied {report.copied}, "
                               f"destination {report.destination}")
    if report.destination != report.catalog:
        report.problems.append(f"the destination holds {report.destination} passages, the catalog {report.catalog} "
                               "(run `hub check` on the source)")
    if sample:
        got = {p.id: p.vector for p in dest.retrieve(name, ids=[p.id for p in sample], with_vectors=True)}
        for p in sample:
            if p.id not in got or not np.allclose(np.asarray(got[p.id]), np.asarray(p.vector), atol=1e-6):
                report.problems.append(f"point {p.id} differs in the destination")
    return report
