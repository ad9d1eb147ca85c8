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

from _common import JUDGED, LIBRARY, bench_hub, table

ADVICE = JUDGED.with_name("advice.yaml")


def evaluate(hub, judged: list[dict], show: bool = False) -> dict:
    top1, top3, leaks, avoided, times, firsts = [], [], 0, [], [], {}
    for item in judged:
        started = time.perf_counter()
        advice = hub.recommend(item["question"], limit=5, context=item.get("context") or {})
        times.append((time.perf_counter() - started) * 1000)
        ids = [r.practice.id for r in advice.recommendations]
        if item.get("group"):
            firsts.setdefault(item["group"], set()).add(ids[0] if ids else None)
        good = set(item["appropriate"])
        top1.append(bool(ids) and ids[0] in good)
        top3.append(bool(good & set(ids[:3])))
        leaks += sum(r.practice.rating.key in ("harmful", "no-effect") for r in advice.recommendations)
        for harmful in item.get("avoid") or []:
            avoided.append(harmful in [r.practice.id for r in advice.avoid])
        if show and not top1[-1]:
            print(f"  {'top3' if top3[-1] else 'MISS'} [{item.get('split')}, {item['language']}]: "
                  f"{item['question']!r} -> {ids[:3]} (want {sorted(good)})")
    return {"questions": len(judged), "top1": statistics.mean(top1) if top1 else 0.0,
            "top3": statistics.mean(top3) if top3 else 0.0,
            "harmful_recommended": leaks, "avoid_shown": f"{sum(avoided)}/{len(avoided)}",
            "p50_ms": sorted(times)[len(times) // 2] if times else 0.0,
            # situations asked in three languages whose three questions got the same first practice
            "same_first": f"{sum(len(f) == 1 for f in firsts.values())}/{len(firsts)}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list questions whose first practice is wrong")
    parser.add_argument("--split", choices=("tune", "validation"), help="only one half")
    args = parser.parse_args()
    hub, _ = bench_hub("library", [LIBRARY])
    judged = yaml.safe_load(ADVICE.read_text(encoding="utf-8"))
    rows = []
    for split in ([args.split] if args.split else ["tune", "validation"]):
        half = [j for j in judged if j.get("split") == split]
        for language in ("all", "en", "fr", "es"):
            items = [j for j in half if language == "all" or j["language"] == language]
            r = evaluate(hub, items, args.show and language == "all")
            rows.append([split, language, str(r["questions"]), f"{r['top1']:.0%}", f"{r['top3']:.0%}",
                         str(r["harmful_recommended"]), r["avoid_shown"],
                         r["same_first"] if language == "all" else "", f"{r['p50_ms']:.0f} ms"])
    # Each batch of situations written after the tuning (`set: fresh`, `fresh-2`...), apart: the
    # nearest this team has to a stranger's questions.
    batches = sorted({j["set"] for j in judged if j.get("set")})
    for split in ([args.split] if args.split else ["tune", "validation"]):
        for batch in batches:
            fresh = [j for j in judged if j.get("split") == split and j.get("set") == batch]
            if fresh:
                r = evaluate(hub, fresh)
                rows.append([f"{split}, {batch}", "all", str(r["questions"]), f"{r['top1']:.0%}", f"{r['top3']:.0%}",
                             str(r["harmful_recommended"]), r["avoid_shown"], r["same_first"],
                             f"{r['p50_ms']:.0f} ms"])
    hub.close()
    print(table(rows, ["split", "language", "questions", "top-1", "top-3", "harmful/no-effect recommended",
                       "avoid shown", "same first practice in en/fr/es", "recommend p50"]))
    for split in ("tune", "validation"):
        per = {r[1]: (float(r[3].rstrip("%")), float(r[4].rstrip("%"))) for r in rows if r[0] == split and r[1] != "all"}
        if per:
            gap1 = max(v[0] for v in per.values()) - min(v[0] for v in per.values())
            gap3 = max(v[1] for v in per.values()) - min(v[1] for v in per.values())
            print(f"{split}: gap between languages {gap1:.0f} points top-1, {gap3:.0f} points top-3")


if __name__ == "__main__":
    main()
