"""What a search draws from the catalog (the lexicon, "did you mean"'s word list), kept in step
with it without a question waiting.

Another process may ingest at any time (``hub ingest`` beside ``hub serve``). The first question
of a process makes its copy at once (a command has nothing to answer from otherwise); after
that, when the catalog has changed, the copy is made again in the background, and questions use
the earlier one meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

log = logging.getLogger(__name__)


class Follower:
    def __init__(self, catalog: Any, make: Callable[[], None], name: str, every_s: float = 0.0) -> None:
        """``make``: builds the copy from the catalog and swaps it in; ``name``: what the log calls
        it; ``every_s``: the fewest seconds between two background builds."""
        self.catalog = catalog
        self.make = make
        self.name = name
        self.every_s = every_s
        self.ready = False  # made at least once
        self._seen: object = None  # the catalog's change marker when last made (or tried)
        self._lock = threading.Lock()  # one build at a time
        self._thread: threading.Thread | None = None
        self._last_start = float("-inf")

    def refresh(self) -> None:
        """Make the copy again now, if the catalog changed since the last time."""
        marker = self.catalog.changes()
        if marker == self._seen:
            return
        with self._lock:
            self.make()
            self.ready, self._seen = True, marker

    def start(self) -> None:
        """Make it in the background (a server at start-up, or after another process's ingest)."""
        self._last_start = time.monotonic()
        self._thread = threading.Thread(target=self._refresh_quietly, name=self.name, daemon=True)
        self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for a background build under way."""
        if self._thread is not None:
            self._thread.join(timeout)

    def keep_current(self) -> None:
        """Before a question: the first one makes the copy now; later ones never wait."""
        if self._thread is not None and self._thread.is_alive():
            return
        changed = self.catalog.changes() != self._seen
        if not self.ready:
            if changed and not self._lock.locked():  # not again after a failure, until a change
                self._refresh_quietly()
        elif changed and time.monotonic() - self._last_start >= self.every_s:
            self.start()

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
        except Exception as exc:  # noqa: BLE001 - questions go on with the copy they have, and say why once
            self._seen = self.catalog.changes()  # not tried again until the catalog changes
            log.warning("the %s could not be made from the catalog (%s): it is tried again when the library "
                        "changes", self.name, exc)
