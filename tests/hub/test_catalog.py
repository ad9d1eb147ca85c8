"""The catalog remembers documents for searches, and forgets them as soon as anything changes."""

from __future__ import annotations

from hub.catalog import Catalog
from ingest.records import Chunk, Document


def _doc(doc_id: str, title: str) -> Document:
    return Document(id=doc_id, source=f"{doc_id}.md", title=title, doc_type="evaluation", language="en",
                    content_hash=title, format="md", tags=["lighting"], year=2010,
                    chunks=[Chunk(f"{doc_id}:0", doc_id, 0, f"{title} text", 1, None)],
                    extra={"path": f"/library/{doc_id}.md"})


def test_remembered_documents_follow_every_change(tmp_path) -> None:
    path = tmp_path / "catalog.sqlite"
    catalog = Catalog(path)
    catalog.put_document(_doc("a", "Street lighting in Lyon"))
    catalog.put_document(_doc("b", "Bus stops at night"))
    assert {d.title for d in catalog.documents_by_ids(["a", "b", "missing"]).values()} == {
        "Street lighting in Lyon", "Bus stops at night"}

    # a change through this connection (a re-ingest with a new title)
    catalog.put_document(_doc("a", "Street lighting in Lyon, second edition"))
    assert catalog.documents_by_ids(["a"])["a"].title == "Street lighting in Lyon, second edition"

    # a change by another process (here another connection): the server sees an ingest run by the CLI
    other = Catalog(path)
    other.delete_document("b")
    other.put_document(_doc("c", "Exploratory walks"))
    other.close()
    found = catalog.documents_by_ids(["a", "b", "c"])
    assert set(found) == {"a", "c"} and found["c"].title == "Exploratory walks"
    assert catalog.doc_types() == ["evaluation"]
    catalog.close()
