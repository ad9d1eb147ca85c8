"""The ingest pipeline: files in, passages out to the catalog, Qdrant and Whoosh.

Each file is checked, hashed and parsed on its own, so one bad file is reported and skipped
while the rest of the batch lands. Parsing happens in a worker process with a time and a memory
limit (ingest/worker.py). Unchanged files (same path, same content hash) are skipped before
parsing; the embedder is only asked for when something new needs vectors. Writes go to the two
indexes first and to the catalog last: the catalog is the record, so if a run dies half way,
``hub check`` names the passages the indexes hold that the catalog does not. A document that a
store refuses is taken out of the others again and rejected by name; the rest of its group lands.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import re
import sys
import threading
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Collection, Iterable, Protocol

from hub.errors import HubError, RejectedDocument
from hub.settings import Settings
from ingest import cleaning, files, language, references, stores, titles
from ingest.chunking import ChunkSizes, chunk_sections, word_count
from ingest.loaders import load
from ingest.records import Document, LoadedDocument
from ingest.stores import passage_texts  # noqa: F401 - re-exported
from ingest.worker import ParseWorker

log = logging.getLogger(__name__)


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
    #: (file, the file it is a byte-identical copy of): recorded with that document, not indexed.
    duplicates: list[tuple[str, str]] = field(default_factory=list)
    #: Files left out because a person removed their documents (``leave_out``): a seed of the
    #: library at each start does not bring them back.
    left_out: list[str] = field(default_factory=list)
    passages: int = 0
    embedded: int = 0
    seconds: float = 0.0
    doc_ids: list[str] = field(default_factory=list)
    #: Scanned PDF pages whose text Tesseract read (ingest/ocr.py), over the documents written.
    ocr_pages: int = 0
    #: "file: reason" for files taken in with a doubt a person should check (an HTML page whose
    #: article was not found, so its menus may be in its text); loaders put them in
    #: ``LoadedDocument.extra["warnings"]``.
    warnings: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected else 0

    def to_json(self) -> dict[str, Any]:
        """The report as the command line prints it, whichever process ingested (hub/serving.py)."""
        return {"added": self.added, "updated": self.updated, "unchanged": len(self.unchanged),
                "duplicates": [list(d) for d in self.duplicates], "left_out": len(self.left_out),
                "rejected": [{"source": r.source, "reason": r.reason} for r in self.rejected],
                "warnings": self.warnings, "summary": self.summary(), "exit_code": self.exit_code}

    def summary(self) -> str:
        parts = [f"{len(self.added)} added", f"{len(self.updated)} updated",
                 f"{len(self.unchanged)} unchanged", f"{len(self.rejected)} rejected"]
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} identical to another file (recorded, not indexed twice)")
        if self.left_out:
            parts.append(f"{len(self.left_out)} removed earlier (left out)")
        line = ", ".join(parts) + f"; {self.passages} passages written, {self.embedded} embedded"
        if self.ocr_pages:
            line += f"; {self.ocr_pages} page{'s' if self.ocr_pages != 1 else ''} read by OCR"
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


Validator = Callable[[str, Path, LoadedDocument], LoadedDocument]


def build_document(candidate: files.Candidate, fmt: str, data: bytes, digest: str,
                   loaded: LoadedDocument, sizes: ChunkSizes,
                   validators: dict[str, Validator] | None = None,
                   max_passages: int | None = None) -> Document:
    validator = (validators or {}).get(normalise_doc_type(loaded.doc_type))
    if validator is not None:
        loaded = validator(candidate.source, candidate.path, loaded)
    # Cleaned here, for every format, before any store sees the text (ingest/cleaning.py).
    sections = [s for s in cleaning.clean_sections(loaded.sections) if s.text.strip()]
    # The reference list becomes the document's list of studies cited, not passages
    # (ingest/references.py); a list the file declares itself wins.
    sections, listed = references.split_references(sections)
    sections = [s for s in sections if s.text.strip()]
    if not sections or not any(word_count(s.text) >= 3 for s in sections):
        raise RejectedDocument(candidate.source, "no text to index")
    doc_id = document_id(candidate.path)
    lang = language.normalise(loaded.language) or language.detect(loaded.text)
    tags = list(dict.fromkeys(t.strip().lower() for t in loaded.tags if t and t.strip()))
    doc = Document(
        id=doc_id, source=candidate.source, title=_title(loaded.title, sections, candidate.path),
        doc_type=normalise_doc_type(loaded.doc_type), language=lang, content_hash=digest,
        format=fmt, tags=tags, year=loaded.year, authors=loaded.authors,
        source_url=loaded.source_url, pages=loaded.pages, size=len(data),
        extra={**loaded.extra, "path": str(candidate.path)},
    )
    if listed and not doc.extra.get("cites"):
        doc.extra["cites"] = listed
    doc.chunks = chunk_sections(doc_id, digest, sections, sizes)
    if max_passages is not None and len(doc.chunks) > max_passages:
        raise RejectedDocument(candidate.source, f"makes {len(doc.chunks):,} passages, over the "
                                                 f"{max_passages:,}-passage limit per document "
                                                 "(set HUB_MAX_PASSAGES_PER_DOCUMENT to change it)")
    return doc


def _title(title: str | None, sections: list, path: Path) -> str:
    """The loader's title unless it is junk (ingest/titles.py), then the text's first meaningful
    line, then the file name prettified: never a path."""
    first = [sections[0].heading, *titles.meaningful_lines(sections[0].text, 5)] if sections else []
    return titles.choose([title, *first], path.name)


@dataclass
class _Pending:
    doc: Document
    data: bytes
    is_update: bool
    #: its bytes changed since it was catalogued (its copies, if any, are copies no more)
    changed: bool = True


class Ingester:
    """Runs ingest batches against one set of stores."""

    def __init__(self, settings: Settings, catalog, index,  # type: ignore[no-untyped-def]
                 embedder: Callable[[], EmbedderLike], validators: dict[str, Validator] | None = None,
                 annotate: Callable[[str, str], str] | None = None, cache=None,  # type: ignore[no-untyped-def]
                 parser: ParseWorker | None = None) -> None:
        """``index``: the passage indexes (search/index.py ``PassageIndex``: write, take_out,
        put). ``parser``: a worker to parse in (a Hub keeps one for its lifetime);
        without one, each ``ingest`` call starts its own and stops it at the end."""
        self.settings = settings
        self.parser = parser
        self.catalog = catalog
        self.index = index
        self._embedder = embedder
        self.validators = validators or {}
        self.annotate = annotate
        self.cache = cache
        self.sizes = ChunkSizes(settings.chunk_words, settings.chunk_min_words, settings.chunk_max_words)

    def ingest(self, paths: Iterable[str | Path], on_reject: Callable[[RejectedDocument], None] | None = None,
               force: bool = False, overrides: dict[Path, dict] | None = None,
               leave_out: Collection[str] = frozenset()) -> IngestReport:
        """``overrides`` maps a file's resolved path to metadata that wins over what the file
        says (see :func:`apply_overrides`): how a moderated case study gets its form's fields.
        ``leave_out``: resolved paths of files not to take in (``report.left_out``)."""
        started = time.perf_counter()
        report = IngestReport()
        run_id = self.catalog.start_run()
        found = list(files.discover(paths))
        seen: set[Path] = set()
        pending: list[_Pending] = []
        pending_passages = 0
        #: content hash -> (document id, source) of the files of this batch to be indexed
        batch: dict[str, tuple[str, str]] = {}
        copies: list[tuple[str, str, tuple[str, str]]] = []

        def reject(error: RejectedDocument) -> None:
            report.rejected.append(error)
            if on_reject:
                on_reject(error)

        progress = progress_bar(len(found), self.settings.progress)
        parser = self.parser or ParseWorker.from_settings(self.settings)
        try:
            for item in found:
                progress.update(1)
                if isinstance(item, RejectedDocument):
                    reject(item)
                    continue
                if item.path in seen:
                    continue
                seen.add(item.path)
                if str(item.path) in leave_out:
                    report.left_out.append(item.source)
                    continue
                try:
                    fmt, data = files.read_checked(item, self.settings.max_file_bytes)
                    digest = files.content_hash(data)
                    existing = self.catalog.document_by_path(str(item.path))
                    if existing and existing.content_hash == digest and not force:
                        self._keep_original(existing, data)
                        report.unchanged.append(item.source)
                        report.doc_ids.append(existing.id)
                        continue
                    # a file with metadata of its own (a moderated case study's form) is not a
                    # copy, whatever its bytes
                    if existing is None and not (overrides and item.path in overrides) \
                            and self._is_copy(item, digest, batch, copies, report):
                        continue
                    loaded = parser.parse(fmt, item.source, data)
                    if overrides and item.path in overrides:
                        loaded = apply_overrides(loaded, overrides[item.path])
                    doc = build_document(item, fmt, data, digest, loaded, self.sizes, self.validators,
                                         self.settings.max_passages_per_document)
                    # The loader's and the validators' (a practice profile's) warnings.
                    report.warnings.extend(f"{item.source}: {w}" for w in doc.extra.get("warnings") or [])
                except RejectedDocument as error:
                    reject(error)
                    continue
                except OSError as exc:
                    reject(RejectedDocument(item.source, f"cannot read file ({exc.strerror or exc})"))
                    continue
                except HubError:
                    raise  # the hub's own state (a model mismatch, a store down): not this file's fault
                except Exception as exc:  # noqa: BLE001 - one file's surprise must not end the batch
                    log.debug("preparing %s failed", item.source, exc_info=True)
                    reject(RejectedDocument(item.source, f"cannot be prepared for indexing ({_short(exc)})"))
                    continue
                if self.settings.qdrant_url and not pending and not report.added and not report.updated:
                    # A server's client (qdrant-client) takes 3 s to import, on the first write:
                    # done meanwhile, beside parsing and the model (whose kernels release the GIL).
                    # The embedded engine needs none of it.
                    threading.Thread(target=importlib.import_module, args=("qdrant_client",), daemon=True).start()
                pending.append(_Pending(doc, data, existing is not None,
                                        existing is None or existing.content_hash != digest))
                batch[digest] = (doc.id, doc.source)
                pending_passages += len(doc.chunks)
                if pending_passages >= self.settings.ingest_group_passages:
                    self._write(pending, report, reject)
                    pending, pending_passages = [], 0
            if pending:
                self._write(pending, report, reject)
            for path, source, (doc_id, twin) in copies:  # now that their originals are catalogued
                if self.catalog.document(doc_id) is None:
                    reject(RejectedDocument(source, f"the same bytes as {twin}, which was refused"))
                    continue
                self.catalog.add_copy(path, source, doc_id)
                report.duplicates.append((source, twin))
                report.doc_ids.append(doc_id)
        finally:
            if parser is not self.parser:
                parser.close()
            progress.close()
            report.seconds = time.perf_counter() - started
            self.catalog.finish_run(
                run_id, len(report.added), len(report.updated), len(report.unchanged),
                [{"source": r.source, "reason": r.reason} for r in report.rejected],
            )
        return report

    def _is_copy(self, item: files.Candidate, digest: str, batch: dict[str, tuple[str, str]],
                 copies: list[tuple[str, str, tuple[str, str]]], report: IngestReport) -> bool:
        """A file byte for byte the same as a document already in the hub or earlier in this
        batch is recorded as that document's copy rather than indexed again: the same report
        would otherwise come back as results one, two and three."""
        path = str(item.path)
        twin = batch.get(digest)
        if twin is None and (known := self.catalog.document_by_hash(digest)) is not None \
                and known.extra.get("path") != path:
            twin = (known.id, known.source)
        was_copy_of = self.catalog.copy_of(path)
        if twin is None:
            if was_copy_of is not None:  # its bytes changed: it is a document of its own now
                self.catalog.remove_copies(path=path)
            return False
        if was_copy_of == twin[0]:
            report.unchanged.append(item.source)
            report.doc_ids.append(twin[0])
        else:
            copies.append((path, item.source, twin))
        return True

    def _write(self, pending: list[_Pending], report: IngestReport,
               reject: Callable[[RejectedDocument], None]) -> None:
        """Index a group, then record each document in the catalog. A document some store
        refuses ends up in none of them and is rejected by name; the others still land."""
        ready = []
        for p in pending:
            # What the catalog would refuse (metadata it cannot serialise) is known before
            # anything is written.
            try:
                self.catalog.check_document(p.doc)
            except Exception as exc:  # noqa: BLE001 - json and sqlite raise several types
                reject(RejectedDocument(p.doc.source, f"cannot be catalogued ({_short(exc)})"))
            else:
                ready.append(p)
        if not ready:
            return
        try:
            self._index(ready, report)
        except RejectedDocument:
            raise
        except HubError:
            self._take_out(ready)  # a store unavailable: no document is to blame, stop the run
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a store raises on one document's data
            self._take_out(ready)
            if len(ready) == 1:
                reject(RejectedDocument(ready[0].doc.source, f"cannot be indexed ({_short(exc)})"))
            else:
                for p in ready:  # find the document to blame: the others land
                    self._write([p], report, reject)
            return
        originals = self.settings.originals_path
        originals.mkdir(parents=True, exist_ok=True)
        final = {p.doc.id: originals / f"{p.doc.id}{_suffix(p.doc)}" for p in ready}
        part = {doc_id: path.with_name(path.name + ".part") for doc_id, path in final.items()}
        refused: dict[str, Exception] = {}
        for p in ready:
            try:
                part[p.doc.id].write_bytes(p.data)
            except OSError as exc:  # a full disk
                refused[p.doc.id] = exc
        written = [p.doc for p in ready if p.doc.id not in refused]
        try:  # the group in one transaction; a document the catalog refuses is left out
            refused.update(self.catalog.put_documents(written))
        except Exception as exc:  # noqa: BLE001 - a locked or full catalog: none of the group lands
            refused.update({d.id: exc for d in written})
        for p in ready:
            if p.doc.id in refused:
                part[p.doc.id].unlink(missing_ok=True)
                self._take_out([p])
                reject(RejectedDocument(p.doc.source, f"cannot be catalogued ({_short(refused[p.doc.id])})"))
                continue
            os.replace(part[p.doc.id], final[p.doc.id])
            if p.is_update and p.changed:
                self.catalog.remove_copies(doc_id=p.doc.id)
            (report.updated if p.is_update else report.added).append(p.doc.source)
            report.doc_ids.append(p.doc.id)
            report.passages += len(p.doc.chunks)
            report.ocr_pages += int(p.doc.extra.get("ocr_pages", 0) or 0)

    def _keep_original(self, doc: Document, data: bytes) -> None:
        """An unchanged document whose kept original is missing (or not of its size) gets it
        back: a run killed between the catalog's commit and the renaming of its originals left
        them as ``.part`` files, and the run that follows finds the documents unchanged.
        ``data`` are the catalogued bytes (same hash). A stat per unchanged file."""
        final = original_path(self.settings, doc)
        try:
            if final.stat().st_size == len(data):
                return
        except FileNotFoundError:
            pass
        final.parent.mkdir(parents=True, exist_ok=True)
        part = final.with_name(final.name + ".part")
        part.write_bytes(data)
        os.replace(part, final)

    def _index(self, group: list[_Pending], report: IngestReport) -> None:
        docs = [p.doc for p in group]
        vectors, computed = stores.embed(docs, self._embedder(), self.cache, self.settings.embed_batch_size,
                                         self.annotate)
        report.embedded += computed
        self.index.write(docs, vectors)

    def _take_out(self, group: list[_Pending]) -> None:
        """Undo ``_index`` for these documents: their passages leave both indexes, and a document
        being updated gets its catalogued version back there."""
        self.index.take_out([p.doc.id for p in group])
        previous = [d for p in group if p.is_update
                    and (d := self.catalog.document(p.doc.id, with_chunks=True)) is not None]
        if not previous:
            return
        try:
            vectors, _ = stores.embed(previous, self._embedder(), self.cache, self.settings.embed_batch_size,
                                      self.annotate)
            self.index.put(previous, vectors)
        except Exception as exc:  # noqa: BLE001 - `hub check` names them, `--repair` restores them
            log.warning("could not restore %s in the indexes: %s", ", ".join(d.id for d in previous), exc)


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


def _short(exc: BaseException) -> str:
    """An exception as one short line for a rejection."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__


class _NoProgress:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, enabled: bool):  # type: ignore[no-untyped-def]
    """A bar on stderr for runs long enough to need one, and only when a person is watching."""
    if not enabled or total < 5 or not sys.stderr.isatty():
        return _NoProgress()
    from tqdm import tqdm

    return tqdm(total=total, unit="file", desc="ingest", file=sys.stderr, leave=False)
