"""Unpacked copies of the compressed model files that packages ship, for a fast start.

The multilingual encoder's weights (a zip-compressed npz, 65 MB unpacked) and the language
identifier's model (LZMA, 65 MB unpacked) were decompressed on every start: 0.45 and 0.4 s of a
server's 2 s start-up (bench/scale.py). A copy unpacked once into the model cache
(``HUB_MODEL_CACHE``) loads in a tenth of that; MiniLM's question graph, written from its
weights (search/question_graph.py), is kept the same way. Nothing is downloaded: each copy is
made from the installed package's own file, and named by that file's path, size and modification
time, so a reinstalled package gets a new copy (and the old one is removed). The thesaurus's
analysed labels are kept the same way, named by its file (search/thesaurus.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Callable

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
    target = _copy_path(cache, source, suffix, recipe)
    if target.exists():
        return target
    stem = target.name.rsplit("-", 1)[0]
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


def _copy_path(cache: Path, source: Path, suffix: str, recipe: str) -> Path:
    """Where the copy of ``source`` made by ``recipe`` is kept: named by the source's path, size
    and modification time, so a reinstalled package gets a new copy."""
    stat = source.stat()
    key = hashlib.blake2b(f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{recipe}".encode(),
                          digest_size=6).hexdigest()
    return cache / f"{source.parent.parent.name}-{source.name.split('.')[0]}-{key}{suffix}"


class Rows:
    """The rows of a two-dimensional array kept in an ``.npy`` file, read from it when asked for
    (``rows[ids]``, as with an array): nothing of the table is held by the process.

    Why: an embedding table is read a few rows at a time (a question's tokens), yet held whole it
    stays resident for good: USE's table is 62 MB, MiniLM's word embeddings 45 MB, of a server's
    1 GB at 100,000 passages (bench/scale.py). A memory map did not help: the system maps 16
    neighbouring pages at each fault, and a few hundred questions made both tables resident
    again. Read with ``pread``, the rows stay in the system's file cache, which it can reclaim."""

    def __init__(self, path: Path) -> None:
        import numpy as np

        with open(path, "rb") as f:
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}[np.lib.format.read_magic(f)]
            shape, fortran, dtype = read_header(f)
            offset = f.tell()
        if len(shape) != 2 or fortran:
            raise ValueError(f"{path}: not a table of rows")
        self.shape, self.dtype, self.ndim = tuple(shape), np.dtype(dtype), 2
        self._offset, self._width = offset, shape[1] * np.dtype(dtype).itemsize
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, ids: Any) -> Any:
        import numpy as np

        ids = np.asarray(ids, dtype=np.int64)
        wanted, where = np.unique(ids, return_inverse=True)
        if wanted.size and (wanted[0] < 0 or wanted[-1] >= self.shape[0]):
            raise IndexError(f"row out of range 0..{self.shape[0] - 1}")
        data = b"".join(os.pread(self._fd, self._width, self._offset + int(i) * self._width) for i in wanted)
        rows = np.frombuffer(data, dtype=self.dtype).reshape(len(wanted), self.shape[1])
        return rows[where.reshape(ids.shape)]

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            os.close(self._fd)


def rows_on_disk(cache: Path | None, source: Path, array: Callable[[], Any], recipe: str) -> Rows | None:
    """``array()`` (a table made from ``source``) kept in the model cache and read row by row
    (:class:`Rows`); None without a cache."""
    import numpy as np

    def write(_: Path, target: Path) -> None:
        with open(target, "wb") as out:  # np.save on a path would add its own ".npy"
            np.save(out, np.ascontiguousarray(array()), allow_pickle=False)

    copy = unpacked(cache, source, write, suffix=".npy", recipe=recipe)
    return Rows(copy) if copy is not None else None


def cached_rows(cache: Path | None, source: Path, recipe: str) -> Rows | None:
    """The table ``rows_on_disk`` keeps, if it is in the model cache already (None otherwise):
    read without making what ``array()`` would have to load."""
    if cache is None:
        return None
    copy = _copy_path(cache, source, ".npy", recipe)
    return Rows(copy) if copy.exists() else None
