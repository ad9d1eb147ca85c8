"""The `hub` command as a person or a script runs it: real subprocesses, exit codes, JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pdfs import corrupt_pdf, text_pdf

CONTRACT = {"doc_id", "source", "title", "doc_type", "language", "page", "score", "snippet"}


def hub_cli(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "HF_HUB_OFFLINE": "1", **env}
    environ.pop("HUB_HOME", None)
    return subprocess.run([sys.executable, "-m", "hub", "--home", str(home), *args],
                          capture_output=True, text=True, env=environ, timeout=300)


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("cli")
    lib = base / "lib"
    lib.mkdir()
    text_pdf(lib / "review.pdf", ["Hot spots policing in Minneapolis reduced calls for service.",
                                  "Focused deterrence in Boston reduced youth homicide."], title="Policing review")
    (lib / "walks.md").write_text("---\ntitle: Marches exploratoires\nlanguage: fr\ndoc_type: tool guide\n"
                                  "tags: [women]\n---\nLes habitantes repèrent les lieux peu éclairés.\n")
    return base / "home", lib


def test_ingest_search_check_remove_round_trip(cli_home) -> None:
    home, lib = cli_home
    done = hub_cli(home, "ingest", str(lib))
    assert done.returncode == 0, done.stderr
    assert "2 added" in done.stdout and "Traceback" not in done.stderr

    again = hub_cli(home, "ingest", str(lib))
    assert again.returncode == 0 and "2 unchanged" in again.stdout and "0 embedded" in again.stdout

    found = hub_cli(home, "search", "Boston youth homicide", "--json", "--limit", "1")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert len(hits) == 1 and CONTRACT <= set(hits[0])
    assert hits[0]["page"] == 2 and hits[0]["source"] == str(lib / "review.pdf")
    assert isinstance(hits[0]["score"], float)

    filtered = json.loads(hub_cli(home, "search", "éclairage", "--json", "--language", "fr",
                                  "--doc-type", "tool guide", "--tag", "women").stdout)
    assert [h["title"] for h in filtered] == ["Marches exploratoires"] and filtered[0]["page"] is None

    human = hub_cli(home, "search", "Boston youth homicide", "--limit", "1")
    assert "Policing review" in human.stdout and "p. 2" in human.stdout and "**Boston**" in human.stdout

    check = hub_cli(home, "check")
    assert check.returncode == 0 and "ok: the stores agree" in check.stdout

    removed = hub_cli(home, "remove", str(lib / "walks.md"))
    assert removed.returncode == 0 and "removed" in removed.stdout
    listed = hub_cli(home, "documents", "--removed", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == [str((lib / "walks.md").resolve())]
    missing = hub_cli(home, "remove", str(lib / "walks.md"))
    assert missing.returncode == 1 and "not in the hub" in missing.stderr and "Traceback" not in missing.stderr


def test_rejections_set_exit_status_one_without_traceback(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("Community policing\n\nOfficers work with residents on local problems.\n")
    bad = corrupt_pdf(tmp_path / "bad.pdf")
    big = tmp_path / "big.txt"
    big.write_text("x " * 700_000)
    done = hub_cli(tmp_path / "home", "ingest", str(good), str(bad), str(big), HUB_MAX_FILE_MB="1")
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith("rejected")]
    assert len(lines) == 2
    assert any(str(bad) in line and "corrupt PDF" in line for line in lines)
    assert any(str(big) in line and "limit" in line for line in lines)
    assert "Traceback" not in done.stderr and "1 added" in done.stdout


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    done = hub_cli(tmp_path / "home", "search", "   ")
    assert done.returncode == 2 and done.stderr.strip() == "error: empty query: type some words to search for"
    bad_env = hub_cli(tmp_path / "home", "check", HUB_MAX_FILE_MB="lots")
    assert bad_env.returncode == 2 and "HUB_MAX_FILE_MB" in bad_env.stderr and "Traceback" not in bad_env.stderr


def test_export_and_import_round_trip(cli_home, tmp_path: Path) -> None:
    home, lib = cli_home
    assert hub_cli(home, "ingest", str(lib)).returncode == 0
    archive = tmp_path / "hub.tar.gz"
    done = hub_cli(home, "export", str(archive))
    assert done.returncode == 0 and archive.exists(), done.stderr
    restored = tmp_path / "restored"
    imported = hub_cli(restored, "import", str(archive))
    assert imported.returncode == 0, imported.stderr + imported.stdout
    again = hub_cli(restored, "import", str(archive))
    assert again.returncode == 2 and "already holds a hub" in again.stderr
    hits = json.loads(hub_cli(restored, "search", "Boston youth homicide", "--json", "--limit", "1").stdout)
    assert hits[0]["page"] == 2
    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not a tarball")
    refused = hub_cli(tmp_path / "other", "import", str(bogus))
    assert refused.returncode == 2 and "not a hub export" in refused.stderr


def test_a_home_served_by_a_server_imports_into_an_embedded_hub_with_its_phrases(cli_home, tmp_path: Path) -> None:
    # Served by a server (here qdrant-client's local mode), a home keeps no Whoosh; imported
    # into an embedded hub, it gets one written from its catalog, so quoted phrases work.
    _, lib = cli_home
    served = tmp_path / "served"
    server = {"HUB_QDRANT_URL": str(tmp_path / "server")}
    assert hub_cli(served, "ingest", str(lib), **server).returncode == 0
    checked = hub_cli(served, "check", **server)
    assert checked.returncode == 0 and "Whoosh" not in checked.stdout, checked.stdout
    assert not (served / "whoosh").exists() or not any((served / "whoosh").iterdir())
    archive = tmp_path / "served.tar.gz"
    assert hub_cli(served, "export", str(archive), **server).returncode == 0

    restored = tmp_path / "restored"
    imported = hub_cli(restored, "import", str(archive))
    assert imported.returncode == 0, imported.stderr + imported.stdout
    hits = json.loads(hub_cli(restored, "search", '"focused deterrence"', "--json").stdout)
    assert [h["title"] for h in hits] == ["Policing review"]
    checked = hub_cli(restored, "check")
    assert checked.returncode == 0 and "Whoosh: 3 passages" in checked.stdout, checked.stdout
