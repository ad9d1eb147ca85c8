"""Move a hub's passage index between engines, then check the copy (``hub migrate``).

``hub migrate --to http://qdrant:6333 [--shards 6 --replicas 2]`` copies an embedded home's Qdrant
Edge shard into a collection of a Qdrant server or cluster; ``hub migrate --to home``, run with
``HUB_QDRANT_URL`` set, brings a server's collection back into the home's shard. Both sides have
the layout of search/store.py (named dense vectors, the ``keyword`` sparse vector with IDF,
payload indexes); points are copied in batches with their ids, vectors and payloads unchanged,
then verified: the same count as the source and the catalog, and identical vectors on a sample.
Catalog and originals stay in the home; the hub switches over when HUB_QDRANT_URL is set (or
unset). A home served by a server keeps no Whoosh (search/index.py), so coming back writes it anew
from the catalog (``Hub.migrate``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hub.errors import HubError
from hub.settings import Settings


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


def destination(target: str, settings: Settings) -> Any:
    """The engine to copy into: a server's URL, ``home`` (this home's embedded shard), or a
    folder (qdrant-client's local mode, the server API's emulation)."""
    from search.store import EdgeDriver, ServerDriver

    if target == "home":
        if not settings.qdrant_url:
            raise HubError("this hub already uses its embedded index; `--to home` brings a server's index back")
        return EdgeDriver(settings.edge_path)
    if settings.qdrant_url and target.rstrip("/") == settings.qdrant_url.rstrip("/"):
        raise HubError(f"the hub already uses {target}")
    return ServerDriver(target, settings.qdrant_api_key, settings.collection)


def copy_points(source: Any, dest: Any, catalog_passages: int, shards: int = 1, replicas: int = 1,
                force: bool = False, batch: int = 512) -> MigrationReport:
    """Copy every point of ``source`` (a PassageStore) into ``dest`` (a driver of search/store.py),
    then verify the copy against the source and the catalog's passage count."""
    dims = source.dims
    if not dims:
        raise HubError("the hub holds no passages yet: ingest first, or point HUB_QDRANT_URL at the server now")
    if dest.dims():
        if not force:
            raise HubError("the destination already holds a passage index; use --force to replace it")
        dest.drop()
    dest.create(dims, shards=shards, replicas=replicas)
    copied, sample = 0, []
    rng = random.Random(0)
    for points in source.points(batch):
        dest.upsert(points)
        copied += len(points)
        sample += [p for p in points if rng.random() < 0.01][:5]
    dest.flush()
    report = MigrationReport(source=source.count(), copied=copied, destination=dest.count(),
                             catalog=catalog_passages)
    if not report.source == report.copied == report.destination:
        report.problems.append(f"counts differ: source {report.source}, copied {report.copied}, "
                               f"destination {report.destination}")
    if report.destination != report.catalog:
        report.problems.append(f"the destination holds {report.destination} passages, the catalog {report.catalog} "
                               "(run `hub check` on the source)")
    if sample:
        got = {p["chunk_id"]: v for p, v in dest.retrieve([pid for pid, _, _ in sample])}
        for pid, vectors, payload in sample:
            theirs = got.get(payload["chunk_id"])
            if theirs is None or any(not np.allclose(np.asarray(theirs[n]), np.asarray(vectors[n]), atol=1e-3)
                                     for n in dims):
                report.problems.append(f"point {pid} differs in the destination")
    return report
