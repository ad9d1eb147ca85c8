"""Export and import a whole hub: catalog, embedding cache, Whoosh, accounts and the originals.

The SQLite files are copied with SQLite's backup API, so an export taken while the hub serves
is still a consistent snapshot of the catalog. The passage index is not copied (its files may be
mid-write): the caller rebuilds it from the catalog and the embedding cache after an import,
without re-embedding (``Hub.upgrade``), then checks the result with ``Hub.check()``. Import
refuses to overwrite a home that holds a hub unless asked.
"""

from __future__ import annotations

import shutil
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from hub.errors import HubError
from hub.settings import Settings

_SQLITE = ("catalog.sqlite", "embeddings.sqlite", "community.sqlite")
_FOLDERS = ("whoosh", "originals", "submissions")
#: Replaced by an import too: the passage index the import rebuilds.
_INDEX = ("edge",)
#: Made from the catalog again after an import: the lexicon (and an earlier hub's word counts,
#: which the catalog now keeps).
_DERIVED = ("speller.json", "lexicon.npz")


def export_hub(settings: Settings, target: Path) -> Path:
    home = settings.home
    if not settings.catalog_path.exists():
        raise HubError(f"{home} holds no hub to export")
    target = target.expanduser().resolve()
    with tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        for name in _SQLITE:
            source = home / name
            if source.exists():
                with sqlite3.connect(str(source)) as src, sqlite3.connect(str(staging / name)) as dst:
                    src.backup(dst)
        with tarfile.open(target, "w:gz") as tar:
            for name in _SQLITE:
                if (staging / name).exists():
                    tar.add(staging / name, arcname=name)
            for name in _FOLDERS:
                if (home / name).exists():
                    tar.add(home / name, arcname=name, filter=_skip_locks)
    return target


def import_hub(settings: Settings, archive: Path, force: bool = False) -> None:
    home = settings.home
    if settings.catalog_path.exists() and not force:
        raise HubError(f"{home} already holds a hub; use another --home or --force to replace it")
    try:
        tar = tarfile.open(archive.expanduser(), "r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise HubError(f"{archive}: not a hub export ({exc})") from None
    with tar:
        names = tar.getnames()
        if "catalog.sqlite" not in names:
            raise HubError(f"{archive}: not a hub export (no catalog.sqlite)")
        for member in tar.getmembers():
            if member.name.startswith(("/", "..")) or ".." in Path(member.name).parts or member.issym() or member.islnk():
                raise HubError(f"{archive}: refuses unsafe path {member.name!r}")
        for name in (*_SQLITE, *_FOLDERS, *_INDEX, *_DERIVED):
            path = home / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        home.mkdir(parents=True, exist_ok=True)
        tar.extractall(home, filter="data")


def _skip_locks(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if info.name.endswith((".lock", "WRITELOCK")) else info
