"""The passage store (search/store.py): an embedded index in use by another process is refused
with one line saying what to do; vectors of another model are refused before anything is
written; deletes by document go through the payload index and leave the other documents; what a
killed process half-built is removed; opening an index does not read its vectors in whole, and
warming reads the dense vectors' files into the page cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub.core import Hub
from hub.errors import StoreUnavailable
from search.store import KEYWORD, Ask, PassageStore
from tests.conftest import QDRANT_URL, settings_for
from tests.hub.test_cli import hub_cli


@pytest.mark.skipif(bool(QDRANT_URL), reason="embedded mode only: a server is shared by design")
def test_an_embedded_index_in_use_by_another_process_is_refused_clearly(tmp_path: Path, embedder) -> None:
    home = tmp_path / "home"
    (tmp_path / "a.md").write_text("---\ntitle: Lamps\n---\nStreet lamps along the river path.\n")
    with Hub(settings_for(home), embedder=embedder) as hub:
        hub.ingest([tmp_path / "a.md"])
        hub.index.warm()  # holds the shard open, as `hub serve` does
        other = hub_cli(home, "search", "lamps")
        assert other.returncode != 0 and "Traceback" not in other.stderr
        assert "in use by another hub process" in other.stderr and "HUB_QDRANT_URL" in other.stderr
    assert hub_cli(home, "search", "lamps").returncode == 0  # free again once the first has closed


def _store(tmp_path: Path) -> PassageStore:
    return PassageStore(settings_for(tmp_path / "home"))


def test_vectors_of_another_model_are_refused_before_anything_is_written(tmp_path: Path) -> None:
    store = _store(tmp_path)
    one = {"use-m3": np.eye(1, 512, dtype=np.float32)}
    store.upsert(["a"], one, [([1], [1.0])], [{"doc_id": "d", "language": "en"}])
    with pytest.raises(StoreUnavailable, match=r"use-m3 \(512\).*minilm \(384\).*hub reindex"):
        store.upsert(["b"], {"minilm": np.eye(1, 384, dtype=np.float32)}, [([1], [1.0])],
                     [{"doc_id": "e", "language": "en"}])
    assert store.passages() == {"a": "d"}
    store.close()


def test_deleting_a_document_leaves_the_others(tmp_path: Path) -> None:
    store = _store(tmp_path)
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((6, 512)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"c{i}" for i in range(6)]
    store.upsert(ids, {"use-m3": vectors}, [([i], [1.0]) for i in range(6)],
                 [{"doc_id": f"d{i % 3}", "language": "en", "tags": []} for i in range(6)])
    store.delete_documents(["d1"])
    assert store.passages() == {"c0": "d0", "c2": "d2", "c3": "d0", "c5": "d2"}
    hits = store.search([Ask("use-m3", vectors[1].tolist(), 10), Ask(KEYWORD, ([4], [1.0]), 10)])
    assert "c1" not in {f.chunk_id for f in hits[0]} and hits[1] == []
    store.close()


@pytest.mark.skipif(bool(QDRANT_URL), reason="the embedded engine's own calls are watched")
def test_the_graph_search_considers_as_many_candidates_as_the_setting_says(tmp_path: Path) -> None:
    """HUB_SEARCH_EF trades speed for recall at scale (bench/RESULTS.md, "Scale"): it must
    reach the engine, and never fall below the passages a question asks for."""
    store = PassageStore(settings_for(tmp_path / "home", search_ef=64))
    vector = np.eye(1, 512, dtype=np.float32)
    store.upsert(["a"], {"use-m3": vector}, [([1], [1.0])], [{"doc_id": "d", "language": "en"}])
    shard, asked = store.driver._shard, []

    class Watched:  # the real shard, its questions' search parameters noted on the way
        def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
            return getattr(shard, name)

        def query(self, request):  # type: ignore[no-untyped-def]
            asked.append(request.params.hnsw_ef)
            return shard.query(request)

    store.driver._shard = Watched()
    assert [f.chunk_id for f in store.search([Ask("use-m3", vector[0].tolist(), 10)])[0]] == ["a"]
    assert store.search([Ask("use-m3", vector[0].tolist(), 100)])[0]
    assert asked == [64, 100]
    store.driver._shard = shard
    store.close()


_WRITE_THEN_OPTIMISE = """
import sys
import numpy as np
from pathlib import Path
from search.store import PassageStore
from tests.conftest import settings_for
store = PassageStore(settings_for(Path(sys.argv[1])))
rng = np.random.default_rng(0)
for start in range(0, 10000, 2000):
    ids = [f"c{i}" for i in range(start, start + 2000)]
    store.upsert(ids, {"use-m3": rng.standard_normal((2000, 512)).astype(np.float32)},
                 [([i % 997], [1.0]) for i in range(2000)], [{"doc_id": c, "language": "en"} for c in ids])
print("written", flush=True)
store.flush()  # the engine builds the optimised segment under temp_segments/
"""


@pytest.mark.skipif(bool(QDRANT_URL), reason="embedded mode only: a server keeps its own segments")
def test_a_segment_half_built_when_the_process_was_killed_is_removed_at_the_next_opening(tmp_path: Path) -> None:
    """`kill -9` while the engine builds a segment leaves it under edge/temp_segments, which the
    engine never removes (1.8 GB at 500,000 passages): the next process to hold the shard does,
    and every written passage is there (the write-ahead log)."""
    import os
    import signal
    import subprocess
    import sys
    import time

    home = tmp_path / "home"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", _WRITE_THEN_OPTIMISE, str(home)], cwd=root,
                             stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(root)})
    assert child.stdout is not None and child.stdout.readline().strip() == "written"
    temp = home / "edge" / "temp_segments"
    deadline = time.monotonic() + 30
    while not any(temp.glob("*")) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert any(temp.glob("*")), "the child finished its segment before it could be killed"

    store = PassageStore(settings_for(home))
    assert store.count() == 10000  # opens the shard
    assert not any(temp.glob("*"))
    store.close()


_OPEN_AND_SEARCH = """
import sys
import numpy as np
from pathlib import Path
from search.store import Ask, PassageStore
from tests.conftest import settings_for

def vectors_resident_mb():
    # what this process holds in memory of the shard's dense vector files
    kb, counting = 0, False
    for line in open("/proc/self/smaps"):
        if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
            counting = "vector_storage-" in line
        elif counting and line.startswith("Rss:"):
            kb += int(line.split()[1])
    return kb / 1024

store = PassageStore(settings_for(Path(sys.argv[1])))
store.search([Ask("use-m3", [1.0] + [0.0] * 511, 10), Ask("minilm", [1.0] + [0.0] * 383, 10)])
print(vectors_resident_mb())
"""


@pytest.mark.skipif(bool(QDRANT_URL), reason="embedded mode only: a server's memory is its own")
def test_opening_an_index_does_not_read_its_new_points_storage_in_whole(tmp_path: Path) -> None:
    """The points an ingest leaves in the segment that takes new ones sit in 32 MB chunks per
    encoder: a server that read them in whole at opening held 67 MB more at 100,000 passages,
    over the 1 GB the hub keeps to (bench/scale.py). Opening and searching a few hundred
    passages' index holds far less than one chunk of their vectors."""
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    store = PassageStore(settings_for(home))
    rng = np.random.default_rng(0)
    ids = [f"c{i}" for i in range(300)]
    store.upsert(ids, {"use-m3": rng.standard_normal((300, 512)).astype(np.float32),
                       "minilm": rng.standard_normal((300, 384)).astype(np.float32)},
                 [([i], [1.0]) for i in range(300)], [{"doc_id": c, "language": "en"} for c in ids])
    store.flush()
    store.close()
    root = Path(__file__).resolve().parents[2]
    resident = subprocess.run([sys.executable, "-c", _OPEN_AND_SEARCH, str(home)], cwd=root, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(root)}, check=True)
    assert float(resident.stdout.strip()) < 32, resident.stdout


@pytest.mark.skipif(bool(QDRANT_URL), reason="embedded mode only: a server keeps its own cache")
def test_warming_reads_the_dense_vectors_and_payload_indexes_into_the_page_cache_and_not_the_keyword_ones(
        tmp_path: Path) -> None:
    """A new process read each vector its first searches touched from the disk, since the engine
    leaves the files out of the page cache when a shard closes: warming reads them all once, and
    the mapped payload indexes that filters read (the keyword vectors, which no search reads,
    stay on disk)."""
    store = _store(tmp_path)
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((40, 512)).astype(np.float32)
    store.upsert([f"c{i}" for i in range(40)], {"use-m3": vectors}, [([i], [1.0]) for i in range(40)],
                 [{"doc_id": f"d{i}", "language": "en", "tags": []} for i in range(40)])
    store.flush()
    store.close()
    store = _store(tmp_path)
    assert store.dims == {"use-m3": 512}
    edge = store.settings.edge_path

    def size(folder: str) -> int:
        return sum(f.stat().st_size for f in edge.glob(f"segments/*/{folder}/**/*") if f.is_file())

    assert size("vector_storage-use-m3") > 40 * 512 * 2 and size(f"vector_storage-{KEYWORD}") > 0
    assert size("payload_index") > 0
    assert store.warm_cache() == size("vector_storage-use-m3") + size("payload_index")
    store.close()
