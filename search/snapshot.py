"""Snapshots of the in-memory search stores, so a hub starts in about a second at 100,000 passages.

The SQLite tables stay the record (written in the same transactions as before); a snapshot is a
copy of what a store builds from them in memory: NumPy arrays, one ``.npy`` file each, in a folder
named after the table's *generation* (``vectors.snapshot-<epoch>-42/``). Every write transaction bumps
the generation, and a snapshot is used only if it was taken at the current one: a crash between a
write and the next snapshot costs one slow start (rebuilt from the table), never stale results.

Arrays are memory-mapped copy-on-write, so opening costs nothing and only the pages a search
touches are read; a folder is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


def pack(strings: list[str]) -> np.ndarray:
    """Strings without newlines (passage ids, analysed terms) as one UTF-8 byte array."""
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def unpack(packed: np.ndarray, count: int) -> list[str]:
    if count == 0:
        return []
    return bytes(packed).decode("utf-8").split("\n")


def _folder(base: Path, generation: str) -> Path:
    return base.with_name(f"{base.name}-{generation}")


def save(base: Path, generation: str, arrays: dict[str, np.ndarray], meta: dict | None = None) -> Path:
    """Write the arrays as ``<base>-<generation>/`` and remove older snapshots of ``base``."""
    target = _folder(base, generation)
    for stale in base.parent.glob(f".{base.name}-*"):  # left by a crash while writing
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{base.name}-", dir=base.parent))
    try:
        for name, array in arrays.items():
            with open(tmp / f"{name}.npy", "wb") as f:
                np.save(f, np.ascontiguousarray(array), allow_pickle=False)
                f.flush()
                os.fsync(f.fileno())
        (tmp / "meta.json").write_text(json.dumps({**(meta or {}), "generation": generation}))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for old in base.parent.glob(f"{base.name}-*"):
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return target


def load(base: Path, generation: str) -> tuple[dict[str, np.ndarray], dict] | None:
    """The snapshot taken at ``generation`` (arrays memory-mapped), or None when there is none
    or it is damaged."""
    folder = _folder(base, generation)
    try:
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("generation") != generation:
            return None
        return {f.stem: _map(f) for f in folder.glob("*.npy")}, meta
    except (OSError, ValueError):
        return None


def _map(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="c", allow_pickle=False)
    except ValueError:  # an empty array cannot be mapped
        return np.load(path, allow_pickle=False)


def remove(base: Path) -> None:
    for old in base.parent.glob(f"{base.name}-*"):
        shutil.rmtree(old, ignore_errors=True)
