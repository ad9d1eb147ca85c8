"""Search and recommend at 10k, 50k and 100k passages: latency, start-up, memory, index size.

    python bench/scale.py [--sizes 10000,50000,100000] [--queries 300]

The corpus is real text recombined: the sentences of the Cranfield collection and of the sample
library, grouped into documents of about twenty passages (each passage a run of sentences from
one source, with one sentence from elsewhere), with document types, languages, tags and years
spread over them so that filters have something to select. The documents go through the real
ingest pipeline into real stores. Only the embedding is shortened: every sentence is embedded
once by the real model (cached on disk) and a passage's vector is the normalised mean of its
sentences' vectors, since embedding 100,000 passages would take this machine over half an hour.

Each size is measured in a fresh process (start-up and peak memory are that process's), with
every query run once without and once with filters (language, document type and year, in turn).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from _common import BENCHMARKS, DOCUMENTS, JUDGED, LIBRARY, ROOT, WORK, load_beir, peak_rss_mb

SCALE = WORK / "scale"
TYPES = ["evaluation", "review", "case study", "guide", "diagnosis", "report"]
TAGS = ["lighting", "youth", "transport", "women", "policing", "schools", "parks", "housing", "drugs", "cctv"]
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý¿¡])")
ANY_SENTENCE = re.compile(r"(?<=[.!?])\s+")
CRANFIELD_SENTENCE = re.compile(r"\s+\.\s+")  # lower-cased abstracts: "... a slipstream . an experimental ..."


def sentence_pool() -> list[tuple[str, str, str]]:
    """(source title, language, sentence) from Cranfield and the sample library."""
    from ingest.files import FORMATS
    from ingest.pipeline import load

    pool = []
    corpus, _, _ = load_beir(BENCHMARKS / "cranfield")
    for row in corpus.values():
        title = (row.get("title") or "").strip() or "Cranfield abstract"
        for s in CRANFIELD_SENTENCE.split(" ".join(str(row.get("text", "")).split())):
            if len(s.split()) >= 5:
                pool.append((title, "en", s.strip(" .") + "."))
    for path in sorted(DOCUMENTS.rglob("*")) + sorted((LIBRARY / "evidence").rglob("*")):
        fmt = FORMATS.get(path.suffix.lower())
        if not fmt:
            continue
        loaded = load(fmt, str(path), path.read_bytes())
        lang = loaded.language or ("fr" if ".fr." in path.name else "es" if ".es." in path.name else "en")
        for section in loaded.sections:
            for s in SENTENCE.split(" ".join(section.text.split())):
                if len(s.split()) >= 5:
                    pool.append((loaded.title, lang[:2], s))
    return pool


def sentence_vectors(sentences: list[str]) -> np.ndarray:
    from hub.settings import Settings

    digest = hashlib.sha1("\n".join([Settings.from_env().model, *sentences]).encode()).hexdigest()[:12]
    path = SCALE / f"sentences-{digest}.npy"
    if path.exists():
        return np.load(path)
    from search.embedder import Embedder

    started = time.perf_counter()
    from hub.settings import Settings

    settings = Settings.from_env()
    vectors = Embedder(settings.model).embed(sentences, batch_size=64)
    print(f"embedded {len(sentences)} sentences in {time.perf_counter() - started:.0f}s (cached in {path})",
          file=sys.stderr)
    SCALE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def write_corpus(pool: list[tuple[str, str, str]], documents: int) -> Path:
    """Markdown files with front matter, about twenty passages each; deterministic."""
    folder = SCALE / "corpus"
    marker = folder / f".complete-{documents}"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    by_source: dict[str, list[int]] = {}
    for i, (title, _, _) in enumerate(pool):
        by_source.setdefault(title, []).append(i)
    sources = list(by_source)
    for n in range(documents):
        source = sources[rng.randrange(len(sources))]
        rows = by_source[source]
        lang = pool[rows[0]][1]
        paras = []
        for _ in range(20):
            start = rng.randrange(len(rows))
            picked = [rows[(start + k) % len(rows)] for k in range(rng.randint(5, 9))]
            picked.insert(rng.randrange(len(picked)), rng.randrange(len(pool)))
            paras.append(" ".join(pool[i][2] for i in picked))
        meta = {"title": f"{source[:80]} ({n})", "doc_type": TYPES[n % len(TYPES)], "language": lang,
                "year": 1990 + n % 35, "tags": rng.sample(TAGS, 2)}
        front = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in meta.items())
        body = "\n\n".join(f"## Part {i + 1}\n\n{p}" for i, p in enumerate(paras))
        (folder / f"doc-{n:05d}.md").write_text(f"---\n{front}\n---\n\n{body}\n", encoding="utf-8")
    marker.write_text("ok")
    return folder


class MeanOfSentences:
    """Stands in for the model at build time only: mean of the real sentence vectors found in a text."""

    def __init__(self, pool: list[tuple[str, str, str]], vectors: np.ndarray) -> None:
        from hub.settings import Settings
        from search.embedder import Embedder, model_name

        # It stands in for the configured model, whose name the home records (hub/models.py),
        # and whose encoders name the stored vectors (parts, split: no model is loaded).
        self.name = model_name(Settings.from_env().model)
        model = Embedder(self.name)
        self.parts, self.split, self.join, self.dim = model.parts, model.split, model.join, model.dim
        self.index = {s: i for i, (_, _, s) in enumerate(pool)}
        self.vectors = vectors

    def embed_cached(self, texts: list[str], cache, batch_size: int = 32):  # type: ignore[no-untyped-def]
        return self.embed(texts, batch_size), len(texts)

    def multilingual(self) -> None:
        """No encoder for the lexicon's words while building: the real one embeds them once the
        home is built (``build``), as an ingest with the real model would have."""
        return None

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        for t, text in enumerate(texts):
            rows = [self.index[s] for s in ANY_SENTENCE.split(" ".join(text.split())) if s in self.index]
            v = self.vectors[rows].mean(axis=0) if rows else self.vectors[hash(text) % len(self.vectors)]
            out[t] = v / (np.linalg.norm(v) or 1.0)
        return out


def build(size: int, pool, vectors, docs_per_passage: float = 1 / 20) -> Path:
    from hub.core import Hub
    from hub.settings import Settings

    from search.embedder import model_name

    home = SCALE / f"home-{size}-{model_name(Settings.from_env().model)}"
    if (home / ".complete").exists():
        from hub.models import outdated_words
        from search.upgrade import old_layout, outdated_shard, payload_indexes_in_heap

        settings = Settings.from_env({}, home=home, progress=False)
        # Built by an earlier hub: upgraded as `hub upgrade` does, with this stand-in giving
        # the vectors where it needs them (the embedding cache never held them).
        with Hub(settings, embedder=MeanOfSentences(pool, vectors)) as hub:
            if (old_layout(settings) or outdated_shard(settings) or outdated_words(hub.catalog)
                    or payload_indexes_in_heap(settings)):
                started = time.perf_counter()
                hub.upgrade()
                hub.speller.suggest("warm up")
                print(f"upgraded {home.name} in {time.perf_counter() - started:.0f}s", file=sys.stderr)
        return home
    documents = int(size * docs_per_passage * 1.02)
    folder = write_corpus(pool, documents)
    files = sorted(folder.glob("doc-*.md"))[:documents]
    started = time.perf_counter()
    hub = Hub(Settings.from_env({}, home=home, progress=True), embedder=MeanOfSentences(pool, vectors))
    hub.ingest([LIBRARY / "practices"])
    for start in range(0, len(files), 500):
        hub.ingest(files[start:start + 500])
    counts = hub.catalog.counts()
    hub.close()
    with Hub(Settings.from_env({}, home=home, progress=False)) as hub:
        hub.lexicon.refresh()  # the library's words, by the real multilingual encoder
    (home / ".complete").write_text(json.dumps(counts))
    print(f"built {size}: {counts['passages']} passages in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return home


def queries(limit: int) -> list[str]:
    import yaml

    cranfield = list(load_beir(BENCHMARKS / "cranfield")[1].values())
    judged = [q["query"] for q in yaml.safe_load(JUDGED.read_text(encoding="utf-8"))]
    advice = [q["question"] for q in yaml.safe_load((ROOT / "bench/judged/advice.yaml").read_text(encoding="utf-8"))]
    mixed = [q for pair in zip(cranfield, judged + advice + cranfield) for q in pair]
    return list(dict.fromkeys(mixed))[:limit]


FILTERS = [{"language": ["en"]}, {"doc_type": ["evaluation", "review"]}, {"year": "2005..2020"},
           {"tags": ["lighting"]}]


def measure(home: Path, n_queries: int) -> dict:
    """Runs in a child process: start-up, then every query with and without a filter."""
    started = time.perf_counter()
    from hub.core import Hub
    from hub.settings import Settings

    hub = Hub(Settings.from_env({}, home=home, progress=False))
    hub.warm_up()
    hub.search("warm up the caches", limit=10)
    startup = time.perf_counter() - started
    qs = queries(n_queries)
    plain, filtered, advice = [], [], []
    # The question vectors the embedder remembers, and the lexicon's translations of recent questions.
    memos = [getattr(hub.embedder(), "_queries", {}), getattr(hub.lexicon, "_recent", {})]
    for i, q in enumerate(qs):
        # Every timed query embeds its text afresh: the hub remembers recent query vectors, which
        # would make the filtered run of the same text look faster than it is.
        for memo in memos:
            memo.clear()
        t = time.perf_counter()
        hub.search(q, limit=10)
        plain.append((time.perf_counter() - t) * 1000)
        for memo in memos:
            memo.clear()
        t = time.perf_counter()
        hub.search(q, limit=10, filters=FILTERS[i % len(FILTERS)])
        filtered.append((time.perf_counter() - t) * 1000)
    for q in qs[: max(200, n_queries // 2)]:
        for memo in memos:
            memo.clear()
        t = time.perf_counter()
        hub.recommend(q)
        advice.append((time.perf_counter() - t) * 1000)
    counts = hub.catalog.counts()
    hub.close()
    return {"passages": counts["passages"], "documents": counts["documents"], "startup_s": startup,
            "queries": len(qs), "search": plain, "filtered": filtered, "recommend": advice,
            "peak_rss_mb": peak_rss_mb()}


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def machine_speed() -> str:
    """How fast this shared machine runs right now: a fixed pure-Python loop (ms) and a 256 MB
    memory copy (GB/s), best of three each. Search latency follows both."""
    loop = copy = float("inf")
    source, target = np.ones(32 * 1024 * 1024), np.empty(32 * 1024 * 1024)
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(3_000_000):
            total += i
        loop = min(loop, time.perf_counter() - started)
        started = time.perf_counter()
        np.copyto(target, source)
        copy = min(copy, time.perf_counter() - started)
    return f"Python loop {loop * 1000:.0f} ms, memory copy {source.nbytes / copy / 1e9:.1f} GB/s"


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1048576


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child), args.queries)))
        return
    pool = sentence_pool()
    vectors = sentence_vectors([s for _, _, s in pool])
    speed_before = machine_speed()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        home = build(size, pool, vectors)
        out = subprocess.run([sys.executable, __file__, "--child", str(home), "--queries", str(args.queries)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        r["index_mb"] = {name: size_mb(home / name) if (home / name).is_dir() else (home / name).stat().st_size / 1048576
                         for name in ("edge", "qdrant", "whoosh", "catalog.sqlite") if (home / name).exists()}
        rows.append(r)
    from hub.settings import Settings

    print(f"model: {Settings.from_env().model} (query embedding included); {args.queries} queries per size, each also run with a "
          f"filter (language / type / year / tag in turn); recommend over {max(200, args.queries // 2)} questions")
    head = (f"{'passages':>9} {'docs':>6} | {'search p50':>10} {'p95':>6} {'p99':>6} | {'filtered p50':>12} {'p95':>6} "
            f"{'p99':>6} | {'recommend p50':>13} {'p95':>6} {'p99':>6} | {'start-up':>8} | {'peak RSS':>8} | index MB")
    print(head)
    print("-" * len(head))
    for r in rows:
        idx = ", ".join(f"{k} {v:.0f}" for k, v in r["index_mb"].items())
        print(f"{r['passages']:>9} {r['documents']:>6} | {pct(r['search'], 50):>8.1f}ms {pct(r['search'], 95):>5.1f} "
              f"{pct(r['search'], 99):>6.1f} | {pct(r['filtered'], 50):>10.1f}ms {pct(r['filtered'], 95):>5.1f} "
              f"{pct(r['filtered'], 99):>6.1f} | {pct(r['recommend'], 50):>11.1f}ms {pct(r['recommend'], 95):>5.1f} "
              f"{pct(r['recommend'], 99):>6.1f} | {r['startup_s']:>7.1f}s | {r['peak_rss_mb']:>6.0f}MB | {idx}")
    print(f"(median of all searches, unfiltered: {statistics.median(rows[-1]['search']):.1f} ms at the largest size)")
    print(f"machine speed before: {speed_before}; after: {machine_speed()} (this shared machine's speed "
          "changes from minute to minute: compare runs with this in mind)")


if __name__ == "__main__":
    main()
