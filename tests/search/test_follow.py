"""What a search draws from the catalog is made again when the library changes, and a failure to
make it costs one line in the log, not the question."""

from __future__ import annotations

import threading

from hub.catalog import Catalog
from ingest.records import Chunk, Document
from search.follow import Follower


def _doc(doc_id: str, text: str) -> Document:
    return Document(id=doc_id, source=f"{doc_id}.md", title=doc_id, doc_type="evaluation", language="en",
                    content_hash=text, format="md", chunks=[Chunk(f"{doc_id}:0", doc_id, 0, text, 1, None)],
                    extra={"path": f"/library/{doc_id}.md"})


def test_a_failed_build_is_logged_once_and_tried_again_when_the_library_changes(tmp_path, caplog) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.put_document(_doc("a", "Street lighting"))
    calls: list[str] = []

    def make() -> None:
        calls.append("made")
        if len(calls) == 1:
            raise OSError("disk full")

    follower = Follower(catalog, make, "word list")
    with caplog.at_level("WARNING"):
        follower.keep_current()  # the first question: made at once, and it fails
        follower.keep_current()  # not tried again while nothing changed
    assert calls == ["made"] and not follower.ready
    assert caplog.text.count("the word list could not be made from the catalog (disk full)") == 1
    catalog.put_document(_doc("b", "Bus stops"))  # the library changes: tried again, and made
    follower.keep_current()
    assert calls == ["made", "made"] and follower.ready
    catalog.close()


def test_after_the_first_build_a_question_never_waits_for_the_next(tmp_path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.put_document(_doc("a", "Street lighting"))
    release = threading.Event()
    made: list[int] = []

    def make() -> None:
        if made:
            release.wait(60)  # the second build is slow
        made.append(catalog.counts()["documents"])

    follower = Follower(catalog, make, "word list")
    follower.keep_current()
    assert made == [1]
    catalog.put_document(_doc("b", "Bus stops"))
    asking = threading.Thread(target=follower.keep_current)
    asking.start()
    asking.join(10)
    assert not asking.is_alive(), "the question waited for the build"
    release.set()
    follower.join(60)
    assert made == [1, 2]
    catalog.close()
