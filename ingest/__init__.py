"""Ingest: files in, documents with page-cited passages out."""

from __future__ import annotations

from hub.exports import lazy

__getattr__, __all__ = lazy(__name__, {
    "Ingester": "ingest.pipeline",
    "IngestReport": "ingest.pipeline",
    "load": "ingest.loaders",
    "parse": "ingest.loaders",
    "Document": "ingest.records",
    "Chunk": "ingest.records",
    "LoadedDocument": "ingest.records",
    "Section": "ingest.records",
})
