"""Search quality on the bundled sample library, against the judged sets in bench/judged/."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
import yaml

from bench._common import ndcg_at
from tests.conftest import JUDGED, LIBRARY

#: The floor the tests enforce; bench/quality.py prints the current figure.
NDCG_FLOOR = 0.85


def _judged(name: str) -> list[dict]:
    return yaml.safe_load((JUDGED / name).read_text(encoding="utf-8"))


def test_sample_library_is_complete(library_hub) -> None:
    docs = library_hub.documents()
    assert len(docs) >= 12
    assert {d.format for d in docs} == {"pdf", "html", "markdown", "text"}
    assert {d.language for d in docs} == {"en", "fr", "es"}
    assert all(d.pages and d.pages > 1 for d in docs if d.format == "pdf")
    judged = _judged("search.yaml")
    assert len(judged) >= 15
    assert sum(j["language"] != "en" for j in judged) >= 5
    files = {p.name for p in LIBRARY.iterdir()}
    assert all(name in files for j in judged for name in j["relevant"])


def test_hybrid_ndcg_floor_on_judged_queries(library_hub) -> None:
    scores = []
    for judged in _judged("search.yaml"):
        hits = library_hub.search(judged["query"], limit=10).hits
        ranked = [Path(h.source).name for h in hits]
        scores.append((ndcg_at(ranked, judged["relevant"]), judged["query"]))
    mean = statistics.mean(s for s, _ in scores)
    assert mean >= NDCG_FLOOR, sorted(scores)[:5]
    assert all(s > 0 for s, _ in scores), [q for s, q in scores if s == 0]


@pytest.mark.parametrize("entry", _judged("pages.yaml"), ids=lambda e: f"{e['file']}:p{e['page']}")
def test_passage_citation_points_at_the_right_page(library_hub, entry: dict) -> None:
    hits = library_hub.search(entry["query"], limit=10).hits
    hit = next((h for h in hits if Path(h.source).name == entry["file"]), None)
    assert hit is not None, f"{entry['file']} not in the top 10 for {entry['query']!r}"
    assert hit.page == entry["page"]
    chunk = library_hub.catalog.chunks_by_ids([hit.chunk_id])[hit.chunk_id]
    assert chunk.page == entry["page"]
