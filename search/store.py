"""The passages' one Qdrant collection, embedded or on a server, in one layout.

Layout (the same on Qdrant Edge, in-process under ``home/edge``, and on a Qdrant server or
cluster through qdrant-client when ``HUB_QDRANT_URL`` is set):
- one named dense vector per encoder of the home's model (``use-m3``, ``minilm``), cosine,
  stored in half precision;
- one sparse vector ``keyword`` with the IDF modifier (search/sparse.py);
- payload ``chunk_id, doc_id, doc_type, language, tags, year, page``, held in memory, with
  keyword indexes on ``doc_id, doc_type, language, tags`` and an integer index on ``year``,
  mapped from their files in embedded mode (``_payload_indexes``).

Why half precision and payload in memory (at 100,000 passages): float16 halves the vectors (350
to 175 MB) and moves a cosine by less than 0.001 (bench/quality.py: the same nDCG@10 to the third
decimal); a search reads the payload of its 300 candidates, and with both changes its first
call to the engine takes 9.4 ms instead of 13.9. The keyword vectors themselves are never read by a
search (the inverted index answers it), so the embedded shard leaves them on disk.
A point's id is derived from its passage id, so writing a passage twice overwrites it.

``PassageStore`` speaks in the hub's terms (passage ids, filters as the search request has them);
a driver per engine turns them into that engine's calls. Nothing else in the hub opens Qdrant.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np

from hub.errors import StoreUnavailable
from hub.settings import Settings

log = logging.getLogger(__name__)

_NAMESPACE = b"urban-safety-hub/passage/"
KEYWORD = "keyword"
KEYWORD_FIELDS = ("doc_id", "doc_type", "language", "tags")

#: What a search reads of each point: enough to group passages by document and weigh languages.
FOUND_FIELDS = ["chunk_id", "doc_id", "language"]


def _payload_indexes(e: Any) -> dict[str, Any]:
    """The embedded shard's payload indexes, mapped from their files rather than loaded into the
    heap (``Memory.Cold``). Loading them built each field's maps and trees at every opening: 0.25
    of the shard's 0.5 s at 100,000 passages, holding the interpreter, so the encoders loading
    beside it waited (start-up 1.5 and 1.7 s against 1.2 and 1.3 mapped, peak RSS 914 and 890 MB
    against 862 and 861, filtered searches as fast: bench/RESULTS.md, "Payload indexes mapped").
    ``warm_cache`` reads their files into the page cache, from which a filter reads its pages."""
    cold = e.Memory.Cold
    indexes: dict[str, Any] = {name: e.KeywordIndexParams(memory=cold) for name in KEYWORD_FIELDS}
    indexes["year"] = e.IntegerIndexParams(lookup=True, range=True, memory=cold)
    return indexes


@lru_cache(maxsize=1 << 18)
def point_id(chunk_id: str) -> int:
    """A passage's point id: 63 bits of a SHA-1 of its id. Integers, not UUIDs, because a search
    maps a few hundred points back to passages and UUID objects cost 4 ms of it; two of a
    million passages share an id with odds of one in ten million."""
    digest = hashlib.sha1(_NAMESPACE + chunk_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


class Found(NamedTuple):
    """A passage a retrieval found. A named tuple: a search makes several hundred, and a frozen
    dataclass takes twice as long to make (searches alternating both ways at 100,000 passages:
    p50 0.1 and 0.6 ms lower, mean 0.7 and 1.0 ms lower, the same results)."""

    chunk_id: str
    score: float
    doc_id: str
    language: str


@dataclass(frozen=True)
class Ask:
    """One retrieval: the nearest passages to ``vector`` (dense: a list of floats; sparse:
    (indices, values)) by the named vector ``using``; ``within``: only among these passages
    (exact scores of a known set)."""

    using: str
    vector: Any
    limit: int
    filters: dict | None = None
    within: Sequence[str] | None = None


class PassageStore:
    """The collection, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server = bool(settings.qdrant_url)
        self._driver: Any = None

    @property
    def driver(self) -> Any:
        if self._driver is None:
            if self.server:
                self._driver = ServerDriver(self.settings.qdrant_url, self.settings.qdrant_api_key,
                                            self.settings.collection)
            else:
                self._driver = EdgeDriver(self.settings.edge_path)
            self._driver.ef = self.settings.search_ef
        return self._driver

    @property
    def dims(self) -> dict[str, int]:
        """The dense vectors' names and sizes ({} before the first write)."""
        return self.driver.dims()

    def warm_cache(self) -> int:
        """Bring the index's files into the system's page cache (embedded mode; a server keeps its
        own): the bytes read."""
        return int(self.driver.warm_cache())

    def map_payload_indexes(self) -> None:
        """Rebuild payload indexes that an earlier hub kept in the heap as mapped ones (embedded
        mode: ``hub upgrade``; the payloads themselves are not written again)."""
        self.driver.map_payload_indexes()

    def ensure(self, dims: dict[str, int]) -> None:
        """Create the collection on first write; refuse vectors of another model."""
        held = self.dims
        if held and held != dims:
            raise StoreUnavailable(
                f"the passage index holds vectors {_describe(held)} but the model makes {_describe(dims)}: "
                "run `hub reindex` to re-embed it")
        if not held:
            self.driver.create(dims)

    # --- writing -------------------------------------------------------------------------------
    def upsert(self, chunk_ids: Sequence[str], dense: dict[str, np.ndarray],
               sparse: Sequence[tuple[list[int], list[float]]], payloads: Sequence[dict]) -> None:
        self.ensure({name: int(m.shape[1]) for name, m in dense.items()})
        for start in range(0, len(chunk_ids), 256):
            end = min(start + 256, len(chunk_ids))
            rows = {name: m[start:end].tolist() for name, m in dense.items()}
            points = []
            for i in range(start, end):
                vectors: dict[str, Any] = {name: r[i - start] for name, r in rows.items()}
                if sparse[i][0]:
                    vectors[KEYWORD] = sparse[i]
                points.append((point_id(chunk_ids[i]), vectors, {"chunk_id": chunk_ids[i], **payloads[i]}))
            self.driver.upsert(points)

    def delete_documents(self, doc_ids: Sequence[str]) -> None:
        if doc_ids and self.dims:
            self.driver.delete(self.driver.filter({"doc_id": list(doc_ids)}))

    def delete_chunks(self, chunk_ids: Sequence[str]) -> None:
        if chunk_ids and self.dims:
            self.driver.delete_ids([point_id(c) for c in chunk_ids])

    def reset(self) -> None:
        """Drop every passage and the layout (``hub reindex`` writes them anew)."""
        self.driver.drop()

    # --- reading -------------------------------------------------------------------------------
    def search(self, asks: Sequence[Ask]) -> list[list[Found]]:
        """Several retrievals in one call to the engine, each answered best first. Passages asked
        ``within`` a known set come back without their document and language (the asker knows
        them): reading payloads is most of the cost of scoring a few hundred known passages."""
        if not asks or not self.dims:
            return [[] for _ in asks]
        out = []
        for ask, answer in zip(asks, self.driver.query(asks)):
            if ask.within is None:
                out.append([_found(payload, score) for _, score, payload in answer])
            else:
                names = {point_id(c): c for c in ask.within}
                out.append([Found(names[pid], score, "", "") for pid, score, _ in answer if pid in names])
        return out

    def vectors(self, chunk_ids: Sequence[str]) -> tuple[list[str], dict[str, np.ndarray]]:
        """The passages held among these, in order, and each dense vector's rows for them."""
        if not chunk_ids or not self.dims:
            return [], {n: np.zeros((0, d), dtype=np.float32) for n, d in self.dims.items()}
        records = {p["chunk_id"]: v for p, v in self.driver.retrieve([point_id(c) for c in chunk_ids])}
        found = [c for c in chunk_ids if c in records]
        return found, {n: np.asarray([records[c][n] for c in found], dtype=np.float32).reshape(len(found), d)
                       for n, d in self.dims.items()}

    def payloads(self, chunk_ids: Sequence[str]) -> dict[str, dict]:
        """The payloads of the passages held among these."""
        if not chunk_ids or not self.dims:
            return {}
        return {p["chunk_id"]: p for p, _ in self.driver.retrieve([point_id(c) for c in chunk_ids], vectors=False)}

    def passages(self) -> dict[str, str]:
        """Every passage held, id -> document id (``hub check``)."""
        if not self.dims:
            return {}
        return {p["chunk_id"]: str(p.get("doc_id", "")) for p in self.driver.scroll(["chunk_id", "doc_id"])}

    def points(self, batch: int = 512) -> Iterator[list[tuple[int, dict, dict]]]:
        """Every point as stored (id, vectors, payload), in batches: ``hub migrate``."""
        if self.dims:
            yield from self.driver.scroll_points(batch)

    def count(self) -> int:
        return self.driver.count() if self.dims else 0

    def flush(self) -> None:
        """After a batch of writes: persist, and index new segments (embedded mode)."""
        if self._driver is not None:
            self._driver.flush()

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None


def _describe(dims: dict[str, int]) -> str:
    return ", ".join(f"{n} ({d})" for n, d in dims.items())


# --- the engines ------------------------------------------------------------------------------------
class _Driver:
    """What both engines share: their model classes have the same names and fields (``models``:
    the module holding them), and both page through points the same way."""

    models: Any
    range_type: Any
    _dims: dict[str, int]
    #: The graph search's candidate list (hnsw_ef), at least a question's limit: the setting's,
    #: given by PassageStore; its default for a driver opened without settings (``hub migrate``).
    ef: int = Settings.search_ef

    def dims(self) -> dict[str, int]:
        return dict(self._dims)

    def warm_cache(self) -> int:
        """Bring the index's files into the system's page cache; the bytes read (0: nothing to do)."""
        return 0

    def map_payload_indexes(self) -> None:
        """Nothing to do: a server places its own indexes."""

    def _vector(self, value: Any) -> Any:
        if isinstance(value, tuple):
            return self.models.SparseVector(indices=list(value[0]), values=list(value[1]))
        return value

    def filter(self, filters: dict | None, within: Sequence[str] | None = None) -> Any:
        m = self.models
        must = [_condition(m, key, value, self.range_type) for key, value in (filters or {}).items()
                if value not in (None, "", [])]
        if within is not None:
            must.append(self._has_ids([point_id(c) for c in within]))
        return m.Filter(must=must) if must else None

    def scroll(self, fields: list[str]) -> Iterator[dict]:
        for records in self._pages(fields, False, 2048):
            yield from (r.payload for r in records)

    def scroll_points(self, batch: int) -> Iterator[list[tuple[int, dict, dict]]]:
        for records in self._pages(True, True, batch):
            yield [(r.id, {n: ((v.indices, v.values) if hasattr(v, "indices") else v)
                                for n, v in (r.vector or {}).items()}, r.payload) for r in records]

    def _pages(self, payload: Any, vectors: bool, batch: int) -> Iterator[list]:
        offset = None
        while True:
            records, offset = self._page(offset, batch, payload, vectors)
            if records:
                yield records
            if offset is None:
                return

    def _page(self, offset: Any, batch: int, payload: Any, vectors: bool) -> tuple[list, Any]:
        raise NotImplementedError

    def _has_ids(self, ids: list[int]) -> Any:
        raise NotImplementedError


class EdgeDriver(_Driver):
    """A Qdrant Edge shard in ``path``: the Qdrant engine in this process, with its write-ahead
    log (a write survives the process being killed) and HNSW indexes built by ``flush``."""

    def __init__(self, path: Path) -> None:
        import qdrant_edge

        self.models = qdrant_edge
        self.range_type = qdrant_edge.RangeFloat
        self.path = path
        self._shard: Any = None
        self._dims = {}
        if (path / "edge_config.json").exists():
            # Listed before the shard is ours: what is there then was left by a process that died
            # while the engine built a segment (`kill -9` during ingest), since a live one holds
            # the shard and the load below would fail. The engine never removes it (1.8 GB at
            # 500,000 passages: README, "Ingest is safe to interrupt").
            leftovers = list((path / "temp_segments").glob("*"))
            try:
                self._shard = qdrant_edge.EdgeShard.load(str(path))
            except Exception as exc:  # noqa: BLE001 - the engine raises a bare Exception
                if "WouldBlock" in str(exc):
                    raise StoreUnavailable(
                        f"the passage index in {path} is in use by another hub process (stop `hub serve` first, "
                        "or set HUB_QDRANT_URL so that several processes share a Qdrant server)") from None
                raise StoreUnavailable(f"cannot open the passage index in {path}: {exc}") from None
            config = json.loads((path / "edge_config.json").read_text())
            self._dims = {n: int(v["size"]) for n, v in (config.get("vectors") or {}).items()}
            _remove(leftovers)

    def create(self, dims: dict[str, int], shards: int = 1, replicas: int = 1) -> None:
        """``shards``, ``replicas``: a server's; an embedded index is one shard."""
        e = self.models
        # Dense vectors mapped, not read in whole at opening (Memory.Cold): the segment that takes
        # new points keeps them in 32 MB chunks, which the default read in full for the few
        # hundred points an ingest leaves there (67 MB for both encoders at 100,000 passages,
        # peak RSS 1,054 MB against 987; bench/RESULTS.md, "Memory"). ``warm_cache`` reads them into the
        # page cache at opening, since the engine drops them from it when a shard closes.
        config = e.EdgeConfig(
            vectors={n: e.EdgeVectorParams(size=d, distance=e.Distance.Cosine, datatype=e.VectorStorageDatatype.Float16,
                                           memory=e.Memory.Cold)
                     for n, d in dims.items()},
            sparse_vectors={KEYWORD: e.EdgeSparseVectorParams(modifier=e.Modifier.Idf, memory=e.Memory.Cold)},
            on_disk_payload=False, payload_memory=e.Memory.Cached)
        self._shard = e.EdgeShard.create(str(self.path), config)
        for name, params in _payload_indexes(e).items():
            self._shard.update(e.UpdateOperation.create_field_index(name, params))
        self._dims = dict(dims)

    def map_payload_indexes(self) -> None:
        e = self.models
        if self._shard is None:  # nothing written yet: `create` makes them mapped
            return
        for name, params in _payload_indexes(e).items():
            self._shard.update(e.UpdateOperation.delete_field_index(name))
            self._shard.update(e.UpdateOperation.create_field_index(name, params))
        self.flush()

    def warm_cache(self) -> int:
        """Read the dense vectors' files once into the system's page cache, without mapping them.
        The engine leaves them out of the cache when a shard closes, and maps them without reading
        (Memory.Cold, ``create``), so a new process read each vector a search touched from the
        disk: at 100,000 passages its first 300 searches took p95 66 ms against 33 once read
        (5,800 pages read from disk; bench/RESULTS.md, "Memory"). Read, the pages a search touches are
        mapped from memory, and the process holds only those. Not the engine's own ``Memory.Cached``
        tier, which warms by mapping: its pages count in the process's memory (64.7 MB of the
        chunks above in `tests/search/test_store.py`'s index, as the old default). The payload
        indexes' files too, which filters read through their maps (``_payload_indexes``). Called on
        a background thread; a file or segment the engine replaces meanwhile is skipped."""
        total, buffer = 0, bytearray(1 << 20)  # one buffer, reused: nothing to hold on to
        # The payload indexes first: a few MB that every filtered search reads, before the vectors.
        for folder in ["payload_index", *(f"vector_storage-{n}" for n in self._dims)]:
            try:
                files = sorted(self.path.glob(f"segments/*/{folder}/**/*"))
            except OSError:  # the shard removed meanwhile (`hub reindex`, a test's folder)
                return total
            for file in files:
                try:
                    with file.open("rb", buffering=0) as fh:
                        while n := fh.readinto(buffer):
                            total += n
                except OSError:  # a directory, or a segment the optimiser removed
                    continue
        return total

    def drop(self) -> None:
        import shutil

        self.close()
        shutil.rmtree(self.path, ignore_errors=True)
        self._dims = {}

    def upsert(self, points: list[tuple[int, dict, dict]]) -> None:
        e = self.models
        self._shard.update(e.UpdateOperation.upsert_points(
            [e.Point(id=pid, vector={n: self._vector(v) for n, v in vectors.items()}, payload=payload)
             for pid, vectors, payload in points]))

    def _has_ids(self, ids: list[int]) -> Any:
        return self.models.HasIdCondition(set(ids))

    def delete(self, flt: Any) -> None:
        self._shard.update(self.models.UpdateOperation.delete_points_by_filter(flt))

    def delete_ids(self, ids: list[int]) -> None:
        self._shard.update(self.models.UpdateOperation.delete_points(ids))

    def query(self, asks: Sequence[Ask]) -> list[list[Found]]:
        e = self.models
        requests = [e.QueryRequest(limit=a.limit if a.within is None else max(1, len(a.within)),
                                   query=e.Query.Nearest(self._vector(a.vector), using=a.using),
                                   filter=self.filter(a.filters, a.within),
                                   with_payload=FOUND_FIELDS if a.within is None else False,
                                   with_vector=False, params=e.SearchParams(hnsw_ef=max(self.ef, a.limit)))
                    for a in asks]
        answers = (self._shard.query_batch(e.QueryBatchRequest(requests)) if len(requests) > 1
                   else [self._shard.query(requests[0])])
        return [[(p.id, p.score, p.payload) for p in points] for points in answers]

    def retrieve(self, ids: list[int], vectors: bool = True) -> list[tuple[dict, dict]]:
        """Payloads and dense vectors: the keyword vectors stay on disk (feedback reads five
        passages' vectors at every English search)."""
        return [(r.payload, r.vector) for r in self._shard.retrieve(ids, True, list(self._dims) if vectors else False)]

    def _page(self, offset: Any, batch: int, payload: Any, vectors: bool) -> tuple[list, Any]:
        return self._shard.scroll(self.models.ScrollRequest(offset=offset, limit=batch, with_payload=payload,
                                                            with_vector=vectors))

    def count(self) -> int:
        return int(self._shard.count(self.models.CountRequest(exact=True)))

    def flush(self) -> None:
        if self._shard is not None:
            self._shard.optimize()
            self._shard.flush()

    def close(self) -> None:
        if self._shard is not None:
            self._shard.close()
            self._shard = None


def _remove(paths: Sequence[Path]) -> None:
    """A dead process's temporary segments, now that the shard is this process's."""
    import shutil

    for leftover in paths:
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)
        log.info("removed %s, a temporary segment left by a process that stopped", leftover)


class ServerDriver(_Driver):
    """The same layout in a collection of a Qdrant server, through qdrant-client. ``url`` may also
    be ``:memory:`` or a folder: qdrant-client's local mode, its own emulation of the server API,
    which is how the tests run this path."""

    def __init__(self, url: str, api_key: str | None, collection: str) -> None:
        from qdrant_client import QdrantClient, models

        self.models = models
        self.range_type = models.Range
        self.collection = collection
        self.remote = url.startswith(("http://", "https://"))
        try:
            if self.remote:
                self.client = QdrantClient(url=url, api_key=api_key, timeout=30)
            else:
                self.client = QdrantClient(location=url) if url == ":memory:" else QdrantClient(path=url)
            self._dims = self._read_dims()
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001 - network errors, in many classes
            raise StoreUnavailable(f"cannot reach Qdrant at {url}: {exc}") from None

    def _read_dims(self) -> dict[str, int]:
        if not self.client.collection_exists(self.collection):
            return {}
        vectors = self.client.get_collection(self.collection).config.params.vectors
        if not isinstance(vectors, dict):
            raise StoreUnavailable(
                f"the collection {self.collection!r} has the layout of an earlier hub (one unnamed vector): "
                "bring it into an embedded home with the earlier hub, `hub upgrade` there, then `hub migrate`")
        return {n: int(v.size) for n, v in vectors.items()}

    def create(self, dims: dict[str, int], shards: int = 1, replicas: int = 1) -> None:
        import warnings

        m = self.models
        self.client.create_collection(
            self.collection,
            vectors_config={n: m.VectorParams(size=d, distance=m.Distance.COSINE, datatype=m.Datatype.FLOAT16)
                            for n, d in dims.items()},
            sparse_vectors_config={KEYWORD: m.SparseVectorParams(modifier=m.Modifier.IDF)},
            on_disk_payload=False, shard_number=shards, replication_factor=replicas)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # local mode has no payload indexes, and says so
            for name in KEYWORD_FIELDS:
                self.client.create_payload_index(self.collection, name, m.PayloadSchemaType.KEYWORD)
            self.client.create_payload_index(self.collection, "year", m.PayloadSchemaType.INTEGER)
        self._dims = dict(dims)

    def drop(self) -> None:
        if self.client.collection_exists(self.collection):
            self.client.delete_collection(self.collection)
        self._dims = {}

    def upsert(self, points: list[tuple[int, dict, dict]]) -> None:
        m = self.models
        self.client.upsert(self.collection, wait=True, points=[
            m.PointStruct(id=pid, vector={n: self._vector(v) for n, v in vectors.items()}, payload=payload)
            for pid, vectors, payload in points])

    def _has_ids(self, ids: list[int]) -> Any:
        return self.models.HasIdCondition(has_id=ids)

    def delete(self, flt: Any) -> None:
        self.client.delete(self.collection, points_selector=self.models.FilterSelector(filter=flt), wait=True)

    def delete_ids(self, ids: list[int]) -> None:
        self.client.delete(self.collection, points_selector=self.models.PointIdsList(points=ids), wait=True)

    def query(self, asks: Sequence[Ask]) -> list[list[Found]]:
        m = self.models
        requests = [m.QueryRequest(query=self._vector(a.vector), using=a.using,
                                   limit=a.limit if a.within is None else max(1, len(a.within)),
                                   filter=self.filter(a.filters, a.within),
                                   with_payload=FOUND_FIELDS if a.within is None else False,
                                   # local mode searches exactly, and warns that it ignores these
                                   params=m.SearchParams(hnsw_ef=max(self.ef, a.limit)) if self.remote else None)
                    for a in asks]
        answers = self.client.query_batch_points(self.collection, requests=requests)
        return [[(p.id, p.score, p.payload) for p in answer.points] for answer in answers]

    def retrieve(self, ids: list[int], vectors: bool = True) -> list[tuple[dict, dict]]:
        return [(p.payload, p.vector) for p in self.client.retrieve(self.collection, ids=ids, with_payload=True,
                                                                    with_vectors=list(self._dims) if vectors else False)]

    def _page(self, offset: Any, batch: int, payload: Any, vectors: bool) -> tuple[list, Any]:
        return self.client.scroll(self.collection, limit=batch, offset=offset, with_payload=payload,
                                  with_vectors=vectors)

    def count(self) -> int:
        return int(self.client.count(self.collection, exact=True).count)

    def flush(self) -> None:
        """A server indexes by itself."""

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001
            pass


def _condition(models: Any, key: str, value: Any, range_type: Any) -> Any:
    """One filter of a search request (search/request.py) in an engine's terms."""
    if key == "year":
        start, end = value
        return models.FieldCondition(key="year", range=range_type(gte=start, lte=end))
    values = value if isinstance(value, (list, tuple)) else [value]
    if key == "tags":
        values = [v.lower() for v in values]
    return models.FieldCondition(key=key, match=models.MatchAny(any=list(values)))


def _found(payload: dict | None, score: float) -> Found:
    payload = payload or {}
    return Found(str(payload.get("chunk_id", "")), float(score), str(payload.get("doc_id", "")),
                 str(payload.get("language", "")))
