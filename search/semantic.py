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
    """Qdrant, plus (embedded mode) the in-memory copy of search/vectors.py that answers reads.

    In embedded mode the local Qdrant store opens only when something is written or checked,
    since opening it reads every point (seconds at 50,000 passages)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.collection = settings.collection
        self.embedded = not settings.qdrant_url
        self._client = None
        self._dim: int | None = None
        self.mirror = None
        if self.embedded and settings.vector_copy:
            from search.vectors import VectorStore

            self.mirror = VectorStore(settings.vectors_path)
            if not self.mirror.existed and (settings.qdrant_path / "collection").exists():
                self._rebuild_mirror()
        else:
            self._open()

    @property
    def client(self):  # type: ignore[no-untyped-def]
        if self._client is None:
            self._open()
        return self._client

    @property
    def dim(self) -> int | None:
        if self.mirror is not None and self._client is None:
            return self.mirror.dim
        return self._dim

    def _open(self) -> None:
        from qdrant_client import QdrantClient

        settings = self.settings
        try:
            if settings.qdrant_url:
                client = QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key, timeout=30)
            else:
                settings.qdrant_path.mkdir(parents=True, exist_ok=True)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the >20,000 points advice: reads use the copy
                    client = QdrantClient(path=str(settings.qdrant_path))
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise StoreUnavailable(
                    f"the Qdrant store in {settings.qdrant_path} is in use by another hub process "
                    "(stop `hub serve` first, or set HUB_QDRANT_URL to use a Qdrant server)"
                ) from None
            raise
        try:
            if client.collection_exists(self.collection):
                info = client.get_collection(self.collection)
                self._dim = int(info.config.params.vectors.size)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 - network errors from a server
            raise StoreUnavailable(f"cannot reach Qdrant at {settings.qdrant_url}: {exc}") from None
        self._client = client
        if not settings.qdrant_url:
            self._tune_local_store()

    def _tune_local_store(self) -> None:
        """Embedded mode: qdrant-client commits every point in its own SQLite transaction, each
        synced to disk (1.3 ms a passage, as much as BM25 and Whoosh together). In WAL mode with
        normal sync a commit survives the process being killed, which is what ingestion has to
        survive (the catalog, written last, is the record, and `hub check` compares)."""
        collection = getattr(getattr(self._client, "_client", None), "collections", {}).get(self.collection)
        storage = getattr(getattr(collection, "storage", None), "storage", None)
        if storage is not None:
            try:
                storage.execute("PRAGMA journal_mode=WAL")
                storage.execute("PRAGMA synchronous=NORMAL")
            except Exception:  # noqa: BLE001 - an internal of qdrant-client; speed only
                pass

    def _rebuild_mirror(self) -> None:
        """Fill the in-memory copy from Qdrant (a home written before the copy existed)."""
        ids, vectors, payloads = [], [], []
        _ = self.client
        if self._dim is not None:
            offset = None
            while True:
                points, offset = self.client.scroll(self.collection, limit=2048, offset=offset,
                                                    with_payload=True, with_vectors=True)
                for p in points:
                    if p.payload:
                        ids.append(p.payload["chunk_id"])
                        vectors.append(p.vector)
                        payloads.append(p.payload)
                if offset is None:
                    break
        matrix = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self._dim or 0)
        self.mirror.replace_all(ids, matrix, payloads)  # type: ignore[union-attr]

    def ensure_collection(self, dim: int) -> None:
        """Create the collection on first write; refuse vectors of another model's size."""
        from qdrant_client import models

        _ = self.client  # opens the store, and learns the collection's size if it exists
        if self._dim is not None:
            if self._dim != dim:
                raise StoreUnavailable(
                    f"the Qdrant collection {self.collection!r} holds {self._dim}-dimensional vectors but "
                    f"the model makes {dim}; use a new home (or collection) after changing models"
                )
            return
        self.client.create_collection(
            self.collection,
            vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
        )
        self._dim = dim
        if self.embedded:
            self._tune_local_store()
        else:
            for name in ("doc_id", "doc_type", "language", "tags"):
                self.client.create_payload_index(self.collection, name, models.PayloadSchemaType.KEYWORD)
            self.client.create_payload_index(self.collection, "year", models.PayloadSchemaType.INTEGER)

    def reset(self) -> None:
        """Drop every vector and the collection itself (``hub reindex``: the next write creates
        it again with the new model's size)."""
        if self.client.collection_exists(self.collection):
            self.client.delete_collection(self.collection)
        self._dim = None
        if self.mirror is not None:
            self.mirror.clear()

    def close(self) -> None:
        if self.mirror is not None:
            self.mirror.close()
        try:
            if self._client is not None:
                self._client.close()
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
        if self.mirror is not None:
            self.mirror.upsert(chunk_ids, vectors, payloads)

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        from qdrant_client import models

        ids = list(doc_ids)
        if self.mirror is not None:
            self.mirror.delete_documents(ids)
        if not ids or self.dim is None:
            return
        _ = self.client
        if self._dim is None:
            return
        self.client.delete(
            self.collection,
            points_selector=models.FilterSelector(filter=models.Filter(
                must=[models.FieldCondition(key="doc_id", match=models.MatchAny(any=ids))])),
            wait=True,
        )

    def may_hold(self, doc_id: str) -> bool:
        """False only when this document surely has no passages here (known from the copy)."""
        if self.mirror is None:
            return True
        return self.mirror.holds_document(doc_id)

    def delete_chunks(self, chunk_ids: Iterable[str]) -> None:
        from qdrant_client import models

        chunk_ids = list(chunk_ids)
        if self.mirror is not None:
            self.mirror.delete_chunks(chunk_ids)
        ids = [point_id(c) for c in chunk_ids]
        if ids and self.dim is not None and self.client is not None and self._dim is not None:
            self.client.delete(self.collection, points_selector=models.PointIdsList(points=ids), wait=True)

    def search(self, vector: np.ndarray, limit: int, filters: dict | None = None) -> list[tuple[str, float]]:
        """Best passages for a query vector, as (chunk_id, cosine) pairs."""
        if self.mirror is not None:
            return self.mirror.search(vector, limit, filters)
        if self.dim is None:
            return []
        response = self.client.query_points(
            self.collection, query=vector.tolist(), limit=limit,
            query_filter=qdrant_filter(filters), with_payload=["chunk_id"],
        )
        return [(p.payload["chunk_id"], float(p.score)) for p in response.points if p.payload]

    def rescore(self, vector: np.ndarray, chunk_ids: Sequence[str], limit: int,
                filters: dict | None = None) -> list[tuple[str, float]]:
        """The best of these passages for another query vector, best first (embedded mode: a
        product with their rows only; on a server, a normal search)."""
        if self.mirror is None:
            return self.search(vector, limit, filters)
        return self.mirror.rescore(vector, chunk_ids, limit)

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Stored vectors of these passages, in order (missing ones are skipped)."""
        if self.mirror is not None:
            return self.mirror.vectors(chunk_ids)
        if not chunk_ids or self.dim is None:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        points = self.client.retrieve(self.collection, ids=[point_id(c) for c in chunk_ids],
                                      with_vectors=True, with_payload=["chunk_id"])
        found = {p.payload["chunk_id"]: p.vector for p in points if p.payload}
        rows = [found[c] for c in chunk_ids if c in found]
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), self.dim)

    def with_languages(self, chunk_ids: Sequence[str]) -> tuple[list[str], np.ndarray, list[str]] | None:
        """Ids, vectors and languages of the passages held, from the in-memory copy (None
        without one: the caller asks Qdrant and the catalog)."""
        return self.mirror.with_languages(chunk_ids) if self.mirror is not None else None

    def doc_ids(self, chunk_ids: Sequence[str]) -> dict[str, str]:
        """The documents of these passages, from the in-memory copy (empty without one: the
        catalog answers then)."""
        return self.mirror.doc_ids(chunk_ids) if self.mirror is not None else {}

    def chunk_ids(self) -> set[str]:
        """What Qdrant holds (opens the local store: this is for `hub check`)."""
        ids: set[str] = set()
        _ = self.client
        if self._dim is None:
            return ids
        offset = None
        while True:
            points, offset = self.client.scroll(self.collection, limit=2048, offset=offset,
                                                with_payload=["chunk_id"], with_vectors=False)
            ids.update(p.payload["chunk_id"] for p in points if p.payload)
            if offset is None:
                return ids

    def passages(self) -> dict[str, str]:
        """What Qdrant holds, passage id to document id (opens the local store: for `hub check`)."""
        found: dict[str, str] = {}
        _ = self.client
        if self._dim is None:
            return found
        offset = None
        while True:
            points, offset = self.client.scroll(self.collection, limit=2048, offset=offset,
                                                with_payload=["chunk_id", "doc_id"], with_vectors=False)
            found.update((p.payload["chunk_id"], str(p.payload.get("doc_id", ""))) for p in points if p.payload)
            if offset is None:
                return found

    def count(self) -> int:
        """Passages searchable: the in-memory copy's count in embedded mode, Qdrant's otherwise."""
        if self.mirror is not None:
            return self.mirror.count()
        if self.dim is None:
            return 0
        return int(self.client.count(self.collection, exact=True).count)

    def qdrant_count(self) -> int:
        _ = self.client
        if self._dim is None:
            return 0
        return int(self.client.count(self.collection, exact=True).count)


def qdrant_filter(filters: dict | None):  # type: ignore[no-untyped-def]
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
