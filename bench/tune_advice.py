"""The recommender's weights on the tuning half of bench/judged/advice.yaml only.

    python bench/tune_advice.py [--grid CONCEPT_SHARE=0,0.25,0.5 PROFILE_SHARE=0.6,0.8 ...]

Each name is a constant of practices/recommender.py; every combination is scored (top-1, top-3,
the largest gap between languages in top-1, and two finer figures that still move when top-1 no
longer does: the mean reciprocal rank of the first appropriate practice, and how much the top 3
of one situation agree across its English, French and Spanish questions). bench/advice.py then
reports both halves for the chosen values.
"""

from __future__ import annotations

import argparse
import itertools

import yaml

from _common import LIBRARY, bench_hub
from advice import ADVICE, evaluate

DEFAULT_GRID = ["CONCEPT_SHARE=0,0.25,0.5", "PROFILE_SHARE=0.5,0.7,0.9"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", nargs="*", default=DEFAULT_GRID)
    args = parser.parse_args()
    import practices.recommender as recommender

    grid = {k: [float(v) for v in vs.split(",")] for k, vs in (g.split("=") for g in args.grid)}
    hub, _ = bench_hub("library", [LIBRARY])
    tune = [j for j in yaml.safe_load(ADVICE.read_text(encoding="utf-8")) if j.get("split") == "tune"]
    print("setting | top-1 | top-3 | top-1 en/fr/es | MRR | top-3 agreement")
    for values in itertools.product(*grid.values()):
        for name, value in zip(grid, values):
            setattr(recommender, name, value)
        overall = evaluate(hub, tune)
        per = {lang: evaluate(hub, [j for j in tune if j["language"] == lang])["top1"] for lang in ("en", "fr", "es")}
        mrr, agreement = finer(hub, tune)
        print(f"{dict(zip(grid, values))} | {overall['top1']:.0%} | {overall['top3']:.0%} | "
              + "/".join(f"{v:.0%}" for v in per.values()) + f" | MRR {mrr:.3f} | top-3 agreement {agreement:.2f}",
              flush=True)
    hub.close()


def finer(hub, judged: list[dict]) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Mean reciprocal rank of the first appropriate practice in the top 10, and the mean share
    of practices that two languages' top 3 of the same situation have in common."""
    ranks, tops = [], {}
    for item in judged:
        ids = [r.practice.id for r in hub.recommend(item["question"], limit=10,
                                                    context=item.get("context") or {}).recommendations]
        good = set(item["appropriate"])
        ranks.append(next((1 / i for i, pid in enumerate(ids, start=1) if pid in good), 0.0))
        if item.get("group"):
            tops.setdefault(item["group"], []).append(set(ids[:3]))
    pairs = [len(a & b) / 3 for sets in tops.values() for i, a in enumerate(sets) for b in sets[i + 1:]]
    return sum(ranks) / len(ranks), (sum(pairs) / len(pairs) if pairs else 1.0)


if __name__ == "__main__":
    main()
