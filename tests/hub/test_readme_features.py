"""One test per README feature that had none (issue 18, point 4): the commands of "Command line"
as a person types them, the refusal of a home built with another model, and the search settings
HUB_FUSION, HUB_DENSE_WEIGHT and HUB_CHUNK_WORDS doing what a user would notice.

The command line runs in-process through ``hub.cli.main`` (as tests/hub/test_models.py and
test_outcome_ratings_cli.py do) on the real stores; the session's embedder is handed to the hubs
the commands open, so the model loads once. The model-mismatch test does not hand it over: there
the command itself must read HUB_MODEL.
"""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader
from qdrant_client import QdrantClient

from hub.core import Hub
from hub.settings import Settings
from tests.conftest import DOCUMENTS, LIBRARY, settings_for

RECOMMEND_Q = "women feel unsafe at bus stops at night"


@pytest.fixture(scope="module")
def library_home(library_home: Path, tmp_path_factory) -> Path:
    """A copy of the session's library home: the commands open it as a person's shell would,
    and the session's own hub on the original (``library_hub``, when a test of another package
    ran first) holds its shard."""
    home = tmp_path_factory.mktemp("readme") / "home"
    shutil.copytree(library_home, home, ignore=shutil.ignore_patterns(".lock"))
    return home


@pytest.fixture
def cli(monkeypatch, capsys, embedder):
    """Run `hub ARGS...` in this process: (exit status, stdout, stderr)."""
    import hub.cli
    import hub.cli_community

    def opened(settings: Settings) -> Hub:
        return Hub(settings, embedder=embedder)

    monkeypatch.setattr(hub.cli, "_hub", opened)
    monkeypatch.setattr(hub.cli_community, "_hub", opened)

    def run(home: Path, *args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        status = hub.cli.main(["--home", str(home), *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


# --- hub documents -----------------------------------------------------------------------------
def test_documents_lists_every_document_with_its_passages(cli, library_home: Path) -> None:
    status, out, err = cli(library_home, "documents")
    assert status == 0
    with Hub(settings_for(library_home)) as h:
        docs = {d.id: d for d in h.documents()}
        counts = h.catalog.passage_counts()
    lines = out.splitlines()
    assert len(lines) == len(docs) > 50 and err.strip() == f"{len(docs)} documents"
    for line in lines:
        doc_id, language, rest = line.split(None, 2)
        doc = docs[doc_id]
        assert language == doc.language and rest.startswith(doc.doc_type)
        assert re.search(rf"\s{counts[doc_id]} passages  {re.escape(doc.title)}$", line), line
    walks = next(line for line in lines if "How to run an exploratory walk" in line)
    assert " en  " in walks and "document" in walks

    status, out, _ = cli(library_home, "documents", "--json")
    listed = json.loads(out)
    assert status == 0 and {d["doc_id"] for d in listed} == set(docs)
    assert {"doc_id", "source", "title", "doc_type", "language", "format", "pages", "passages", "tags",
            "year"} <= set(listed[0])
    assert sum(d["passages"] for d in listed) == sum(counts.values())
    pdf = next(d for d in listed if d["source"].endswith("womens-safety-public-transport.en.pdf"))
    assert pdf["format"] == "pdf" and pdf["pages"] >= 2 and pdf["language"] == "en"


# --- hub recommend -----------------------------------------------------------------------------
def test_recommend_cites_why_each_practice_fits_and_lists_forums(cli, library_home: Path) -> None:
    status, out, err = cli(library_home, "recommend", RECOMMEND_Q, "--population", "women")
    assert status == 0, err
    lines = out.splitlines()
    first = re.match(r"^ 1\. (.+)  \[(.+)\]  score (\d\.\d{3})$", lines[0])
    assert first, lines[0]
    assert first.group(1) == "Safer public transport for women"
    assert re.search(r"^ 2\. .+  \[.+\]  score \d\.\d{3}$", out, re.M)
    # "why it fits": passages quoted with their document and page (or "passage" when it has none)
    reasons = re.findall(r'^    - "(.+)" \((.+), (p\. \d+|passage)\)$', out, re.M)
    assert reasons and any(cite.startswith("p. ") for _, _, cite in reasons)
    assert re.search(r"^    Implementation: \S", out, re.M) and re.search(r"^    Cost: \S", out, re.M)
    assert re.search(r"^    Supporting documents: \d+$", out, re.M)
    assert re.search(r"^    Forum: .+ <https?://\S+>$", out, re.M)
    assert "AVOID" not in out

    status, out, _ = cli(library_home, "recommend", RECOMMEND_Q, "--population", "women", "--json", "-n", "3")
    advice = json.loads(out)
    assert status == 0 and advice["context"]["population"] == "women"
    assert len(advice["recommendations"]) == 3
    top = advice["recommendations"][0]
    assert top["practice_id"] == "womens-transit-safety" and top["reasons"] and top["forums"]
    assert {"doc_id", "title", "page", "snippet"} <= set(top["reasons"][0])
    # the pages printed are the pages of the passages quoted
    paged = [(r["title"], f"p. {r['page']}") for r in top["reasons"] if r["page"]]
    assert paged and set(paged) <= {(t, c) for _, t, c in reasons}


def test_recommend_never_recommends_a_harmful_practice_but_lists_it_to_avoid(cli, library_home: Path) -> None:
    question = "scared straight prison visits to deter young offenders"
    status, out, _ = cli(library_home, "recommend", question, "-n", "3")
    assert status == 0
    recommended, avoid = out.split("AVOID: these practices match the question but the evidence shows they do harm\n")
    assert "Scared Straight" not in recommended and "[Harmful]" not in recommended and "[No effect" not in recommended
    assert re.match(r"^ !\. Scared Straight \(prison visits for teenagers\)  \[Harmful\]  score \d\.\d{3}$",
                    avoid.splitlines()[0]), avoid.splitlines()[0]
    assert "Harmful: Rigorous evaluations found that it makes outcomes worse" in avoid

    advice = json.loads(cli(library_home, "recommend", question, "-n", "3", "--json")[1])
    assert [a["practice_id"] for a in advice["avoid"]] == ["scared-straight"]
    assert not {r["rating"] for r in advice["recommendations"]} & {"harmful", "no-effect"}


# --- hub practices list / links ------------------------------------------------------------------
def test_practices_list_names_every_library_profile_with_its_rating(cli, library_home: Path) -> None:
    """Kind and outcome lines are tested in test_outcome_ratings_cli.py; here: every profile of
    the bundled library is listed, once, with its headline rating."""
    status, out, _ = cli(library_home, "practices", "list")
    assert status == 0
    ids = sorted(p.stem for p in (LIBRARY / "practices").glob("*.md"))
    heads = [line for line in out.splitlines() if not line.startswith(" ")]
    assert sorted(line.split()[0] for line in heads) == ids
    scared = next(line for line in heads if line.startswith("scared-straight "))
    assert "Harmful" in scared and "intervention" in scared
    walks = next(line for line in heads if line.startswith("exploratory-walks "))
    assert "Method" in walks and "method" in walks


def test_practices_links_lists_automatic_links_for_review(cli, library_home: Path) -> None:
    status, out, err = cli(library_home, "practices", "links")
    assert status == 0
    lines = out.splitlines()
    assert lines and all(re.match(r"^auto      0\.\d\d  \S+\s+/\S+$", line) for line in lines), lines
    assert err.strip() == (f"{len(lines)} links made automatically; declare them with `practices: [id]` in a "
                           "document's front matter to confirm")
    # an evidence document declaring `practices: [boot-camps]` (and cited by that profile) is not up
    # for review, but `--all` shows it
    boot = str(LIBRARY / "evidence" / "juvenile-boot-camps.en.md")
    assert boot not in out
    status, every, err = cli(library_home, "practices", "links", "--all")
    assert status == 0 and err.strip() == f"{len(every.splitlines())} links"
    assert re.search(rf"^(source|declared)\s+boot-camps\s+{re.escape(boot)}$", every, re.M)
    assert set(lines) <= set(every.splitlines()) and len(every.splitlines()) > len(lines)

    links = json.loads(cli(library_home, "practices", "links", "--json")[1])
    assert len(links) == len(lines) and {link["kind"] for link in links} == {"auto"}
    assert all(set(link) == {"practice_id", "doc_id", "kind", "score"} and link["score"] >= 0.6 for link in links)


# --- hub migrate -------------------------------------------------------------------------------
def test_migrate_copies_the_vectors_to_another_store_and_verifies(cli, make_hub, tmp_path: Path) -> None:
    h = make_hub()
    assert h.ingest([DOCUMENTS / "community-policing-evidence.en.txt",
                     DOCUMENTS / "cultura-ciudadana-bogota.es.txt"]).exit_code == 0
    home, passages = h.settings.home, h.catalog.counts()["passages"]
    docs = {d.id for d in h.documents()}
    h.close()
    dest = tmp_path / "dest"
    status, out, err = cli(home, "migrate", "--to", str(dest))
    assert status == 0, err
    assert out.splitlines() == [
        f"copied {passages} passages to {dest} (source {passages}, destination {passages}, catalog {passages})",
        f"verified. Serve from it with HUB_QDRANT_URL={dest}"]
    client = QdrantClient(path=str(dest))
    try:
        assert client.count("passages", exact=True).count == passages
        points, _ = client.scroll("passages", limit=100, with_payload=True)
        assert {p.payload["doc_id"] for p in points} == docs
    finally:
        client.close()
    # a second copy does not overwrite the first unless told to
    status, _, err = cli(home, "migrate", "--to", str(dest))
    assert status == 2 and err.startswith("error: the destination already holds a passage index") and "--force" in err
    assert cli(home, "migrate", "--to", str(dest), "--force")[0] == 0
    status, _, err = cli(tmp_path / "empty", "migrate", "--to", str(tmp_path / "dest2"))
    assert status == 2 and "holds no passages" in err


# --- hub moderation approve / reject / log, hub briefs export ------------------------------------
CASE = {"title": "Marches exploratoires à Bellevue", "city": "Nantes", "country": "France", "language": "fr",
        "summary": "Des habitantes ont parcouru la passerelle de Bellevue de nuit avec les services techniques.",
        "themes": "femmes, espace public", "results": "Neuf lampadaires réparés sur la passerelle.",
        "lessons": "Revenir six mois après."}


@pytest.fixture(scope="module")
def community_home(tmp_path_factory, library_home: Path, embedder) -> dict:
    """A copy of the library home with a moderator, two members, two case studies waiting and a
    brief; closed before the commands open it."""
    home = tmp_path_factory.mktemp("readme-community") / "home"
    shutil.copytree(library_home, home, ignore=shutil.ignore_patterns(".lock", ".collection"))
    with Hub(settings_for(home), embedder=embedder) as h:
        reg = h.accounts.register
        reg("mona", "moderator-pass-1", role="moderator")
        lea, amir = reg("lea", "member-pass-1234"), reg("amir", "advisor-pass-12")
        reg("maya", "member-pass-123")
        good = h.moderation.submit(lea, CASE | {"practices": ["exploratory-walks"]})
        poor = h.moderation.submit(lea, CASE | {"title": "Caméras partout à Bellevue"})
        brief = h.briefs.create(amir, {"title": "Safer stops in Lyon", "question": RECOMMEND_Q, "city": "Lyon"})
        top = h.recommend(RECOMMEND_Q).recommendations[0]
        h.briefs.add_practice(amir, brief.id, top.practice.id, [r.chunk_id for r in top.reasons])
        hit = next(x for x in h.search("request stops between regular stops at night").hits if x.page)
        h.briefs.add_passage(amir, brief.id, hit.chunk_id, note="The operator's own pilot.")
    return {"home": home, "good": good.id, "poor": poor.id, "brief": brief.id, "top": top.practice, "hit": hit}


def test_moderation_approve_reject_and_log(cli, community_home: dict) -> None:
    home, good, poor = community_home["home"], community_home["good"], community_home["poor"]
    status, out, _ = cli(home, "moderation", "queue")
    assert status == 0 and re.search(rf"^#{good}\s+new\s+lea\s+fr  {CASE['title']}$", out, re.M)

    # a member cannot decide; nothing changes
    status, _, err = cli(home, "moderation", "approve", str(good), "--as", "lea")
    assert status == 2 and err.startswith("error: ") and "\n" not in err.strip() and "Traceback" not in err

    status, out, err = cli(home, "moderation", "approve", str(good), "--as", "mona")
    assert status == 0, err
    approved = re.fullmatch(rf"approved #{good}: indexed as (\S+)\n", out)
    assert approved, out
    doc_id = approved.group(1)
    # the case study is a document now: listed, searchable, attributed to its submitter
    listed = {d["doc_id"]: d for d in json.loads(cli(home, "documents", "--json")[1])}
    assert listed[doc_id]["doc_type"] == "case study" and listed[doc_id]["title"] == CASE["title"]
    hits = json.loads(cli(home, "search", "passerelle de Bellevue lampadaires", "--json", "-n", "3")[1])
    assert hits[0]["doc_id"] == doc_id

    status, out, _ = cli(home, "moderation", "reject", str(poor), "--as", "mona",
                         "--reason", "Merci d'ajouter les résultats mesurés.")
    assert status == 0 and out == f"rejected #{poor}\n"
    titles = [d["title"] for d in json.loads(cli(home, "documents", "--json")[1])]
    assert "Caméras partout à Bellevue" not in titles
    # deciding twice is refused in one line
    status, _, err = cli(home, "moderation", "approve", str(poor), "--as", "mona")
    assert status == 2 and err.startswith("error: ")

    status, out, _ = cli(home, "moderation", "log")
    lines = out.splitlines()
    assert status == 0
    assert re.match(rf"^#{poor}\s+rejected\s+by mona\s+Caméras partout à Bellevue "
                    rf"\(Merci d'ajouter les résultats mesurés\.\)$", lines[0]), lines[0]
    assert re.match(rf"^#{good}\s+approved\s+by mona\s+{CASE['title']}$", lines[1]), lines[1]
    assert any(re.match(rf"^#{good}\s+submitted\s+by lea\s", line) for line in lines)
    log = json.loads(cli(home, "moderation", "log", "--json")[1])
    assert [(d["submission_id"], d["action"], d["username"]) for d in log[:2]] == [
        (poor, "rejected", "mona"), (good, "approved", "mona")]
    assert log[0]["reason"] == "Merci d'ajouter les résultats mesurés."
    assert "the queue is empty" in cli(home, "moderation", "queue")[1]


def test_briefs_export_writes_numbered_citations(cli, community_home: dict, tmp_path: Path) -> None:
    home, brief, hit, top = (community_home[k] for k in ("home", "brief", "hit", "top"))
    status, md, _ = cli(home, "briefs", "export", str(brief), "--as", "amir")
    assert status == 0 and md.startswith("# Safer stops in Lyon")
    body, refs = md.split("## References")
    cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", body)})
    listed = [int(n) for n in re.findall(r"^(\d+)\. ", refs, re.M)]
    assert cited == listed == list(range(1, len(listed) + 1)) and len(listed) >= 2
    assert f"{hit.title}, p. {hit.page}" in refs
    assert f"**Evidence rating: {top.rating.label}.** {top.rating.meaning}" in body

    out_md = tmp_path / "brief.md"
    status, _, err = cli(home, "briefs", "export", str(brief), "--as", "amir", "-o", str(out_md))
    assert status == 0 and err == f"wrote {out_md}\n" and out_md.read_text(encoding="utf-8") == md

    status, _, err = cli(home, "briefs", "export", str(brief), "--as", "amir", "--format", "pdf")
    assert status == 2 and err == "error: a PDF needs --output FILE\n"
    pdf = tmp_path / "brief.pdf"
    status, _, _ = cli(home, "briefs", "export", str(brief), "--as", "amir", "--format", "pdf", "-o", str(pdf))
    assert status == 0 and pdf.read_bytes().startswith(b"%PDF")
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert "References" in text and f"p. {hit.page}" in text and top.rating.label in text

    status, html, _ = cli(home, "briefs", "export", str(brief), "--as", "amir", "--format", "html", "--lang", "fr")
    assert status == 0 and html.count('<li id="ref-') == len(listed) and "Références" in html
    # private to its author
    status, out, err = cli(home, "briefs", "export", str(brief), "--as", "maya")
    assert status == 2 and out == "" and err.startswith("error: ")


# --- a home built with another model -------------------------------------------------------------
def test_a_home_built_with_another_model_is_refused_naming_both(monkeypatch, capsys, library_home: Path,
                                                                   tmp_path: Path) -> None:
    """The command reads HUB_MODEL itself (no embedder handed over); the refusal comes before any
    model loads or anything is written."""
    from hub.cli import main

    with Hub(settings_for(library_home)) as h:
        before = h.catalog.counts()
        assert h.catalog.meta("model") == "use-m3+minilm"
    monkeypatch.setenv("HUB_MODEL", "minilm")
    expected = ("error: this home's passages were embedded with the model 'use-m3+minilm', but HUB_MODEL is "
                "'minilm': run `hub reindex` to re-embed them with 'minilm', or set HUB_MODEL=use-m3+minilm "
                "to use them as they are\n")
    note = tmp_path / "note.md"
    note.write_text("# Night buses\n\nRequest stops between regular stops for women at night.\n")
    for args in (["search", "bus stops at night"], ["recommend", RECOMMEND_Q], ["ingest", str(note)]):
        capsys.readouterr()
        assert main(["--home", str(library_home), *args]) == 2, args
        out, err = capsys.readouterr()
        assert err == expected and out == "", args
    with Hub(settings_for(library_home)) as h:
        assert h.catalog.counts() == before and h.catalog.meta("model") == "use-m3+minilm"


# --- HUB_FUSION, HUB_DENSE_WEIGHT, HUB_CHUNK_WORDS -------------------------------------------------
def _search(cli, monkeypatch, home: Path, query: str, **env: str) -> list[dict]:
    for name in ("HUB_FUSION", "HUB_DENSE_WEIGHT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    status, out, err = cli(home, "search", query, "--json", "-n", "6")
    assert status == 0, err
    return json.loads(out)


def test_hub_fusion_rrf_scores_on_the_reciprocal_rank_scale(cli, monkeypatch, library_home: Path) -> None:
    """Weighted fusion (the default) scores on normalised scores, the best near 1; RRF sums
    weight / (60 + rank), so no score can pass 1/61 (weights sum to 1)."""
    query = "youth violence prevention programmes"
    weighted = _search(cli, monkeypatch, library_home, query)
    rrf = _search(cli, monkeypatch, library_home, query, HUB_FUSION="rrf")
    assert weighted[0]["score"] > 0.5
    assert all(0 < h["score"] <= 1 / 61 + 1e-9 for h in rrf), [h["score"] for h in rrf]
    assert [h["score"] for h in rrf] == sorted((h["score"] for h in rrf), reverse=True)


def test_hub_dense_weight_moves_the_hybrid_order(cli, monkeypatch, library_home: Path) -> None:
    """On this question the dense ranking puts the review of hot spots and focused deterrence
    first, the keyword ranking the youth programme's case: the dense weight decides which leads
    the hybrid results."""
    query = "youth gangs violence"
    status, dense, _ = cli(library_home, "search", query, "--json", "--mode", "dense", "-n", "3")
    status2, keyword, _ = cli(library_home, "search", query, "--json", "--mode", "keyword", "-n", "3")
    dense_top, keyword_top = json.loads(dense)[0]["doc_id"], json.loads(keyword)[0]["doc_id"]
    assert status == status2 == 0 and dense_top != keyword_top

    all_dense = _search(cli, monkeypatch, library_home, query, HUB_DENSE_WEIGHT="1")
    all_keyword = _search(cli, monkeypatch, library_home, query, HUB_DENSE_WEIGHT="0")
    assert all_dense[0]["doc_id"] == dense_top
    assert all_keyword[0]["doc_id"] == keyword_top
    assert [h["doc_id"] for h in all_dense] != [h["doc_id"] for h in all_keyword]


LONG_TEXT = "\n\n".join(
    f"Section {i}. " + " ".join(
        f"In the {name} district residents and officers walked the streets at night, noted broken lamps, "
        f"blind corners and empty bus shelters, and agreed on repairs that the city made within weeks."
        for name in ("north", "south", "east", "west"))
    for i in range(1, 11))  # about 1,300 words in ten paragraphs


def test_hub_chunk_words_changes_how_many_passages_a_document_becomes(cli, monkeypatch, tmp_path: Path) -> None:
    doc = tmp_path / "walks.txt"
    doc.write_text("Night walks in four districts\n\n" + LONG_TEXT + "\n", encoding="utf-8")
    words = len(doc.read_text().split())
    counts = {}
    for size in ("100", "300"):
        monkeypatch.setenv("HUB_CHUNK_WORDS", size)
        home = tmp_path / f"home{size}"
        status, out, err = cli(home, "ingest", str(doc))
        assert status == 0 and "1 added" in out, err
        [listed] = json.loads(cli(home, "documents", "--json")[1])
        counts[size] = listed["passages"]
        with Hub(settings_for(home)) as h:
            lengths = [len(c.text.split()) for c in h.catalog.chunks_of(listed["doc_id"])]
        assert len(lengths) == counts[size] and max(lengths) <= 300
    # about words / size passages each: 1,300 words make some 13 passages of 100, 4 or 5 of 300
    assert counts["100"] >= 2 * counts["300"] and counts["300"] >= 3, counts
    assert abs(counts["100"] - words / 100) <= 4 and abs(counts["300"] - words / 300) <= 2, (counts, words)
