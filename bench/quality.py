"""Retrieval quality of the hub's three modes: nDCG@10 and recall@100.

    python bench/quality.py                     # every BEIR folder in ../shared/benchmarks + the judged library
    python bench/quality.py --beir PATH ...     # any folder(s) in the BEIR layout
    python bench/quality.py --no-library
    python bench/quality.py --no-unrelated      # skip the library among unrelated real-world files
    python bench/quality.py --no-served         # skip the library as `make run` serves it

Documents are ingested through the real pipeline into a home under $HUB_BENCH_DIR
(/tmp/hub-bench), kept between runs so only the first run embeds.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from _common import (BENCHMARKS, DOCUMENTS, LIBRARY, bench_hub, beir_files, judged_library, load_beir, ndcg_at, short_searches,
                     recall_at, table)

MODES = ("keyword", "dense", "hybrid")


def evaluate(hub, queries: dict[str, str], qrels: dict[str, dict[str, int]], key) -> dict[str, tuple[float, float, list]]:
    out = {}
    for mode in MODES:
        ndcgs, recalls = [], []
        per_query = []
        for qid, text in queries.items():
            hits = hub.search(text, limit=100, mode=mode).hits
            ranked = [key(h) for h in hits]
            n = ndcg_at(ranked, qrels[qid])
            ndcgs.append(n)
            recalls.append(recall_at(ranked, qrels[qid]))
            per_query.append((qid, n, ranked[0] if ranked else None))
        out[mode] = (statistics.mean(ndcgs), statistics.mean(recalls), per_query)
    return out


def run_beir(folder: Path) -> dict:
    corpus_dir = beir_files(folder)
    hub, report = bench_hub(f"beir-{folder.name}", [corpus_dir])
    _, queries, qrels = load_beir(folder)
    try:
        return evaluate(hub, queries, qrels, key=lambda h: Path(h.source).stem)
    finally:
        hub.close()


def run_library(show_failures: bool, unrelated: bool = False, served: bool = False) -> tuple[dict, dict]:
    """The judged library; ``unrelated``: with the 230 files of ../shared/benchmarks/realworld
    beside it (test PDFs and web pages of other projects, in a dozen languages), as a city's
    library holds reports and minutes that answer none of these questions; ``served``: the whole
    bundled library as ``make run`` seeds it (the evidence notes and the practice profiles beside
    the documents), where a stranger's documents land too."""
    if served:
        hub, report = bench_hub("library", [LIBRARY])
    elif unrelated:
        hub, report = bench_hub("library-unrelated", [DOCUMENTS, BENCHMARKS / "realworld"])
    else:
        hub, report = bench_hub("library-documents", [DOCUMENTS])
    judged = judged_library() + short_searches()
    queries = {str(i): j["query"] for i, j in enumerate(judged)}
    qrels = {str(i): {name: int(g) for name, g in j["relevant"].items()} for i, j in enumerate(judged)}
    try:
        results = evaluate(hub, queries, qrels, key=lambda h: Path(h.source).name)
    finally:
        hub.close()
    if show_failures:
        for qid, n, _ in results["hybrid"][2]:
            if n < 0.75:
                print(f"  weak hybrid query ({n:.2f}, {judged[int(qid)].get('split')}): {queries[qid]!r} "
                      f"-> {judged[int(qid)]['relevant']}")
    return results, {str(i): j for i, j in enumerate(judged)}


def library_rows(res: dict, judged: dict, prefix: str = "library",
                 splits: tuple[str, ...] = ("tune", "validation", "short tune", "short validation"),
                 batches: bool = True) -> list[list[str]]:
    """The judged library by split (tune, validation, and the short searches), whole and
    cross-lingual."""
    rows = []
    cross = {qid for qid, j in judged.items() if j["language"] != _lang_of_best(j)}
    for split in splits:
        ids = {qid for qid, j in judged.items() if j.get("split") == split}
        # Each batch of situations written after the tuning (`set: fresh`, `fresh-2`...), apart:
        # the nearest this team has to a stranger's questions.
        sets = sorted({j["set"] for qid, j in judged.items() if qid in ids and j.get("set")}) if batches else []
        subsets = [(f"{prefix} {split}", ids), (f"{prefix} {split} cross-lingual", ids & cross)]
        subsets += [(f"{prefix} {split}, {'fresh situations' if b == 'fresh' else b}",
                     {qid for qid in ids if judged[qid].get("set") == b}) for b in sets]
        for label, subset in subsets:
            if not subset:
                continue
            for mode in MODES:
                per = {q: n for q, n, _ in res[mode][2]}
                zeros = sum(1 for q in subset if per[q] == 0)
                rows.append([label, mode, f"{statistics.mean(per[q] for q in subset):.3f}", "",
                             f"{len(subset)} ({zeros} at 0)"])
    return rows


def same_first(res: dict, judged: dict) -> dict[str, tuple[int, int]]:
    """Per split, of the situations asked in English, French and Spanish (``group``), how many get
    the same first document in the three languages (hybrid): the same question must get the same
    answer whatever its language (a measure, not tuned on)."""
    first = {q: doc for q, _, doc in res["hybrid"][2]}
    groups: dict[tuple[str, str], set] = {}
    for qid, j in judged.items():
        if j.get("group"):
            groups.setdefault((j["split"], j["group"]), set()).add(first.get(qid))
    out: dict[str, tuple[int, int]] = {}
    for (split, _), docs in sorted(groups.items()):
        same, total = out.get(split, (0, 0))
        out[split] = (same + (len(docs) == 1 and None not in docs), total + 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--beir", nargs="*", type=Path, help="BEIR-layout folders (default: all in ../shared/benchmarks)")
    parser.add_argument("--no-library", action="store_true")
    parser.add_argument("--no-unrelated", action="store_true", help="skip the library among unrelated files")
    parser.add_argument("--no-served", action="store_true", help="skip the library as `make run` serves it")
    parser.add_argument("--failures", action="store_true", help="list weak judged-library queries")
    args = parser.parse_args()

    folders = args.beir if args.beir is not None else sorted(
        p for p in BENCHMARKS.iterdir() if (p / "corpus.jsonl").exists()) if BENCHMARKS.exists() else []
    rows = []
    for folder in folders:
        res = run_beir(folder)
        for mode in MODES:
            rows.append([folder.name, mode, f"{res[mode][0]:.3f}", f"{res[mode][1]:.3f}", str(len(res[mode][2]))])
    if not args.no_library:
        res, judged = run_library(args.failures)
        rows += library_rows(res, judged)
        agreement = same_first(res, judged)
        if not args.no_unrelated and (BENCHMARKS / "realworld").exists():
            res, judged = run_library(False, unrelated=True)
            rows += library_rows(res, judged, prefix="library among unrelated files", splits=("tune", "validation"),
                                 batches=False)
        if not args.no_served:
            res, judged = run_library(False, served=True)
            rows += library_rows(res, judged, prefix="library as served", splits=("tune", "validation"),
                                 batches=False)
    print(table(rows, ["collection", "mode", "nDCG@10", "recall@100", "queries"]))
    if not args.no_library:
        print("same first document for a situation asked in en/fr/es (library, hybrid): "
              + ", ".join(f"{split} {same}/{total}" for split, (same, total) in agreement.items()))
    losses = _losses(rows)
    print("hybrid >= best single mode on every collection" if not losses else
          "hybrid below a single mode on: " + "; ".join(losses))


def _losses(rows: list[list[str]]) -> list[str]:
    by_collection: dict[str, dict[str, float]] = {}
    for collection, mode, ndcg, *_ in rows:
        by_collection.setdefault(collection, {})[mode] = float(ndcg)
    return [f"{c} ({m['hybrid']:.3f} < {max(m['dense'], m['keyword']):.3f})" for c, m in by_collection.items()
            if m["hybrid"] < max(m["dense"], m["keyword"]) - 1e-9]


def _lang_of_best(judged: dict) -> str:
    best = max(judged["relevant"].items(), key=lambda kv: kv[1])[0]
    parts = best.split(".")
    return parts[-2] if len(parts) >= 3 else "?"


if __name__ == "__main__":
    main()
