"""Search settings on the tuning halves only: every combination of the query-time weights,
scored on the judged library's tuning half and Cranfield's tuning half (odd query ids).

    python bench/tune.py [--grid model_share=0.3,0.5 dense_weight_other=0.3,0.5 ...]

The homes are those of bench/quality.py (built once). The validation halves are never read
here: bench/quality.py reports them for the chosen setting.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from pathlib import Path

from _common import BENCHMARKS, DOCUMENTS, bench_hub, beir_files, configure, judged_library, load_beir, ndcg_at
from quality import _lang_of_best

DEFAULT_GRID = ["model_share=0.3,0.5,0.7", "dense_weight=0.5,0.6", "dense_weight_other=0.5,0.7"]


def tuning_cranfield() -> tuple[dict[str, str], dict[str, dict[str, int]]]:
    _, queries, qrels = load_beir(BENCHMARKS / "cranfield")
    ids = sorted(queries, key=int)[0::2]  # every other query: the first, third, ... are the tuning half
    return {q: queries[q] for q in ids}, {q: qrels[q] for q in ids}


def score(hub, queries: dict[str, str], qrels: dict[str, dict[str, int]], key) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {q: ndcg_at([key(h) for h in hub.search(t, limit=10).hits], qrels[q]) for q, t in queries.items()}


def _value(text: str):  # type: ignore[no-untyped-def]
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text) if text.isdigit() else float(text)
    except ValueError:
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", nargs="*", default=DEFAULT_GRID)
    parser.add_argument("--no-cranfield", action="store_true")
    parser.add_argument("--sets", help="only the library questions of these sets, comma-separated "
                                       "(e.g. fresh,fresh-2: the situations written after the tuning)")
    args = parser.parse_args()
    grid = {k: [_value(v) for v in vs.split(",")] for k, vs in (g.split("=") for g in args.grid)}
    judged = judged_library("tune")
    if args.sets:
        judged = [j for j in judged if j.get("set") in args.sets.split(",")]
    lib_q = {str(i): j["query"] for i, j in enumerate(judged)}
    lib_rel = {str(i): {n: int(g) for n, g in j["relevant"].items()} for i, j in enumerate(judged)}
    cross = {str(i) for i, j in enumerate(judged) if j["language"] != _lang_of_best(j)}
    library, _ = bench_hub("library-documents", [DOCUMENTS])
    cranfield = None
    if not args.no_cranfield:
        cranfield, _ = bench_hub("beir-cranfield", [beir_files(BENCHMARKS / "cranfield")])
        cran_q, cran_rel = tuning_cranfield()
    base = library.settings
    print("setting | library tune | cross-lingual | cranfield tune")
    for values in itertools.product(*grid.values()):
        changes = dict(zip(grid, values))
        for hub in (library, cranfield):
            if hub is not None:
                configure(hub, base, **changes)
        lib = score(library, lib_q, lib_rel, key=lambda h: Path(h.source).name)
        line = (f"{changes} | {statistics.mean(lib.values()):.3f} | "
                f"{statistics.mean(lib[q] for q in cross):.3f}")
        if cranfield is not None:
            cran = score(cranfield, cran_q, cran_rel, key=lambda h: Path(h.source).stem)
            line += f" | {statistics.mean(cran.values()):.3f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
