"""The semantic index: passage vectors in Qdrant.

Embedded mode (``QdrantClient(path=...)``) by default; ``HUB_QDRANT_URL`` points the same code
at a Qdrant server. Point ids are UUIDs derived from passage ids, so writing a passage twice
overwrites instead of duplicating.
"""

from __future__ import annotations

import uuid
import warnings
from typing import Iterable, Sequence

import numpy as np

from hub.errors import StoreUnavailable
from hub.settings import Settings

_NAMESPACE = uuid.UUID("6f1c1f43-3d0e-4e55-9d3c-2b8f0c7d9a10")


def point_id(chunk_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, chunk_id))


class SemanticIndex:
    def __init__(self, settings: Settings) -> None:
        from qdrant_client import QdrantClient

        self.collection = settings.collection
        self.dim: int | None = None
        self.embedded = not settings.qdrant_url
        try:
            if settings.qdrant_url:
                self.client = QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key, timeout=30)
            else:
                settings.qdrant_path.mkdir(parents=True, exist_ok=True)
                self.client = QdrantClient(path=str(settings.qdrant_path))
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise StoreUnavailable(
                    f"the Qdrant store in {settings.qdrant_path} is in use by another hub process "
                    "(stop `hub serve` first, or set HUB_QDRANT_URL to use a Qdrant server)"
                ) from None
            raise
        try:
            if self.client.collection_exists(self.collection):
                info = self.client.get_collection(self.collection)
                self.dim = int(info.config.params.vectors.size)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - network errors from a server
            raise StoreUnavailable(f"cannot reach Qdrant at {settings.qdrant_url}: {exc}") from None

    def ensure_collection(self, dim: int) -> None:
        """Create the collection on first write; refuse vectors of another model's size."""
        from qdrant_client import models

        if self.dim is not None:
            if self.dim != dim:
                raise StoreUnavailable(
                    f"the Qdrant collection {self.collection!r} holds {self.dim}-dimensional vectors but "
                    f"the model makes {dim}; use a new home (or collection) after changing models"
                )
            return
        self.client.create_collection(
            self.collection,
            vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
        )
        self.dim = dim
        if not self.embedded:
            for name in ("doc_id", "doc_type", "language", "tags"):
                self.client.create_payload_index(self.collection, name, models.PayloadSchemaType.KEYWORD)
            self.client.create_payload_index(self.collection, "year", models.PayloadSchemaType.INTEGER)

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001
            pass

    def upsert(self, chunk_ids: Sequence[str], vectors: np.ndarray, payloads: Sequence[dict]) -> None:
        from qdrant_client import models

        self.ensure_collection(int(vectors.shape[1]))
        for start in range(0, len(chunk_ids), 256):
            points = [
                models.PointStruct(id=point_id(cid), vector=vectors[i].tolist(),
                                   payload={"chunk_id": cid, **payloads[i]})
                for i, cid in enumerate(chunk_ids[start:start + 256], start=start)
            ]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.client.upsert(self.collection, points=points, wait=True)

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        from qdrant_client import models

        ids = list(doc_ids)
        if not ids or self.dim is None:
            return
        self.client.delete(
            self.collection,
            points_selector=models.FilterSelector(filter=models.Filter(
                must=[models.FieldCondition(key="doc_id", match=models.MatchAny(any=ids))])),
            wait=True,
        )

    def delete_chunks(self, chunk_ids: Iterable[str]) -> None:
        from qdrant_client import models

        ids = [point_id(c) for c in chunk_ids]
        if ids and self.dim is not None:
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=ids), wait=True)

    def search(self, vector: np.ndarray, limit: int, filters: dict | None = None) -> list[tuple[str, float]]:
        """Best passages for a query vector, as (chunk_id, cosine) pairs."""
        if self.dim is None:
            return []
        response = self.client.query_points(
            self.collection, query=vector.tolist(), limit=limit,
            query_filter=_filter(filters), with_payload=["chunk_id"],
        )
        return [(p.payload["chunk_id"], float(p.score)) for p in response.points if p.payload]

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Stored vectors of these passages, in order (missing ones are skipped)."""
        if not chunk_ids or self.dim is None:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        points = self.client.retrieve(self.collection, ids=[point_id(c) for c in chunk_ids],
                                      with_vectors=True, with_payload=["chunk_id"])
        found = {p.payload["chunk_id"]: p.vector for p in points if p.payload}
        rows = [found[c] for c in chunk_ids if c in found]
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), self.dim)

    def chunk_ids(self) -> set[str]:
        ids: set[str] = set()
        if self.dim is None:
            return ids
        offset = None
        while True:
            points, offset = self.client.scroll(self.collection, limit=2048, offset=offset,
                                                with_payload=["chunk_id"], with_vectors=False)
            ids.update(p.payload["chunk_id"] for p in points if p.payload)
            if offset is None:
                return ids

    def count(self) -> int:
        if self.dim is None:
            return 0
        return int(self.client.count(self.collection, exact=True).count)


def _filter(filters: dict | None):  # type: ignore[no-untyped-def]
    from qdrant_client import models

    if not filters:
        return None
    must = []
    for key, value in filters.items():
        if value in (None, "", []):
            continue
        if key == "year":
            start, end = value
            must.append(models.FieldCondition(key="year", range=models.Range(gte=start, lte=end)))
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        must.append(models.FieldCondition(key=key, match=models.MatchAny(any=list(values))))
    return models.Filter(must=must) if must else None
