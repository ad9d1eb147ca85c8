"""The ingest pipeline: files in, passages out to the catalog, Qdrant and Whoosh.

Each file is checked, hashed and parsed on its own, so one bad file is reported and skipped
while the rest of the batch lands. Unchanged files (same path, same content hash) are skipped
before parsing; the embedder is only asked for when something new needs vectors. Writes go to
the two indexes first and to the catalog last: the catalog is the record, so if a run dies half
way, ``hub check`` names the passages the indexes hold that the catalog does not.
"""

from __future__ import annotations

import hashlib
import importlib
import re
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

from hub.errors import RejectedDocument
from hub.settings import Settings
from ingest import files, language
from ingest.chunking import ChunkSizes, chunk_sections, embedding_text
from ingest.records import Chunk, Document, LoadedDocument


DOC_TYPES = ("document", "review", "evaluation", "case study", "guide", "tool guide", "diagnosis",
             "policy", "report", "practice", "dataset")
_DOC_TYPE_ALIASES = {
    "case-study": "case study", "case_study": "case study", "casestudy": "case study",
    "tool-guide": "tool guide", "toolkit": "tool guide", "systematic review": "review",
    "meta-analysis": "review", "evaluation report": "evaluation", "safety diagnosis": "diagnosis",
}


class EmbedderLike(Protocol):
    name: str

    def embed(self, texts: list[str], batch_size: int = 32): ...  # noqa: E704


@dataclass
class IngestReport:
    """What a run did, file by file; the CLI prints it, the web shows it, tests read it."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RejectedDocument] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    seconds: float = 0.0
    doc_ids: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated",
                 f"{len(self.unchanged)} unchanged", f"{len(self.rejected)} rejected"]
        line = ", ".join(parts) + f"; {self.passages} passages written, {self.embedded} embedded"
        return line + f" in {self.seconds:.1f}s"


def document_id(path: Path) -> str:
    """Readable and stable: the file name's slug plus a short hash of where the file lives."""
    return f"{slugify(path.stem)[:40] or 'doc'}-{hashlib.sha1(str(path).encode()).hexdigest()[:6]}"


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def normalise_doc_type(value: str | None) -> str:
    if not value:
        return "document"
    text = re.sub(r"\s+", " ", value.strip().lower().replace("_", " "))
    return _DOC_TYPE_ALIASES.get(text, text)


def load(fmt: str, source: str, data: bytes) -> LoadedDocument:
    """Parse a checked file with the loader for its format."""
    if fmt == "pdf":
        from ingest.pdf import load_pdf

        return load_pdf(source, data)
    text = files.decode_text(source, data)
    if fmt == "html":
        from ingest.html import load_html

        return load_html(source, text)
    if fmt == "markdown":
        from ingest.markdown import load_markdown

        return load_markdown(source, text)
    from ingest.text import load_text

    return load_text(source, text)


Validator = Callable[[str, Path, LoadedDocument], LoadedDocument]


def build_document(candidate: files.Candidate, fmt: str, data: bytes, digest: str,
                   loaded: LoadedDocument, sizes: ChunkSizes,
                   validators: dict[str, Validator] | None = None) -> Document:
    validator = (validators or {}).get(normalise_doc_type(loaded.doc_type))
    if validator is not None:
        loaded = validator(candidate.source, candidate.path, loaded)
    sections = [s for s in loaded.sections if s.text.strip()]
    if not sections or not any(len(s.text.split()) >= 3 for s in sections):
        raise RejectedDocument(candidate.source, "no text to index")
    doc_id = document_id(candidate.path)
    lang = language.normalise(loaded.language) or language.detect(loaded.text)
    tags = list(dict.fromkeys(t.strip().lower() for t in loaded.tags if t and t.strip()))
    doc = Document(
        id=doc_id, source=candidate.source, title=loaded.title.strip() or candidate.path.stem,
        doc_type=normalise_doc_type(loaded.doc_type), language=lang, content_hash=digest,
        format=fmt, tags=tags, year=loaded.year, authors=loaded.authors,
        source_url=loaded.source_url, pages=loaded.pages, size=len(data),
        extra={**loaded.extra, "path": str(candidate.path)},
    )
    doc.chunks = chunk_sections(doc_id, digest, sections, sizes)
    return doc


@dataclass
class _Pending:
    doc: Document
    data: bytes
    is_update: bool


class Ingester:
    """Runs ingest batches against one set of stores."""

    def __init__(self, settings: Settings, catalog, semantic, keyword,  # type: ignore[no-untyped-def]
                 embedder: Callable[[], EmbedderLike], validators: dict[str, Validator] | None = None,
                 annotate: Callable[[str, str], str] | None = None, cache=None) -> None:  # type: ignore[no-untyped-def]
        self.settings = settings
        self.catalog = catalog
        self.semantic = semantic
        self.keyword = keyword
        self._embedder = embedder
        self.validators = validators or {}
        self.annotate = annotate
        self.cache = cache
        self.sizes = ChunkSizes(settings.chunk_words, settings.chunk_min_words, settings.chunk_max_words)

    def ingest(self, paths: Iterable[str | Path], on_reject: Callable[[RejectedDocument], None] | None = None,
               force: bool = False, overrides: dict[Path, dict] | None = None) -> IngestReport:
        """``overrides`` maps a file's resolved path to metadata that wins over what the file
        says (see :func:`apply_overrides`): how a moderated case study gets its form's fields."""
        started = time.perf_counter()
        report = IngestReport()
        run_id = self.catalog.start_run()
        found = list(files.discover(paths))
        seen: set[Path] = set()
        pending: list[_Pending] = []
        pending_passages = 0

        def reject(error: RejectedDocument) -> None:
            report.rejected.append(error)
            if on_reject:
                on_reject(error)

        progress = _progress(len(found), self.settings.progress)
        try:
            for item in found:
                progress.update(1)
                if isinstance(item, RejectedDocument):
                    reject(item)
                    continue
                if item.path in seen:
                    continue
                seen.add(item.path)
                try:
                    fmt, data = files.read_checked(item, self.settings.max_file_bytes)
                    digest = files.content_hash(data)
                    existing = self.catalog.document_by_path(str(item.path))
                    if existing and existing.content_hash == digest and not force:
                        report.unchanged.append(item.source)
                        report.doc_ids.append(existing.id)
                        continue
                    loaded = _parse(fmt, item.source, data)
                    if overrides and item.path in overrides:
                        loaded = apply_overrides(loaded, overrides[item.path])
                    doc = build_document(item, fmt, data, digest, loaded, self.sizes, self.validators)
                except RejectedDocument as error:
                    reject(error)
                    continue
                except OSError as exc:
                    reject(RejectedDocument(item.source, f"cannot read file ({exc.strerror or exc})"))
                    continue
                if not pending and not report.added and not report.updated:
                    # qdrant-client takes 3 s to import, on the first write: done meanwhile,
                    # beside parsing and the model (whose kernels release the GIL).
                    threading.Thread(target=importlib.import_module, args=("qdrant_client",), daemon=True).start()
                pending.append(_Pending(doc, data, existing is not None))
                pending_passages += len(doc.chunks)
                if pending_passages >= self.settings.ingest_group_passages:
                    self._write(pending, report)
                    pending, pending_passages = [], 0
            if pending:
                self._write(pending, report)
        finally:
            progress.close()
            report.seconds = time.perf_counter() - started
            self.catalog.finish_run(
                run_id, len(report.added), len(report.updated), len(report.unchanged),
                [{"source": r.source, "reason": r.reason} for r in report.rejected],
            )
        return report

    def _write(self, pending: list[_Pending], report: IngestReport) -> None:
        texts = passage_texts([p.doc for p in pending], self.annotate)

        vectors, computed = self._embedder().embed_cached(texts, self.cache, self.settings.embed_batch_size)
        report.embedded += computed

        chunk_ids, payloads = [], []
        for p in pending:
            for c in p.doc.chunks:
                chunk_ids.append(c.id)
                payloads.append(passage_payload(p.doc, c))
        doc_ids = [p.doc.id for p in pending]
        # Qdrant deletes only documents the catalog or the vector copy knows: a filtered delete
        # walks the whole local store (4 s per batch at 1,500 passages), and a document left
        # half-written by a crash has the same passage ids, which the upsert overwrites.
        stored = [p.doc.id for p in pending if p.is_update or self.semantic.may_hold(p.doc.id)]
        self.semantic.delete_documents(stored)
        self.semantic.upsert(chunk_ids, vectors, payloads)
        with self.keyword.writer() as batch:
            batch.delete_documents(doc_ids)
            for p in pending:
                for c in p.doc.chunks:
                    batch.add(chunk_id=c.id, doc_id=p.doc.id, doc_type=p.doc.doc_type,
                              language=c.language or p.doc.language, tags=p.doc.tags, year=p.doc.year,
                              title=p.doc.title, heading=c.heading, body=c.text)
        originals = self.settings.originals_path
        originals.mkdir(parents=True, exist_ok=True)
        for p in pending:
            (originals / f"{p.doc.id}{_suffix(p.doc)}").write_bytes(p.data)
            self.catalog.put_document(p.doc)
            (report.updated if p.is_update else report.added).append(p.doc.source)
            report.doc_ids.append(p.doc.id)
            report.passages += len(p.doc.chunks)


def passage_texts(docs: Sequence[Document], annotate: Callable[[str, str], str] | None = None) -> list[str]:
    """What the encoder reads for each passage of ``docs``, in order: ingest and ``hub reindex``
    must read the same, or the embedding cache would miss."""
    texts = [embedding_text(d.title, c) for d in docs for c in d.chunks]
    if annotate is not None:
        languages = [c.language or d.language for d in docs for c in d.chunks]
        texts = [annotate(text, lang) for text, lang in zip(texts, languages)]
    return texts


def passage_payload(doc: Document, chunk: Chunk) -> dict:
    """The fields a passage's vector carries in Qdrant, for filters."""
    return {"doc_id": doc.id, "doc_type": doc.doc_type, "language": chunk.language or doc.language,
            "tags": doc.tags, "page": chunk.page, "year": doc.year}


def original_path(settings: Settings, doc: Document) -> Path:
    return settings.originals_path / f"{doc.id}{_suffix(doc)}"


def _suffix(doc: Document) -> str:
    return Path(doc.extra.get("path", doc.source)).suffix.lower()


def apply_overrides(loaded: LoadedDocument, values: dict) -> LoadedDocument:
    """Set title, language, doc_type, tags, year, authors; merge ``extra``; put
    ``lead_sections`` (a list of :class:`Section`) before the file's own text."""
    for key in ("title", "language", "doc_type", "tags", "year", "authors", "source_url"):
        if values.get(key) not in (None, "", []):
            setattr(loaded, key, values[key])
    loaded.extra = {**loaded.extra, **values.get("extra", {})}
    loaded.sections = list(values.get("lead_sections", [])) + list(loaded.sections)
    return loaded


def _parse(fmt: str, source: str, data: bytes) -> LoadedDocument:
    """Loaders raise RejectedDocument for what they recognise; anything else is still one line."""
    try:
        return load(fmt, source, data)
    except RejectedDocument:
        raise
    except RecursionError:
        raise RejectedDocument(source, f"cannot parse this {fmt} file (nested too deeply)") from None
    except Exception as exc:  # noqa: BLE001 - third-party parsers raise anything on broken input
        raise RejectedDocument(source, f"cannot parse this {fmt} file ({type(exc).__name__}: {exc})"[:300]) from None


class _NoProgress:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool):  # type: ignore[no-untyped-def]
    """A bar on stderr for runs long enough to need one, and only when a person is watching."""
    if not enabled or total < 5 or not sys.stderr.isatty():
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="ingest", file=sys.stderr, leave=False)
