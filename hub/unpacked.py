"""Unpacked copies of the compressed model files that packages ship, for a fast start.

The multilingual encoder's weights (a zip-compressed npz, 65 MB unpacked) and the language
identifier's model (LZMA, 65 MB unpacked) were decompressed on every start: 0.45 and 0.4 s of a
server's 2 s start-up (bench/scale.py). A copy unpacked once into the model cache
(``HUB_MODEL_CACHE``) loads in a tenth of that; MiniLM's question graph, written from its
weights (search/question_graph.py), is kept the same way. Nothing is downloaded: each copy is
made from the installed package's own file, and named by that file's path, size and modification
time, so a reinstalled package gets a new copy (and the old one is removed).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)


def unpacked(cache: Path | None, source: Path, unpack: Callable[[Path, Path], None], suffix: str = ".npz",
             recipe: str = "") -> Path | None:
    """The copy of ``source`` that ``unpack(source, destination)`` writes (a file ending in
    ``suffix``), made now if missing. ``recipe`` names what ``unpack`` makes (a version, the
    languages kept): a copy made by another recipe is not read.

    None when there is no cache folder or it cannot be written (a read-only file system): the
    caller then reads the package's file as before. Writes go to a temporary name first, so a
    crash or a second process never leaves a half-written copy under the final name."""
    if cache is None:
        return None
    stat = source.stat()
    key = hashlib.blake2b(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{recipe}".encode(),
                          digest_size=6).hexdigest()
    stem = f"{source.parent.parent.name}-{source.name.split('.')[0]}"
    target = cache / f"{stem}-{key}{suffix}"
    if target.exists():
        return target
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        unpack(source, temporary)
        os.replace(temporary, target)
    except OSError as exc:
        log.info("cannot keep an unpacked copy of %s in %s (%s): reading the package's file", source, cache, exc)
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)
        return None
    for older in cache.glob(f"{stem}-*{suffix}"):
        if older != target:  # an earlier version of the package's file
            older.unlink(missing_ok=True)
    return target
