"""How well the recommender ranks practices for the judged advisory questions.

    python bench/advice.py [--show]

Prints top-1 and top-3 accuracy (an appropriate practice first / in the first three), how often
a harmful practice leaked into the recommendations, and whether every expected "avoid" showed.
"""

from __future__ import annotations

import argparse
import statistics
import time

import yaml

from _common import JUDGED, LIBRARY, bench_hub

ADVICE = JUDGED.with_name("advice.yaml")


def evaluate(hub, judged: list[dict], show: bool = False) -> dict:
    top1, top3, leaks, avoided, times = [], [], 0, [], []
    for item in judged:
        started = time.perf_counter()
        advice = hub.recommend(item["question"], limit=5, context=item.get("context") or {})
        times.append((time.perf_counter() - started) * 1000)
        ids = [r.practice.id for r in advice.recommendations]
        good = set(item["appropriate"])
        top1.append(bool(ids) and ids[0] in good)
        top3.append(bool(good & set(ids[:3])))
        leaks += sum(r.practice.rating.key == "harmful" for r in advice.recommendations)
        for harmful in item.get("avoid") or []:
            avoided.append(harmful in [r.practice.id for r in advice.avoid])
        if show and not top1[-1]:
            print(f"  {'top3' if top3[-1] else 'MISS'}: {item['question']!r} -> {ids[:3]} (want {sorted(good)})")
    return {"questions": len(judged), "top1": statistics.mean(top1), "top3": statistics.mean(top3),
            "harmful_recommended": leaks, "avoid_shown": f"{sum(avoided)}/{len(avoided)}",
            "p50_ms": sorted(times)[len(times) // 2]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list questions whose first practice is wrong")
    args = parser.parse_args()
    hub, _ = bench_hub("library", [LIBRARY])
    result = evaluate(hub, yaml.safe_load(ADVICE.read_text(encoding="utf-8")), args.show)
    hub.close()
    print(f"{result['questions']} questions: top-1 {result['top1']:.0%}, top-3 {result['top3']:.0%}, "
          f"harmful recommended {result['harmful_recommended']}, avoid shown {result['avoid_shown']}, "
          f"recommend p50 {result['p50_ms']:.0f} ms")


if __name__ == "__main__":
    main()
