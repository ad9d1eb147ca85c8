"""Search latency, p50 and p95, per mode, at a stated corpus size.

    python bench/latency.py [--corpus cranfield] [--repeat 2]

Runs every benchmark query (plus the judged library's queries when the corpus is 'library')
against a warmed-up hub, as the web server would after start-up.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _common import BENCHMARKS, DOCUMENTS, bench_hub, beir_files, judged_library, load_beir


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="cranfield")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    if args.corpus == "library":
        hub, _ = bench_hub("library-documents", [DOCUMENTS])
        queries = [j["query"] for j in judged_library()]
    else:
        folder = BENCHMARKS / args.corpus
        hub, _ = bench_hub(f"beir-{args.corpus}", [beir_files(folder)])
        queries = list(load_beir(folder)[1].values())
    hub.warm_up()
    counts = hub.catalog.counts()
    print(f"corpus: {args.corpus}: {counts['documents']} documents, {counts['passages']} passages; "
          f"{len(queries)} queries x {args.repeat}; limit 10")
    for mode in ("keyword", "dense", "hybrid"):
        hub.search(queries[0], mode=mode)
        times = []
        for _ in range(args.repeat):
            for q in queries:
                started = time.perf_counter()
                hub.search(q, limit=10, mode=mode)
                times.append((time.perf_counter() - started) * 1000)
        print(f"{mode:<8} p50 {percentile(times, 50):6.1f} ms   p95 {percentile(times, 95):6.1f} ms   "
              f"mean {statistics.mean(times):6.1f} ms")
    hub.close()


if __name__ == "__main__":
    main()
