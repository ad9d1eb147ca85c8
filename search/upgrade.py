"""Homes made before the Qdrant Edge shard: refused with a clear message (``hub upgrade``,
hub/models.py, rebuilds them).

Such a home kept its vectors in qdrant-client's local store (``qdrant/``), copies of them and of
the analysed terms in ``vectors.sqlite`` and ``terms.sqlite``, and snapshots of both
(``*.snapshot-*``). ``hub upgrade`` removes those and writes every catalogued passage into the
shard: vectors come from the embedding cache (nothing is re-embedded unless the cache lost a
passage), keyword vectors from the catalog's text; Whoosh, the catalog and the originals stay.

A shard written before its vectors were stored in half precision (and its payload in memory)
opens and answers as before; ``hub upgrade`` rewrites it in the current layout, half the size.
A shard whose payload indexes are loaded into memory at each opening (before they were
mapped) opens and answers as before; ``hub upgrade`` maps them, in seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

from hub.errors import StoreUnavailable
from hub.settings import Settings


def old_layout(settings: Settings) -> list[Path]:
    """What an earlier hub left in this home (embedded mode only)."""
    if settings.qdrant_url:
        return []
    home = settings.home
    found = [settings.qdrant_path] if settings.qdrant_path.exists() else []
    for name in ("vectors", "terms"):  # the tables, their SQLite journals and their snapshots
        found += sorted(home.glob(f"{name}.sqlite*")) + sorted(home.glob(f"{name}.snapshot*"))
    return found


def outdated_shard(settings: Settings) -> bool:
    """True for an embedded shard in an earlier layout of search/store.py (float32 vectors)."""
    config = settings.edge_path / "edge_config.json"
    if settings.qdrant_url or not config.exists():
        return False
    vectors = (json.loads(config.read_text()).get("vectors") or {}).values()
    return any(v.get("datatype") != "float16" for v in vectors)


def payload_indexes_in_heap(settings: Settings) -> bool:
    """True for an embedded shard whose payload indexes an earlier hub kept in the heap, which
    every opening loads (search/store.py ``_payload_indexes``): ``hub upgrade`` maps them."""
    if settings.qdrant_url:
        return False
    for config in settings.edge_path.glob("segments/*/payload_index/config.json"):
        try:
            fields = json.loads(config.read_text()).get("indexed_fields") or {}
        except (OSError, ValueError):  # a segment the engine is replacing: the next look sees it
            continue
        if any(f.get("memory") != "cold" for f in fields.values()):
            return True
    return False


def refuse_old_layout(settings: Settings) -> None:
    if old_layout(settings) and not settings.edge_path.exists():
        raise StoreUnavailable(
            f"the home {settings.home} was made by an earlier version of the hub (vectors in qdrant/): "
            f"run `hub --home {settings.home} upgrade` once to move its passages into the new index "
            "(no re-embedding)")
