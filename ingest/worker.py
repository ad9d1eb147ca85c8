"""Parsing in a child process, with a wall-clock limit and a memory limit.

A few hundred hostile bytes can keep a parser busy for minutes or make it take gigabytes: 100,000
nested ``<div>``s, ten PDF pages sharing one content stream of 200,000 operators, YAML aliases
that expand a billion times. So files are parsed in a child process whose address space is capped
(``RLIMIT_AS``) and which is killed when it overruns its time; the file is rejected by name with
a one-line reason and the next file gets a fresh child.

The child is reused from file to file: starting Python for each file would cost more than parsing
the whole sample library (55 files, 1 s). It is a plain ``python -c`` process talking over two
pipes, not a multiprocessing child: those re-import the caller's ``__main__`` (a script without
an ``if __name__ == "__main__"`` guard would start ingesting again), and forking the caller (a web
server with threads and a loaded model) is not safe.
"""

from __future__ import annotations

import gc
import os
import pickle
import signal
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hub.errors import HubError, RejectedDocument
from ingest.records import LoadedDocument

#: Imported by the child before it says it is ready, so no file's time limit pays for them.
_PRELOAD = ("ingest.loaders", "ingest.pdf", "ingest.html", "ingest.markdown", "ingest.text",
            "pypdf", "bs4", "yaml", "ingest.ocr", "pypdfium2")
#: Sent by the child before it reads a scanned page by OCR: the page gets a fresh time limit,
#: so a 40-page scan is bounded page by page (at most ``ocr_max_pages`` of them), not refused.
_OCR_PAGE = b"ocr-page"
#: How long a new child may take to start (a loaded machine); not charged to any file.
_START_TIMEOUT_S = 60.0
_ROOT = str(Path(__file__).resolve().parent.parent)


class ParseWorker:
    """Parses one file at a time in a child process; thread-safe (callers take turns).

    ``timeout_s`` and ``memory_mb`` of 0 mean no limit. The memory limit covers the child's
    whole address space, of which Python and the parsers take about 50 MB."""

    def __init__(self, timeout_s: float = 30.0, memory_mb: int = 1024, max_pdf_pages: int | None = None,
                 ocr: bool = True, ocr_max_pages: int = 200) -> None:
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.max_pdf_pages = max_pdf_pages
        self.ocr = ocr
        self.ocr_max_pages = ocr_max_pages
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> "ParseWorker":
        return cls(settings.parse_timeout_s, settings.parse_memory_mb, settings.max_pdf_pages,
                   getattr(settings, "ocr", True), getattr(settings, "ocr_max_pages", 200))

    def parse(self, fmt: str, source: str, data: bytes) -> LoadedDocument:
        """The loaded document, or RejectedDocument with the loader's reason or the limit hit."""
        with self._lock:
            kind, value = self._run(fmt, source, data)
        if kind == "ok":
            return value  # type: ignore[no-any-return]
        if kind == "memory":
            raise RejectedDocument(source, f"needed more than {self.memory_mb:g} MB to parse")
        raise RejectedDocument(source, str(value))

    def _run(self, fmt: str, source: str, data: bytes) -> tuple[str, Any]:
        job = pickle.dumps((fmt, source, data), protocol=pickle.HIGHEST_PROTOCOL)
        if self._proc is None or self._proc.poll() is not None:
            self._discard()
            self._start()
        assert self._to_child is not None and self._from_child is not None
        try:
            self._to_child.send_bytes(job)
            while True:
                if not self._from_child.poll(self.timeout_s if self.timeout_s > 0 else None):
                    self._discard()
                    return "rejected", f"took longer than {self.timeout_s:g} s to parse"
                reply = self._from_child.recv_bytes()
                if reply != _OCR_PAGE:
                    return pickle.loads(reply)  # type: ignore[no-any-return]
        except (EOFError, OSError):
            # The child died mid-file: a crash in a parser's C code, or killed from outside.
            code = self._discard()
            return "rejected", f"the parser stopped on this file (exit status {code})"
        except BaseException:
            # Interrupted while the child works: its answer would be read as the next file's.
            self._discard()
            raise

    def _start(self) -> None:
        jobs_r, jobs_w = os.pipe()
        replies_r, replies_w = os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))}
        timeout = self.timeout_s if self.timeout_s > 0 else 0
        try:
            proc = subprocess.Popen(
                [sys.executable, "-c", "from ingest.worker import _main; _main()",
                 str(jobs_r), str(replies_w), str(self.memory_mb), str(timeout), str(self.max_pdf_pages or 0),
                 str(int(self.ocr)), str(self.ocr_max_pages)],
                pass_fds=(jobs_r, replies_w), stdin=subprocess.DEVNULL, env=env, close_fds=True,
                start_new_session=True)  # Ctrl-C reaches the parent, which stops the child
        except BaseException:
            os.close(jobs_w)
            os.close(replies_r)
            raise
        finally:
            os.close(jobs_r)
            os.close(replies_w)
        self._proc = proc
        self._to_child = Connection(jobs_w, readable=False)
        self._from_child = Connection(replies_r, writable=False)
        try:
            ready = self._from_child.poll(_START_TIMEOUT_S) and self._from_child.recv_bytes() == b"ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            code = self._discard()
            raise HubError(f"the parse worker (ingest/worker.py) did not start (exit status {code}); "
                           "see the messages above")

    def _discard(self) -> int | None:
        """Kill the child (if any); the next file starts a new one. Returns its exit status."""
        proc, to_child, from_child = self._proc, self._to_child, self._from_child
        self._proc = self._to_child = self._from_child = None
        for conn in (to_child, from_child):
            if conn is not None:
                conn.close()
        if proc is None:
            return None
        # The child leads its own process group (start_new_session): killing the group stops a
        # tesseract it runs too, which would otherwise read on after its parse was given up.
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:
            proc.kill()
        return proc.wait()

    def close(self) -> None:
        """Stop the child: it exits when its job pipe closes."""
        with self._lock:
            proc = self._proc
            if self._to_child is not None:
                self._to_child.close()
                self._to_child = None
            if proc is not None:
                try:
                    proc.wait(2)
                except subprocess.TimeoutExpired:
                    pass
            self._discard()


def _main() -> None:
    """The child: ``jobs_fd replies_fd memory_mb timeout_s max_pdf_pages ocr ocr_max_pages`` on
    the command line; a pickled (format, source, bytes) in, a pickled (kind, value) out (and
    ``_OCR_PAGE`` before each OCR page), until the jobs pipe closes."""
    jobs_fd, replies_fd, memory_mb, timeout_s, max_pages = sys.argv[1:6]
    ocr_on, ocr_max_pages = sys.argv[6:8]
    jobs, replies = Connection(int(jobs_fd), writable=False), Connection(int(replies_fd), readable=False)
    import importlib

    for name in _PRELOAD:
        importlib.import_module(name)
    if int(memory_mb) > 0:
        _limit_memory(int(memory_mb))
    from ingest.loaders import parse
    from ingest.ocr import OcrOptions

    def ocr_page() -> None:
        replies.send_bytes(_OCR_PAGE)  # the parent's time limit starts again
        if float(timeout_s) > 0:
            signal.alarm(int(float(timeout_s)) + 10)

    # tesseract's own timeout is a backstop for when the parent is gone: the parent's limit comes
    # first and kills the child's process group, tesseract with it.
    ocr = OcrOptions(enabled=ocr_on == "1", max_pages=int(ocr_max_pages),
                     timeout_s=float(timeout_s) + 5 if float(timeout_s) > 0 else 0, on_page=ocr_page)

    # Made now: after a MemoryError there may be no memory left to pickle even this.
    out_of_memory = pickle.dumps(("memory", None))
    replies.send_bytes(b"ready")
    while True:
        try:
            fmt, source, data = pickle.loads(jobs.recv_bytes())
        except (EOFError, OSError):
            return
        # Should the parent be gone (killed), an overrunning parse still ends: SIGALRM's default
        # action ends this process a little after the parent would have.
        if float(timeout_s) > 0:
            signal.alarm(int(float(timeout_s)) + 10)
        outcome: tuple[str, Any] | None = None
        try:
            outcome = ("ok", parse(fmt, source, data, int(max_pages) or None, ocr))
        except RejectedDocument as exc:
            outcome = ("rejected", exc.reason)
        except MemoryError:
            outcome = ("memory", None)
        signal.alarm(0)
        if outcome[0] == "memory":
            # A parse tree (bs4's links parents and children) is cyclic: only the collector
            # gives its memory back, and the next file needs it.
            gc.collect()
        # Pickled outside the except blocks, once the failed parse's frames are freed.
        try:
            reply = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            reply = out_of_memory
        except Exception as exc:  # noqa: BLE001 - e.g. metadata nested too deeply to pickle
            reply = pickle.dumps(("rejected", f"cannot pass on what was parsed ({type(exc).__name__})"))
        outcome = data = None  # type: ignore[assignment]
        replies.send_bytes(reply)


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # not on Windows: the time limit still holds
        return
    limit = memory_mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
