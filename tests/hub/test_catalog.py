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

    # the document types, remembered for every search, follow both kinds of change too
    profile = _doc("p", "Improved street lighting")
    profile.doc_type = "practice"
    catalog.put_document(profile)
    assert catalog.doc_types() == ["evaluation", "practice"]
    other = Catalog(path)
    other.delete_document("p")
    other.close()
    assert catalog.doc_types() == ["evaluation"]
    catalog.close()


def _counts(catalog: Catalog) -> dict[tuple[str, str], int]:
    return {(lang, word): n for lang, word, n in catalog.word_counts()}


def test_word_counts_follow_every_write_and_an_older_catalog_is_counted_once(tmp_path) -> None:
    """'Did you mean' and the lexicon read the library's words from these counts: an ingest, a
    re-ingest or a removal moves them, and they end where counting the passages again would."""
    import sqlite3

    path = tmp_path / "catalog.sqlite"
    catalog = Catalog(path)
    catalog.put_document(_doc("a", "Street lighting in Lyon"))
    catalog.put_document(_doc("b", "Bus stops at night"))
    counts = _counts(catalog)
    # the title, and the passage that repeats it: twice each; words under three letters are not kept
    assert counts[("en", "lighting")] == 2 and counts[("en", "bus")] == 2 and ("en", "in") not in counts
    assert [w for _, w, _ in catalog.word_counts("en")][:2] == ["bus", "lighting"]  # most frequent first

    catalog.put_document(_doc("a", "Street lamps in Lyon"))  # re-ingested: "lighting" is gone
    assert ("en", "lighting") not in _counts(catalog) and _counts(catalog)[("en", "lamps")] == 2
    catalog.delete_document("b")
    assert set(_counts(catalog)) == {("en", w) for w in ("street", "lamps", "lyon", "text")}
    catalog.close()

    # a catalog written before the counts: they are made once, when it is opened
    db = sqlite3.connect(path)
    db.execute("DELETE FROM words")
    db.execute("DELETE FROM meta WHERE key = 'words'")
    db.commit()
    db.close()
    reopened = Catalog(path)
    assert _counts(reopened) == {("en", w): 2 for w in ("street", "lamps", "lyon")} | {("en", "text"): 1}
    reopened.close()
