"""Is a change of settings more than noise? Today's settings against changed ones, question by
question, on both halves of every judged set, with a 95% interval for each difference.

    python bench/compare.py dense_weight=0.8 [lexicon_reach=0.5 ...] [--advice] [--no-cranfield]

Each judged question is asked with both settings in the same process, on the same homes as
bench/quality.py and bench/advice.py. A difference is the mean of the per-question differences
(hybrid nDCG@10; with ``--advice``, the first practice appropriate or not), and its interval a
paired bootstrap over the questions: when it straddles 0, the halves cannot tell the two
settings apart, whatever the means say. Read the validation rows only to accept or refuse a
change chosen on the tuning rows.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Callable

import yaml

from _common import (BENCHMARKS, DOCUMENTS, LIBRARY, beir_files, bench_hub, configure, judged_library, load_beir,
                     ndcg_at, paired_interval, table)
from advice import ADVICE
from tune import _value


def _subsets(judged: list[dict]) -> list[tuple[str, list[int]]]:
    """(label, indexes): each half, and within it each batch of situations written after the
    tuning (`set: fresh`, `fresh-2`...)."""
    out = []
    for split in ("tune", "validation"):
        ids = [i for i, j in enumerate(judged) if j.get("split") == split]
        out.append((split, ids))
        for batch in sorted({judged[i]["set"] for i in ids if judged[i].get("set")}):
            out.append((f"{split}, {batch}", [i for i in ids if judged[i].get("set") == batch]))
    return out


def _rows(label: str, subsets: list[tuple[str, list[int]]], before: list[float], after: list[float]) -> list[list[str]]:
    rows = []
    for name, ids in subsets:
        if not ids:
            continue
        diffs = [after[i] - before[i] for i in ids]
        low, high = paired_interval(diffs)
        rows.append([f"{label} {name}", str(len(ids)), f"{statistics.mean(before[i] for i in ids):.3f}",
                     f"{statistics.mean(after[i] for i in ids):.3f}", f"{statistics.mean(diffs):+.3f}",
                     f"[{low:+.3f}, {high:+.3f}]", f"{sum(d > 1e-9 for d in diffs)}/{sum(d < -1e-9 for d in diffs)}"])
    return rows


def _scores(hub, base, changes: dict, ask: Callable[[object], list[float]]) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    configure(hub, base)
    before = ask(hub)
    configure(hub, base, **changes)
    after = ask(hub)
    configure(hub, base)
    return before, after


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("changes", nargs="+", help="setting=value, as in HUB_* variables without the prefix")
    parser.add_argument("--advice", action="store_true", help="also the recommender on bench/judged/advice.yaml")
    parser.add_argument("--no-cranfield", action="store_true")
    args = parser.parse_args()
    changes = {k: _value(v) for k, v in (c.split("=", 1) for c in args.changes)}
    rows: list[list[str]] = []

    judged = judged_library()
    library, _ = bench_hub("library-documents", [DOCUMENTS])
    before, after = _scores(library, library.settings, changes, lambda hub: [
        ndcg_at([Path(h.source).name for h in hub.search(j["query"], limit=10).hits],
                {k: int(g) for k, g in j["relevant"].items()}) for j in judged])
    rows += _rows("library", _subsets(judged), before, after)
    library.close()

    if not args.no_cranfield:
        cranfield, _ = bench_hub("beir-cranfield", [beir_files(BENCHMARKS / "cranfield")])
        _, queries, qrels = load_beir(BENCHMARKS / "cranfield")
        ids = sorted(queries, key=int)
        before, after = _scores(cranfield, cranfield.settings, changes, lambda hub: [
            ndcg_at([Path(h.source).stem for h in hub.search(queries[q], limit=10).hits], qrels[q]) for q in ids])
        # Odd-numbered queries (the first, third...) are the tuning half (bench/tune.py).
        rows += _rows("cranfield", [("tune", list(range(0, len(ids), 2))), ("validation", list(range(1, len(ids), 2)))],
                      before, after)
        cranfield.close()

    if args.advice:
        items = yaml.safe_load(ADVICE.read_text(encoding="utf-8"))
        hub, _ = bench_hub("library", [LIBRARY])

        def first_right(h) -> list[float]:  # type: ignore[no-untyped-def]
            out = []
            for item in items:
                recs = h.recommend(item["question"], limit=3, context=item.get("context") or {}).recommendations
                out.append(float(bool(recs) and recs[0].practice.id in item["appropriate"]))
            return out

        before, after = _scores(hub, hub.settings, changes, first_right)
        subsets = _subsets(items)
        for split in ("tune", "validation"):
            subsets += [(f"{split} {lang}", [i for i, j in enumerate(items) if j.get("split") == split
                                             and j["language"] == lang]) for lang in ("en", "fr", "es")]
        rows += _rows("advice top-1", subsets, before, after)
        hub.close()

    print(f"{changes} against today's settings")
    print(table(rows, ["set", "questions", "today", "changed", "difference", "95% interval", "better/worse"]))


if __name__ == "__main__":
    main()
