"""Qdrant Edge (qdrant-edge-py, in-process Qdrant) as the hub's passage index: a measured spike.

    python bench/edge.py build   [--home H] [--shard S]        # 100k home -> one Edge shard; build/optimise time, disk
    python bench/edge.py latency [--home H] [--shard S] [--queries 300]
                                                                # embeds in this process, then a fresh child
                                                                # opens the shard and times every query shape
    python bench/edge.py parity  [--home C]                    # Cranfield: Edge sparse vs the hub's keyword mode
    python bench/edge.py pairs   [--home H]                    # what the phrase pair terms cost (sparse only)
    python bench/edge.py all                                    # the three, one after the other

Nothing here is re-embedded: dense vectors come from the home's vectors.sqlite (split back into
each encoder's unit vector, search/embedder.py ``split``) and keyword terms from its terms.sqlite
(the same per-language analysis, per field, as Whoosh and the BM25 matrix, search/terms.py).

Shard layout measured: one named dense vector per encoder (cosine), one sparse vector "keyword"
with Modifier.Idf (Qdrant computes IDF over the shard; the term-frequency part, BM25 saturation
and length normalisation, is computed here when a passage is written), payload
{chunk_id, doc_id, language, doc_type, year, tags} with keyword/integer payload indexes.
A term's sparse index is a stable 32-bit hash of the hub's analysed key "lang:field:term", so no
vocabulary table has to be shared between writers (collisions are counted and reported).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import BENCHMARKS, WORK, judged_library, load_beir, ndcg_at, table  # noqa: E402

HOME_100K = WORK / "scale" / "home-100000-use-m3+minilm"
SHARD_100K = WORK / "edge-100000"
CRANFIELD_HOME = WORK / "homes" / "beir-cranfield-use-m3+minilm"
CRANFIELD_SHARDS = WORK / "edge-cranfield"
LIBRARY_HOME = WORK / "homes" / "library-documents-use-m3+minilm"
DIMS = {"use-m3": 512, "minilm": 384}
FIELDS = ("title", "heading", "body")
K1, B = 1.2, 0.75


# --- reading a home ------------------------------------------------------------------------------
def term_hash(term: str) -> int:
    """A stable u32 for an analysed key ("en:body:polic"): the sparse vector's index."""
    return int.from_bytes(hashlib.blake2b(term.encode("utf-8"), digest_size=4).digest(), "little")


def load_terms(home: Path) -> dict:
    """Every passage of terms.sqlite as flat arrays, and the vocabulary's keys."""
    db = sqlite3.connect(f"file:{home / 'terms.sqlite'}?mode=ro", uri=True)
    vocab_rows = db.execute("SELECT term, id FROM vocab").fetchall()
    terms = [""] * (max(i for _, i in vocab_rows) + 1)
    for t, i in vocab_rows:
        terms[i] = t
    rows = db.execute("SELECT chunk_id, doc_id, doc_type, language, tags, year, term_ids, tfs, lengths"
                      " FROM passages ORDER BY rowid").fetchall()
    db.close()
    ids = np.frombuffer(b"".join(r[6] for r in rows), dtype=np.int32)
    tfs = np.frombuffer(b"".join(r[7] for r in rows), dtype=np.uint16).astype(np.float32)
    sizes = np.fromiter((len(r[6]) // 4 for r in rows), dtype=np.int64, count=len(rows))
    lengths = np.frombuffer(b"".join(r[8] for r in rows), dtype=np.int32).reshape(-1, len(FIELDS))
    payloads = [{"chunk_id": r[0], "doc_id": r[1], "doc_type": r[2], "language": r[3],
                 "tags": json.loads(r[4]), "year": r[5]} for r in rows]
    return {"terms": terms, "ids": ids, "tfs": tfs, "sizes": sizes, "lengths": lengths, "payloads": payloads}


def load_vectors(home: Path, chunk_ids: list[str]) -> dict[str, np.ndarray]:
    """Each encoder's unit vectors, in the order of ``chunk_ids`` (stored joined, /sqrt(2))."""
    db = sqlite3.connect(f"file:{home / 'vectors.sqlite'}?mode=ro", uri=True)
    dim = int(db.execute("SELECT value FROM meta WHERE key = 'dim'").fetchone()[0])
    by_chunk = dict(db.execute("SELECT chunk_id, vec FROM vectors"))
    db.close()
    joined = np.frombuffer(b"".join(by_chunk[c] for c in chunk_ids), dtype=np.float32).reshape(-1, dim)
    assert dim == sum(DIMS.values()), dim
    out, start = {}, 0
    for name, d in DIMS.items():
        out[name] = np.ascontiguousarray(joined[:, start:start + d] * np.float32(math.sqrt(len(DIMS))))
        start += d
    return out


# --- the sparse keyword vectors ------------------------------------------------------------------
VARIANTS = {
    # name: (what, Qdrant IDF modifier?)
    "exact": ("the hub's own BM25F weights (Whoosh idf baked in, no modifier): the reference", False),
    "exact-phrase": ("exact, and an adjacent pair worth its two words' weights (the hub's phrase score)", False),
    "bm25-phrase": ("bm25, and an adjacent pair worth its two words' values, Qdrant IDF (the pair's own)", True),
    "tf": ("raw term frequency per field, Qdrant IDF", True),
    "bm25": ("BM25 tf saturation k1=1.2 + length norm b=0.75 per field (Whoosh lengths), Qdrant IDF", True),
    "bm25-avg/2": ("bm25 with every average field length halved (a stale average: robustness)", True),
    "bm25-avgx2": ("bm25 with every average field length doubled (a stale average: robustness)", True),
    "bm25-b0": ("BM25 saturation k1=1.2, no length normalisation, Qdrant IDF", True),
    "bm25-boost": ("bm25 with field boosts title 2 / heading 1.5, Qdrant IDF", True),
    "bm25-merged": ("bm25 over one field per language (title+heading+body merged), Qdrant IDF", True),
}


def _whoosh_lengths(lengths: np.ndarray) -> np.ndarray:
    from search.terms import whoosh_lengths as wl

    return wl(lengths)


def sparse_rows(data: dict, variant: str, pairs: bool = True) -> tuple[list[np.ndarray], list[np.ndarray], dict]:
    """Per passage, (indices, values) of its "keyword" sparse vector under ``variant``."""
    terms = data["terms"]
    n = len(data["sizes"])
    merged = variant == "bm25-merged"
    key_of = [(t.split(":", 2)[0] + ":" + t.split(":", 2)[2]) if merged else t for t in terms]
    part = np.array([FIELDS.index(t.split(":", 2)[1]) if t else 0 for t in terms], dtype=np.int64)
    is_pair = np.array([" " in t.split(":", 2)[2] if t else False for t in terms], dtype=bool)
    unique_keys = sorted(set(key_of))
    hashes = {k: term_hash(k) for k in unique_keys}
    collisions = len(unique_keys) - len(set(hashes.values()))
    index = np.array([hashes[k] for k in key_of], dtype=np.uint32)

    ids, tf = data["ids"], data["tfs"]
    row = np.repeat(np.arange(n), data["sizes"])
    keep = np.ones(len(ids), dtype=bool) if pairs else ~is_pair[ids]
    lengths = data["lengths"].astype(np.float32)
    entry_part = part[ids]
    if merged:
        total = lengths.sum(axis=1)
        dl = _whoosh_lengths(total.astype(np.int64))[row]
        avg = max(float(total.mean()), 1e-3)
        norm = K1 * (1 - B + B * dl / avg)
    else:
        dl = _whoosh_lengths(data["lengths"])[row, entry_part]
        avg = np.maximum(lengths.mean(axis=0), 1e-3)
        avg = avg * {"bm25-avg/2": 0.5, "bm25-avgx2": 2.0}.get(variant, 1.0)
        b = 0.0 if variant == "bm25-b0" else B
        norm = K1 * (1 - b + b * dl / avg[entry_part])
    if variant == "tf":
        values = tf.copy()
    elif variant in ("exact", "exact-phrase"):
        df = np.bincount(ids, minlength=len(terms)).astype(np.float32)
        idf = np.log(n / (df + 1.0)) + 1.0
        values = idf[ids] * tf * (K1 + 1) / (tf + norm)
    elif merged:
        values = tf  # summed per merged key below, then saturated
    else:
        values = tf * (K1 + 1) / (tf + norm)
        if variant == "bm25-boost":
            values = values * np.array([2.0, 1.5, 1.0], dtype=np.float32)[entry_part]
    starts = np.concatenate([[0], np.cumsum(data["sizes"])])
    out_idx, out_val = [], []
    for r in range(n):
        a, b_ = starts[r], starts[r + 1]
        k = keep[a:b_]
        idx = index[ids[a:b_][k]]
        val = values[a:b_][k].astype(np.float32)
        if variant in ("exact-phrase", "bm25-phrase"):
            # The hub scores a phrase as the sum of its words' scores where the words stand side
            # by side (search/terms.py): a pair's entry carries the weights of its two words.
            own = {terms[t]: float(v) for t, v in zip(ids[a:b_][k].tolist(), val.tolist())}
            for j, t in enumerate(ids[a:b_][k].tolist()):
                if is_pair[t]:
                    lang, field, words = terms[t].split(":", 2)
                    first, second = words.split(" ", 1)
                    val[j] = own.get(f"{lang}:{field}:{first}", 0.0) + own.get(f"{lang}:{field}:{second}", 0.0)
        uniq, inv = np.unique(idx, return_inverse=True)
        summed = np.bincount(inv, weights=val, minlength=len(uniq)).astype(np.float32)
        if merged:  # saturate the merged field's tf now that it is summed
            nr = float(norm[a]) if b_ > a else K1
            summed = summed * (K1 + 1) / (summed + nr)
        out_idx.append(uniq.astype(np.int64))
        out_val.append(summed)
    return out_idx, out_val, {"keys": len(unique_keys), "collisions": collisions}


def query_sparse(words: list[tuple[str, float, bool]], variant: str) -> tuple[list[int], list[float]]:
    """The hub's keyword query (search/terms.py TermStore.search) as a sparse vector: every word
    analysed for every language and field, a word asked twice counts once (max weight); a
    multi-word phrase (thesaurus expansion) becomes its adjacent-pair terms."""
    from search.analysis import LANGUAGES, OTHER, query_terms

    merged = variant == "bm25-merged"
    weights: dict[int, float] = {}
    for text, weight, phrase in words:
        for lang in (*LANGUAGES, OTHER):
            tokens = query_terms(text, lang)
            for field in (("",) if merged else FIELDS):
                prefix = f"{lang}:" if merged else f"{lang}:{field}:"
                keys = ([f"{prefix}{a} {b}" for a, b in zip(tokens, tokens[1:])] if phrase and len(tokens) > 1
                        else [f"{prefix}{t}" for t in tokens])
                for key in keys:
                    h = term_hash(key)
                    weights[h] = max(weights.get(h, 0.0), weight)
    items = sorted(weights.items())
    return [i for i, _ in items], [w for _, w in items]


def hub_query_words(text: str, thesaurus) -> list[tuple[str, float, bool]]:  # type: ignore[no-untyped-def]
    """What the hub's keyword mode asks for: parsed words plus thesaurus expansions (search/hybrid.py)."""
    from search.keyword import clean_words
    from search.query import parse_query
    from search.terms import query_words

    parsed = parse_query(text)
    expansions = thesaurus.expansions(thesaurus.find(parsed.text), parsed.text) if thesaurus is not None else {}
    return query_words([clean_words(w) for w in parsed.words], [clean_words(e) for e in expansions.get("keyword", [])])


# --- building a shard ----------------------------------------------------------------------------
def create_shard(path: Path, dense: bool, modifier: bool, layout: str = "plain"):  # type: ignore[no-untyped-def]
    """``layout``: "plain" (float32 vectors, Qdrant's defaults) or "lean" (float32 originals left on
    disk, Memory.Cold, and searched through int8 scalar quantization kept in RAM, then rescored)."""
    from qdrant_edge import (Distance, EdgeConfig, EdgeShard, EdgeSparseVectorParams, EdgeVectorParams,
                             IntegerIndexParams, KeywordIndexParams, Memory, Modifier, ScalarQuantizationConfig,
                             ScalarType, UpdateOperation)

    if path.exists():
        shutil.rmtree(path)
    extra: dict = {}
    if layout == "lean":
        extra = {"memory": Memory.Cold,
                 "quantization_config": ScalarQuantizationConfig(type=ScalarType.Int8, quantile=0.99,
                                                                 memory=Memory.Pinned)}
    vectors = {name: EdgeVectorParams(size=d, distance=Distance.Cosine, **extra)
               for name, d in DIMS.items()} if dense else None
    sparse = {"keyword": EdgeSparseVectorParams(modifier=Modifier.Idf) if modifier else EdgeSparseVectorParams()}
    shard = EdgeShard.create(str(path), EdgeConfig(vectors=vectors, sparse_vectors=sparse))
    for field in ("doc_id", "language", "doc_type", "tags"):
        shard.update(UpdateOperation.create_field_index(field, KeywordIndexParams()))
    shard.update(UpdateOperation.create_field_index("year", IntegerIndexParams(lookup=True, range=True)))
    return shard


def fill(shard, payloads, idx, val, dense: dict[str, np.ndarray] | None, batch: int = 500) -> None:  # type: ignore[no-untyped-def]
    from qdrant_edge import Point, SparseVector, UpdateOperation

    for start in range(0, len(payloads), batch):
        points = []
        end = min(start + batch, len(payloads))
        lists = {n: m[start:end].tolist() for n, m in dense.items()} if dense else {}
        for i in range(start, end):
            vector: dict = {"keyword": SparseVector(indices=idx[i].tolist(), values=val[i].tolist())}
            for name, rows in lists.items():
                vector[name] = rows[i - start]
            points.append(Point(id=i, vector=vector, payload=payloads[i]))
        shard.update(UpdateOperation.upsert_points(points))


def disk_mb(path: Path, apparent: bool = False) -> float:
    """Space taken on disk (allocated blocks, as du reports it); ``apparent``: the files' sizes,
    which count the unwritten tail of Qdrant's preallocated memory-mapped files."""
    files = [f.stat() for f in path.rglob("*") if f.is_file()]
    return sum(f.st_size if apparent else f.st_blocks * 512 for f in files) / 1048576


def cmd_build(args) -> None:  # type: ignore[no-untyped-def]
    home, path = Path(args.home), Path(args.shard)
    t0 = time.perf_counter()
    data = load_terms(home)
    dense = load_vectors(home, [p["chunk_id"] for p in data["payloads"]])
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    idx, val, stats = sparse_rows(data, "bm25")
    t_sparse = time.perf_counter() - t0
    shard = create_shard(path / "shard", dense=True, modifier=True, layout=args.layout)
    t0 = time.perf_counter()
    fill(shard, data["payloads"], idx, val, dense)
    shard.flush()
    t_upsert = time.perf_counter() - t0
    before = disk_mb(path / "shard")
    t0 = time.perf_counter()
    shard.optimize()
    t_opt = time.perf_counter() - t0
    shard.flush()
    info = shard.info()
    shard.close()
    entries = sum(len(i) for i in idx)
    result = {"layout": args.layout, "passages": len(data["payloads"]), "read_s": t_read, "sparse_s": t_sparse, "upsert_s": t_upsert,
              "optimize_s": t_opt, "disk_mb_before_opt": before, "disk_mb": disk_mb(path / "shard"),
              "disk_mb_apparent": disk_mb(path / "shard", apparent=True),
              "wal_mb": disk_mb(path / "shard" / "wal"),
              "segments": info.segments_count, "indexed_vectors": info.indexed_vectors_count,
              "points": info.points_count, "sparse_entries": entries, **stats,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    (path / "build.json").write_text(json.dumps(result, indent=1))
    print(table([[k, f"{v:.2f}" if isinstance(v, float) else str(v)] for k, v in result.items()],
                [f"build {path} (sparse bm25, 2 dense + sparse, 5 payload indexes)", "value"]))


# --- latency ------------------------------------------------------------------------------------
FILTERS = [("language=en", {"language": ["en"]}), ("doc_type in evaluation,review", {"doc_type": ["evaluation", "review"]}),
           ("year 2005..2020", {"year": (2005, 2020)}), ("tags=lighting", {"tags": ["lighting"]})]


def edge_filter(spec: dict):  # type: ignore[no-untyped-def]
    from qdrant_edge import FieldCondition, Filter, MatchAny, RangeFloat

    must = []
    for key, value in spec.items():
        if key == "year":
            must.append(FieldCondition(key="year", range=RangeFloat(gte=value[0], lte=value[1])))
        else:
            must.append(FieldCondition(key=key, match=MatchAny(any=list(value))))
    return Filter(must=must)


def cmd_latency(args) -> None:  # type: ignore[no-untyped-def]
    """This process embeds the questions (timed); a fresh child opens the shard and queries it."""
    import scale  # bench/scale.py: the same questions

    from hub.settings import Settings
    from search.embedder import Embedder
    from search.hybrid import query_language
    from search.thesaurus import DEFAULT_PATH, Thesaurus

    path = Path(args.shard)
    qs = scale.queries(args.queries)
    embedder = Embedder(Settings.from_env().model)
    embedder.warm()
    thesaurus = Thesaurus.load(DEFAULT_PATH)
    embed_ms, analyse_ms, out = [], [], []
    for q in qs:
        embedder._queries.clear()
        t = time.perf_counter()
        lang = query_language(q)
        parts = embedder.query_parts(q, lang)
        embed_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        si, sv = query_sparse(hub_query_words(q, thesaurus), "bm25")
        analyse_ms.append((time.perf_counter() - t) * 1000)
        vecs = {}
        for name, v in zip(embedder.parts, parts):
            v = np.asarray(v, dtype=np.float32).ravel()
            if np.linalg.norm(v) > 0:
                vecs[name] = (v / np.linalg.norm(v)).tolist()
        out.append({"q": q, "lang": lang, "dense": vecs, "si": si, "sv": sv})
    (path / "queries.json").write_text(json.dumps(out))
    embed_rss = peak_rss_mb()
    proc = subprocess.run([sys.executable, __file__, "_child", "--shard", str(path)], capture_output=True, text=True)
    if proc.returncode:
        print(proc.stderr, file=sys.stderr)
        raise SystemExit(proc.returncode)
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    build = json.loads((path / "build.json").read_text()) if (path / "build.json").exists() else {}
    rows = [["question embedding (Embedder.query_parts, both encoders)", *_pcts(embed_ms)],
            ["keyword analysis (parse + thesaurus + all languages)", *_pcts(analyse_ms)]]
    rows += [[name, *_pcts(ms)] for name, ms in r["timings"].items()]
    print(f"{len(qs)} questions from bench/scale.py on {r['points']} passages; shard {build.get('disk_mb', 0):.0f} MB "
          f"on disk; each timed query after a warm-up pass; filters rotate over {', '.join(f for f, _ in FILTERS)}")
    print(table(rows, ["query (top-100 passages)", "p50 ms", "p95 ms", "p99 ms", "mean ms"]))
    print(table([["EdgeShard.load in a fresh process", f"{r['load_s']:.3f} s"],
                 ["that process's peak RSS (VmHWM) after all the timed queries", f"{r['peak_rss_mb']:.0f} MB"],
                 ["...right after EdgeShard.load", f"{r['loaded_rss_mb']:.0f} MB"],
                 ["...before loading the shard (Python + numpy + qdrant_edge)", f"{r['base_rss_mb']:.0f} MB"],
                 ["...after the exact-search checks below too (they read every vector)", f"{r['final_rss_mb']:.0f} MB"],
                 ["embedding process's peak RSS (both encoders loaded)", f"{embed_rss:.0f} MB"],
                 *[[f"HNSW recall@100 vs exact, {k}", f"{v:.4f}"] for k, v in r["recall"].items()],
                 *[[f"exact (brute force) {k} p50 / p95", f"{_pct(v, 50):.1f} / {_pct(v, 95):.1f} ms"]
                   for k, v in r["exact"].items()],
                 *[[f"HNSW {k}: recall@100 / p50 / p95", f"{v[0]:.4f} / {v[1]:.2f} / {v[2]:.2f} ms"]
                   for k, v in r["ef"].items()]],
                ["fresh process", "value"]))
    print(f"machine: {scale.machine_speed()} (shared machine; compare with bench/scale.py runs)")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def _pcts(ms: list[float]) -> list[str]:
    return [f"{_pct(ms, 50):.2f}", f"{_pct(ms, 95):.2f}", f"{_pct(ms, 99):.2f}", f"{statistics.mean(ms):.2f}"]


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). getrusage's ru_maxrss survives fork + exec on Linux, so
    a child started from a process holding the encoders would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cmd_child(args) -> None:  # type: ignore[no-untyped-def]
    base_rss = peak_rss_mb()
    from qdrant_edge import (EdgeShard, Fusion, Prefetch, Query, QueryRequest, SearchParams,
                             SparseVector)

    path = Path(args.shard)
    qs = json.loads((path / "queries.json").read_text())
    t = time.perf_counter()
    shard = EdgeShard.load(str(path / "shard"))
    load_s = time.perf_counter() - t
    loaded_rss = peak_rss_mb()
    points = shard.info().points_count

    def dense(q, name, flt=None, params=None):  # type: ignore[no-untyped-def]
        if name not in q["dense"]:
            return None
        return QueryRequest(limit=100, query=Query.Nearest(q["dense"][name], using=name), filter=flt,
                            with_payload=False, params=params)

    def sparse(q, flt=None):  # type: ignore[no-untyped-def]
        return QueryRequest(limit=100, query=Query.Nearest(SparseVector(indices=q["si"], values=q["sv"]), using="keyword"),
                            filter=flt, with_payload=False)

    def fused(q, flt=None):  # type: ignore[no-untyped-def]
        pre = [Prefetch(limit=100, query=Query.Nearest(v, using=n)) for n, v in q["dense"].items()]
        if q["si"]:
            pre.append(Prefetch(limit=100, query=Query.Nearest(SparseVector(indices=q["si"], values=q["sv"]), using="keyword")))
        return QueryRequest(limit=100, prefetches=pre, query=Fusion.Rrf(k=60), filter=flt,
                            with_payload=["doc_id"])

    shapes = {
        "dense use-m3": lambda q, i: dense(q, "use-m3"),
        "dense minilm (English questions)": lambda q, i: dense(q, "minilm"),
        "dense use-m3 + filter": lambda q, i: dense(q, "use-m3", edge_filter(FILTERS[i % 4][1])),
        "dense use-m3 + filter language=en": lambda q, i: dense(q, "use-m3", edge_filter(FILTERS[0][1])),
        "dense use-m3 + filter doc_type": lambda q, i: dense(q, "use-m3", edge_filter(FILTERS[1][1])),
        "dense use-m3 + filter year range": lambda q, i: dense(q, "use-m3", edge_filter(FILTERS[2][1])),
        "sparse keyword": lambda q, i: sparse(q) if q["si"] else None,
        "sparse keyword + filter": lambda q, i: sparse(q, edge_filter(FILTERS[i % 4][1])) if q["si"] else None,
        "fused RRF (use-m3, minilm, keyword), 1 call": lambda q, i: fused(q),
        "fused RRF + filter": lambda q, i: fused(q, edge_filter(FILTERS[i % 4][1])),
    }
    for q in qs[:50]:  # warm-up
        for i, make in enumerate(shapes.values()):
            req = make(q, i)
            if req is not None:
                shard.query(req)
    timings: dict[str, list[float]] = {}
    for name, make in shapes.items():
        ms = []
        for i, q in enumerate(qs):
            req = make(q, i)
            if req is None:
                continue
            t = time.perf_counter()
            shard.query(req)
            ms.append((time.perf_counter() - t) * 1000)
        timings[name] = ms
    queries_rss = peak_rss_mb()  # before the exact searches below read every stored vector
    recall, exact = {}, {}
    for name in DIMS:
        hits, ms = [], []
        for q in qs[:100]:
            if name not in q["dense"]:
                continue
            approx = {p.id for p in shard.query(dense(q, name))}
            t = time.perf_counter()
            truth = {p.id for p in shard.query(dense(q, name, params=SearchParams(exact=True)))}
            ms.append((time.perf_counter() - t) * 1000)
            hits.append(len(approx & truth) / max(len(truth), 1))
        recall[name], exact[name] = statistics.mean(hits), ms
    ef = {}  # recall against exact search and latency, per HNSW beam width
    for name in DIMS:
        for width in (64, 128, 256, 512):
            hits, ms = [], []
            for q in qs[:100]:
                if name not in q["dense"]:
                    continue
                truth = {p.id for p in shard.query(dense(q, name, params=SearchParams(exact=True)))}
                t = time.perf_counter()
                approx = {p.id for p in shard.query(dense(q, name, params=SearchParams(hnsw_ef=width)))}
                ms.append((time.perf_counter() - t) * 1000)
                hits.append(len(approx & truth) / max(len(truth), 1))
            ef[f"{name} ef={width}"] = (statistics.mean(hits), _pct(ms, 50), _pct(ms, 95))
    shard.close()
    print(json.dumps({"load_s": load_s, "points": points, "timings": timings, "recall": recall, "exact": exact,
                      "ef": ef, "base_rss_mb": base_rss, "loaded_rss_mb": loaded_rss, "peak_rss_mb": queries_rss,
                      "final_rss_mb": peak_rss_mb()}))


# --- keyword parity on Cranfield -----------------------------------------------------------------
def cmd_parity(args) -> None:  # type: ignore[no-untyped-def]
    from qdrant_edge import Query, QueryRequest, SparseVector

    from hub.core import Hub
    from hub.settings import Settings

    if args.library:  # the judged library (bench/quality.py's home): three languages, files by name
        home = Path(args.library)
        judged = [j for j in judged_library() if args.split in (None, j.get("split"))]
        queries = {str(i): j["query"] for i, j in enumerate(judged)}
        qrels = {str(i): {n: int(g) for n, g in j["relevant"].items()} for i, j in enumerate(judged)}
        name = lambda source: Path(source).name  # noqa: E731
    else:
        home = Path(args.cranfield)
        _, queries, qrels = load_beir(BENCHMARKS / "cranfield")
        name = lambda source: Path(source).stem  # noqa: E731
    data = load_terms(home)
    cat = sqlite3.connect(f"file:{home / 'catalog.sqlite'}?mode=ro", uri=True)
    source_of = {d: name(s) for d, s in cat.execute("SELECT id, source FROM documents")}
    cat.close()
    # The hub's own keyword mode, as bench/quality.py measures it (the home is read as it is).
    hub = Hub(Settings.from_env(None, home=home, progress=False))
    hub_ndcg, words = {}, {}
    t = time.perf_counter()
    for qid, text in queries.items():
        hits = hub.search(text, limit=100, mode="keyword").hits
        hub_ndcg[qid] = ndcg_at([name(h.source) for h in hits], qrels[qid])
        words[qid] = hub_query_words(text, hub.thesaurus)
    hub_ms = (time.perf_counter() - t) * 1000 / len(queries)
    hub.close()
    phrases = sum(1 for w in words.values() if any(p for _, _, p in w))
    rows = [["hub keyword mode (BM25 matrix)", "", f"{statistics.mean(hub_ndcg.values()):.4f}", "",
             f"{hub_ms:.1f} (whole search)"]]
    results = {}
    variants = [(v, True) for v in VARIANTS] + [("bm25", False)]
    for variant, pairs in variants:
        label = variant if pairs else f"{variant} (no pair terms)"
        idx, val, stats = sparse_rows(data, variant, pairs)
        shards = CRANFIELD_SHARDS if not args.library else WORK / "edge-library"
        shard = create_shard(shards / label.replace(" ", "_"), dense=False, modifier=VARIANTS[variant][1])
        fill(shard, data["payloads"], idx, val, None)
        shard.optimize()
        scores, ms = {}, []
        for qid in queries:
            si, sv = query_sparse(words[qid], variant)
            t = time.perf_counter()
            points = shard.query(QueryRequest(limit=args.depth, query=Query.Nearest(SparseVector(indices=si, values=sv),
                                                                               using="keyword"),
                                              with_payload=["doc_id"])) if si else []
            ms.append((time.perf_counter() - t) * 1000)
            ranked = list(dict.fromkeys(source_of[p.payload["doc_id"]] for p in points))  # best passage per doc
            scores[qid] = ndcg_at(ranked, qrels[qid])
        shard.close()
        mean = statistics.mean(scores.values())
        results[label] = mean
        delta = 100 * (mean - statistics.mean(hub_ndcg.values()))
        same = sum(1 for q in queries if abs(scores[q] - hub_ndcg[q]) < 1e-9)
        rows.append([label, VARIANTS[variant][0], f"{mean:.4f}", f"{delta:+.2f} ({same}/{len(queries)} equal)",
                     f"{statistics.median(ms):.2f} (Edge query)"])
    print(f"{'judged library' if args.library else 'Cranfield'}: {len(queries)} queries, {len(data['payloads'])} passages, {stats['keys']} keys, "
          f"{stats['collisions']} hash collisions; {phrases} queries carry a thesaurus phrase")
    print(table(rows, ["keyword ranking", "sparse values", "nDCG@10", "vs hub (points)", "ms/query"]))


def cmd_pairs(args) -> None:  # type: ignore[no-untyped-def]
    """What the adjacent-pair terms (phrases of thesaurus expansions) cost: sparse-only shards of
    the 100k home with and without them, disk and the RSS of a fresh process that loads one."""
    data = load_terms(Path(args.home))
    rows = []
    for pairs in (True, False):
        idx, val, stats = sparse_rows(data, "bm25", pairs)
        path = WORK / ("edge-sparse-pairs" if pairs else "edge-sparse-nopairs")
        shard = create_shard(path, dense=False, modifier=True)
        t = time.perf_counter()
        fill(shard, data["payloads"], idx, val, None)
        shard.optimize()
        shard.flush()
        shard.close()
        took = time.perf_counter() - t
        probe = ("import time; from qdrant_edge import EdgeShard; t = time.perf_counter(); "
                 f"s = EdgeShard.load({str(path)!r}); print(time.perf_counter() - t, "
                 "open('/proc/self/status').read().split('VmHWM:')[1].split()[0])")
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
        rows.append(["with pair terms" if pairs else "without pair terms", f"{sum(len(i) for i in idx):,}",
                     f"{took:.0f}", f"{disk_mb(path):.0f}", f"{float(out[0]):.2f}", f"{int(out[1]) / 1024:.0f}"])
    print(table(rows, ["sparse keyword only, 100k", "entries", "build+optimise s", "disk MB", "load s",
                       "RSS after load MB"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "latency", "parity", "pairs", "all", "_child"])
    parser.add_argument("--home", default=str(HOME_100K))
    parser.add_argument("--shard", default=str(SHARD_100K))
    parser.add_argument("--cranfield", default=str(CRANFIELD_HOME))
    parser.add_argument("--library", nargs="?", const=str(LIBRARY_HOME), default=None,
                        help="parity: the judged library's questions on its bench home instead of Cranfield")
    parser.add_argument("--split", choices=["tune", "validation"], default=None)
    parser.add_argument("--depth", type=int, default=100, help="parity: passages each Edge query returns")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--layout", choices=["plain", "lean"], default="plain",
                        help="build: plain float32 vectors, or lean (int8 in RAM, float32 on disk)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.command in ("build", "all"):
        cmd_build(args)
    if args.command in ("latency", "all"):
        cmd_latency(args)
    if args.command in ("parity", "all"):
        cmd_parity(args)
    if args.command == "pairs":
        cmd_pairs(args)
    if args.command == "_child":
        cmd_child(args)


if __name__ == "__main__":
    main()
