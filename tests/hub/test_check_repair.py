"""`hub check` names the documents behind any disagreement between the stores, and
`hub check --repair` makes the indexes agree with the catalog again."""

from __future__ import annotations

from pathlib import Path

from hub.core import Hub
from tests.conftest import settings_for
from tests.hub.test_cli import hub_cli

TEXT = "{title}\n\n{body} Residents and wardens walked the route at night and noted dark corners.\n"


def _library(folder: Path) -> Path:
    folder.mkdir()
    (folder / "lamps.txt").write_text(TEXT.format(title="Lamps", body="The city replaced sodium lamps."))
    (folder / "hedges.txt").write_text(TEXT.format(title="Hedges", body="Gardeners trimmed the hedges."))
    (folder / "benches.txt").write_text(TEXT.format(title="Benches", body="Carpenters mended the benches."))
    return folder


def test_check_names_the_documents_and_repair_fixes_the_indexes(make_hub, embedder, tmp_path: Path) -> None:
    hub = make_hub()
    lib = _library(tmp_path / "lib")
    report = hub.ingest([lib])
    ids = {Path(s).stem: d for s, d in zip(report.added, report.doc_ids)}
    # An interrupted write: the indexes hold a document the catalog never recorded.
    hub.catalog.delete_document(ids["lamps"])
    # Lost index entries: Qdrant lacks one catalogued document, Whoosh another.
    hub.index.store.delete_documents([ids["hedges"]])
    with hub.index.keyword.writer() as batch:
        batch.delete_documents([ids["benches"]])
    hub.flush()
    home = hub.settings.home
    hub.close()

    check = hub_cli(home, "check")
    assert check.returncode == 1, check.stdout + check.stderr
    problems = [line for line in check.stdout.splitlines() if line.startswith("problem:")]
    assert any("Qdrant holds" in p and f"{ids['lamps']} (not in the catalog)" in p for p in problems), problems
    assert any("Whoosh holds" in p and ids["lamps"] in p for p in problems), problems
    assert any("Qdrant lacks" in p and f"{ids['hedges']} ({lib / 'hedges.txt'})" in p for p in problems), problems
    assert any("Whoosh lacks" in p and f"{ids['benches']} ({lib / 'benches.txt'})" in p for p in problems), problems
    assert "hub check --repair" in check.stdout

    repair = hub_cli(home, "check", "--repair")
    assert repair.returncode == 0, repair.stdout + repair.stderr
    assert "removed 1 passage(s)" in repair.stdout and "re-indexed 2 document(s)" in repair.stdout
    assert "ok: the stores agree" in repair.stdout

    with Hub(settings_for(home), embedder=embedder) as again:
        assert again.check().ok
        hits = again.search("carpenters mended benches", mode="keyword").hits
        assert hits and hits[0].doc_id == ids["benches"]
        hits = again.search("gardeners trimmed hedges", mode="dense").hits
        assert hits and hits[0].doc_id == ids["hedges"]


def test_repair_names_documents_whose_original_is_gone(make_hub, tmp_path: Path) -> None:
    hub = make_hub()
    report = hub.ingest([_library(tmp_path / "lib")])
    doc = hub.document(report.doc_ids[0])
    hub.original(doc).unlink()

    repaired = hub.repair()

    assert repaired.reingest == [f"{doc.id} ({doc.source})"]
    assert not repaired.after.ok and repaired.after.no_original == [doc.id]
    assert any(doc.id in p and "ingest it again" in p for p in repaired.after.problems)
