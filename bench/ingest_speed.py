"""Ingest throughput beside the encoder's raw throughput on the same passages.

    python bench/ingest_speed.py [--corpus cranfield|library]

The gap between the two is what parsing, chunking and writing to SQLite, Qdrant and Whoosh
cost on top of the model. Each run ingests into a fresh temporary home.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import BENCHMARKS, LIBRARY, beir_files

from hub.core import Hub
from hub.settings import Settings
from ingest.chunking import embedding_text
from search.embedder import Embedder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="cranfield", help="'library' or a folder name under ../shared/benchmarks")
    args = parser.parse_args()
    source = LIBRARY if args.corpus == "library" else beir_files(BENCHMARKS / args.corpus)
    files = [p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")]

    embedder = Embedder()
    embedder.embed(["warm up the model"] * 8)
    with tempfile.TemporaryDirectory() as home:
        hub = Hub(Settings.from_env({}, home=Path(home), progress=False), embedder=embedder)
        started = time.perf_counter()
        report = hub.ingest([source])
        ingest_s = time.perf_counter() - started
        docs = hub.documents()
        texts = [embedding_text(d.title, c) for d in docs for c in hub.catalog.chunks_of(d.id)]
        hub.close()

    started = time.perf_counter()
    embedder.embed(texts, batch_size=32)
    encode_s = time.perf_counter() - started

    n = len(texts)
    print(f"corpus: {args.corpus}: {len(files)} files, {len(docs)} documents, {n} passages "
          f"({len(report.rejected)} rejected)")
    print(f"ingest (parse, chunk, embed, write 3 stores): {ingest_s:7.1f} s  {n / ingest_s:7.1f} passages/s")
    print(f"encoder alone on the same passages:          {encode_s:7.1f} s  {n / encode_s:7.1f} passages/s")
    print(f"ingest runs at {100 * encode_s / ingest_s:.0f}% of the encoder's raw speed")


if __name__ == "__main__":
    main()
