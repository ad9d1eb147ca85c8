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
from search.embedder import Embedder


def passage_texts(source: Path) -> list[str]:
    """The texts the pipeline embeds for this corpus (title and thesaurus labels included),
    made by its own parsing and chunking, without writing anything (nor importing the stores)."""
    from hub.errors import RejectedDocument
    from ingest import files
    from ingest.chunking import ChunkSizes, embedding_text
    from ingest.loaders import parse as _parse
    from ingest.pipeline import build_document
    from search.thesaurus import DEFAULT_PATH, Thesaurus

    settings = Settings.from_env({}, home=Path(tempfile.gettempdir()) / "unused", progress=False)
    sizes = ChunkSizes(settings.chunk_words, settings.chunk_min_words, settings.chunk_max_words)
    thesaurus = Thesaurus.load(DEFAULT_PATH)
    texts = []
    for item in files.discover([source]):
        if isinstance(item, RejectedDocument):
            continue
        try:
            fmt, data = files.read_checked(item, settings.max_file_bytes)
            doc = build_document(item, fmt, data, files.content_hash(data), _parse(fmt, item.source, data), sizes, {})
        except RejectedDocument:
            continue
        texts += [thesaurus.annotate(embedding_text(doc.title, c), doc.language) for c in doc.chunks]
    return texts


def encode_seconds(embedder: Embedder, texts: list[str]) -> float:
    started = time.perf_counter()
    embedder.embed(texts, batch_size=32)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="cranfield", help="'library' or a folder name under ../shared/benchmarks")
    args = parser.parse_args()
    source = LIBRARY if args.corpus == "library" else beir_files(BENCHMARKS / args.corpus)
    files = [p for p in source.rglob("*") if p.is_file() and not p.name.startswith(".")]

    embedder = Embedder()
    embedder.embed(["warm up the model"] * 8)
    texts = passage_texts(source)

    # The encoder alone runs before and after the ingest, and the ingest is compared with their
    # mean: this shared machine changes speed by tens of percent over minutes, which a single
    # measurement on one side attributed to the pipeline.
    before = encode_seconds(embedder, texts)
    with tempfile.TemporaryDirectory() as home:
        hub = Hub(Settings.from_env({}, home=Path(home), progress=False), embedder=embedder)
        started = time.perf_counter()
        report = hub.ingest([source])
        ingest_s = time.perf_counter() - started
        docs = hub.documents()
        hub.close()
    after = encode_seconds(embedder, texts)
    encode_s = (before + after) / 2

    n = len(texts)
    print(f"corpus: {args.corpus}: {len(files)} files, {len(docs)} documents, {n} passages "
          f"({len(report.rejected)} rejected)")
    print(f"ingest (parse, chunk, embed, write 3 stores): {ingest_s:7.1f} s  {n / ingest_s:7.1f} passages/s")
    print(f"encoder alone on the same passages:          {encode_s:7.1f} s  {n / encode_s:7.1f} passages/s"
          f"  (before {before:.1f} s, after {after:.1f} s)")
    print(f"ingest runs at {100 * encode_s / ingest_s:.0f}% of the encoder's raw speed")


if __name__ == "__main__":
    main()
