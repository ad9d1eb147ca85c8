"""Shared pieces of the benchmark scripts: building a hub over a corpus, and the metrics."""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import Iterable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from hub.core import Hub  # noqa: E402
from hub.settings import Settings  # noqa: E402

BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
LIBRARY = ROOT / "library"
#: The evidence documents the judged search set grades (practice profiles are judged by advice.yaml).
DOCUMENTS = LIBRARY / "documents"
JUDGED = ROOT / "bench" / "judged" / "search.yaml"
WORK = Path(os.environ.get("HUB_BENCH_DIR", "/tmp/hub-bench"))


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). getrusage's ru_maxrss survives fork + exec on Linux, so
    a child started from a process holding an index or the encoders would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ndcg_at(ranked: list[str], qrels: dict[str, int], k: int = 10) -> float:
    """nDCG with linear gains (as pytrec_eval and BEIR compute it)."""
    dcg = sum(qrels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted((g for g in qrels.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], qrels: dict[str, int], k: int = 100) -> float:
    relevant = {d for d, g in qrels.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def load_beir(folder: Path) -> tuple[dict[str, dict], dict[str, str], dict[str, dict[str, int]]]:
    corpus = {}
    with (folder / "corpus.jsonl").open() as fh:
        for line in fh:
            row = json.loads(line)
            corpus[str(row["_id"])] = row
    queries = {}
    with (folder / "queries.jsonl").open() as fh:
        for line in fh:
            row = json.loads(line)
            queries[str(row["_id"])] = row["text"]
    qrels: dict[str, dict[str, int]] = {}
    split = folder / "qrels" / "test.tsv"
    with split.open() as fh:
        next(fh)
        for line in fh:
            qid, did, score = line.rstrip("\n").split("\t")[:3]
            if int(score) > 0:
                qrels.setdefault(qid, {})[did] = int(score)
    return corpus, {q: t for q, t in queries.items() if q in qrels}, qrels


def beir_files(folder: Path) -> Path:
    """Write a BEIR corpus as text files (title on the first line), once, to ingest for real."""
    out = WORK / "corpora" / folder.name
    marker = out / ".complete"
    if marker.exists():
        return out
    out.mkdir(parents=True, exist_ok=True)
    corpus, _, _ = load_beir(folder)
    for doc_id, row in corpus.items():
        title = (row.get("title") or "").strip() or doc_id
        (out / f"{doc_id}.txt").write_text(f"{title}\n\n{row.get('text', '')}\n", encoding="utf-8")
    marker.write_text("ok")
    return out


def bench_hub(name: str, paths: Iterable[Path], **settings) -> tuple[Hub, object]:
    """A hub whose home persists between runs, so only the first run pays for embedding.
    HUB_* variables apply (e.g. HUB_DENSE_WEIGHT=0.5)."""
    config = Settings.from_env(None, progress=True, **settings)
    # One home per model: a home refuses vectors of another (hub/models.py).
    home = WORK / "homes" / f"{name}-{config.model.replace('/', '_')}"
    hub = Hub(Settings.from_env(None, home=home, progress=True, **settings))
    report = hub.ingest(list(paths))
    return hub, report


def configure(hub: Hub, base: Settings, **changes) -> None:
    """Give an open hub other query-time settings (``dense_weight=0.8``...), as a fresh hub with
    them would have, without opening its stores again."""
    import dataclasses

    # The passage indexes read their own reference to the settings (search/index.py).
    hub.settings = hub.index.settings = dataclasses.replace(base, home=hub.settings.home, **changes)
    emb = hub.embedder()
    emb.share = hub.settings.model_share
    emb._queries.clear()
    # The lexicon keeps the threshold it was made with, and its recent questions' words: without
    # this, the first setting's threshold would serve every later one.
    hub.lexicon.threshold = hub.settings.lexicon_threshold
    hub.lexicon._recent.clear()


def paired_interval(diffs: list[float], rounds: int = 10_000, seed: int = 13) -> tuple[float, float]:
    """95% bootstrap interval of the mean of per-question differences (the same questions
    resampled for both settings): a change whose interval straddles 0 is within noise."""
    import random

    if not diffs:
        return 0.0, 0.0
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(rng.choices(diffs, k=n)) / n for _ in range(rounds))
    return means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]


def judged_library(split: str | None = None) -> list[dict]:
    """The judged search questions; ``split``: only the 'tune' or the 'validation' half."""
    import yaml

    items = yaml.safe_load(JUDGED.read_text(encoding="utf-8"))
    return [j for j in items if split is None or j.get("split") == split]


def short_searches() -> list[dict]:
    """Searches of a word or two (judged/short.yaml): reported by bench/quality.py, never tuned on."""
    import yaml

    return yaml.safe_load(JUDGED.with_name("short.yaml").read_text(encoding="utf-8"))


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
