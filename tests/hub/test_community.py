"""Accounts, moderation and briefs through the Python API and the CLI, on real stores."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from hub.brief_export import to_html, to_markdown, to_pdf
from hub.errors import Conflict, Forbidden, InvalidForm, NotFound, TooManyAttempts, Unauthorised
from tests.conftest import PASSWORDS, ROOT
from tests.pdfs import text_pdf
from web.i18n import catalog, translator

CASE = {"title": "Marches exploratoires au Mirail", "city": "Toulouse", "country": "France", "language": "fr",
        "summary": "Des habitantes ont parcouru le quartier de nuit avec les services techniques de la ville.",
        "themes": "femmes, espace public", "results": "Douze lampadaires réparés.", "lessons": "Revenir six mois après."}


def user(hub, name):  # type: ignore[no-untyped-def]
    return hub.accounts.by_name(name)


# --- accounts ----------------------------------------------------------------------------------
def test_passwords_are_argon2id_hashes_and_wrong_ones_fail(live_hub) -> None:
    row = live_hub.community.one("SELECT password_hash FROM users WHERE username = 'amir'")
    assert row["password_hash"].startswith("$argon2id$") and PASSWORDS["amir"] not in row["password_hash"]
    assert live_hub.accounts.authenticate("amir", PASSWORDS["amir"]).role == "member"
    with pytest.raises(Unauthorised, match="wrong user name or password"):
        live_hub.accounts.authenticate("amir", "not-the-password")
    with pytest.raises(Unauthorised, match="wrong user name or password"):
        live_hub.accounts.authenticate("nobody", "not-the-password")
    with pytest.raises(Conflict, match="taken"):
        live_hub.accounts.register("AMIR", "another-password")
    with pytest.raises(InvalidForm, match="at least 10"):
        live_hub.accounts.register("newbie", "short")
    with pytest.raises(InvalidForm, match="user name"):
        live_hub.accounts.register("../etc", "long-enough-password")


def test_login_throttle_per_user_name(live_hub) -> None:
    live_hub.accounts.register("target", "target-password-1")
    for _ in range(5):
        with pytest.raises(Unauthorised):
            live_hub.accounts.authenticate("target", "guess-guess", address="10.0.0.9")
    with pytest.raises(TooManyAttempts, match="try again in"):
        live_hub.accounts.authenticate("target", "target-password-1", address="10.0.0.10")


def test_api_tokens_are_stored_hashed_and_revocable(live_hub) -> None:
    maya = user(live_hub, "maya")
    token = live_hub.accounts.create_token(maya.id, "nightly export")
    assert live_hub.accounts.user_for_token(token).username == "maya"
    stored = [r["token_hash"] for r in live_hub.community.query("SELECT token_hash FROM api_tokens")]
    assert token not in stored
    token_id = live_hub.accounts.tokens(maya.id)[-1]["id"]
    live_hub.accounts.revoke_token(maya.id, token_id)
    assert live_hub.accounts.user_for_token(token) is None


def test_user_names_have_one_spelling_and_text_must_be_unicode(live_hub) -> None:
    from hub.errors import InvalidText

    assert user(live_hub, " Maya ").username == user(live_hub, "ＭＡＹＡ").username == "maya"
    with pytest.raises(Conflict, match="taken"):
        live_hub.accounts.register("ｍａｙａ", "another-password")
    with pytest.raises(InvalidText, match="^password: contains a lone UTF-16 surrogate"):
        live_hub.accounts.register("surrogate", "long-password-\ud800")
    with pytest.raises(InvalidText, match="^title: contains a NUL character"):
        live_hub.briefs.create(user(live_hub, "amir"), {"title": "Night\x00buses"})
    with pytest.raises(Conflict, match="last admin"):
        live_hub.accounts.set_role("ADA", "member")


def test_role_change_ends_sessions(live_hub) -> None:
    before = user(live_hub, "maya").session_version
    assert live_hub.accounts.set_role("maya", "member").session_version == before + 1


# --- moderation ----------------------------------------------------------------------------------
def test_case_study_life_cycle(live_hub, tmp_path: Path) -> None:
    lea = live_hub.accounts.register("lea2", "lea-password-12", display_name="Léa")
    mona = user(live_hub, "mona")
    practice = live_hub.practices()[0].id
    report = text_pdf(tmp_path / "mirail.pdf", [
        "Rapport du Mirail, première page: contexte du quartier et des acteurs.",
        "Deuxième page. La passerelle piétonne de la rue Kiev a reçu un éclairage à détection de présence "
        "après les marches exploratoires nocturnes des habitantes."])
    documents = live_hub.catalog.counts()["documents"]
    sub = live_hub.moderation.submit(lea, CASE | {"practices": [practice]}, ("mirail.pdf", report.read_bytes()))
    assert sub.status == "pending" and [p["page"] for p in sub.preview] == [1, 2]
    # nothing searchable, nothing in the catalog or the indexes before approval
    assert live_hub.catalog.counts()["documents"] == documents
    assert not [h for h in live_hub.search("passerelle rue Kiev détection de présence").hits if "Mirail" in h.title]
    with pytest.raises(Forbidden):
        live_hub.moderation.approve(lea, sub.id)
    with pytest.raises(Forbidden):
        live_hub.moderation.edit(user(live_hub, "maya"), sub.id, CASE)

    approved = live_hub.moderation.approve(mona, sub.id)
    doc = live_hub.catalog.document(approved.doc_id)
    assert doc.doc_type == "case study" and doc.language == "fr" and doc.extra["submitted_by"] == "lea2"
    assert doc.tags == ["femmes", "espace public"] and doc.authors == ["lea2"]
    assert {"practice_id": practice, "doc_id": doc.id, "kind": "declared", "score": None} in \
        live_hub.catalog.practice_links(practice)
    hit = next(h for h in live_hub.search("passerelle rue Kiev détection de présence").hits if h.doc_id == doc.id)
    assert hit.page == 2
    assert live_hub.check().ok

    # an edit of an approved case study waits in the queue; the old version stays until approval
    revised = live_hub.moderation.edit(lea, sub.id, CASE | {"title": "Marches exploratoires au Mirail (bilan)"})
    assert revised.kind == "edit" and revised.status == "pending" and revised.file_name == "mirail.pdf"
    with pytest.raises(Conflict, match="already has a change waiting"):
        live_hub.moderation.withdraw(lea, sub.id)
    assert live_hub.catalog.document(doc.id) is not None
    done = live_hub.moderation.approve(mona, revised.id)
    assert live_hub.moderation.get(sub.id).status == "superseded"
    assert live_hub.catalog.document(done.doc_id).title.endswith("(bilan)")
    assert live_hub.catalog.document(doc.id) is None or done.doc_id == doc.id
    assert live_hub.check().ok

    # withdrawal goes through a moderator too
    request = live_hub.moderation.withdraw(lea, done.id, "The city asked us to wait for the evaluation.")
    assert request.kind == "withdrawal" and live_hub.catalog.document(done.doc_id) is not None
    live_hub.moderation.approve(mona, request.id)
    assert live_hub.catalog.document(done.doc_id) is None
    assert live_hub.moderation.get(done.id).status == "withdrawn"
    assert live_hub.check().ok

    actions = [d["action"] for d in live_hub.moderation.decisions() if d["submission_id"] in (sub.id, revised.id,
                                                                                             request.id)]
    assert sorted(actions) == sorted(["submitted", "approved", "edited", "approved", "withdrawal requested",
                                      "approved"])


def test_rejection_keeps_the_library_unchanged_and_tells_why(live_hub) -> None:
    maya, mona = user(live_hub, "maya"), user(live_hub, "mona")
    documents = live_hub.catalog.counts()["documents"]
    sub = live_hub.moderation.submit(maya, CASE | {"title": "Caméras partout"})
    with pytest.raises(InvalidForm, match="reason"):
        live_hub.moderation.reject(mona, sub.id, "  ")
    rejected = live_hub.moderation.reject(mona, sub.id, "Merci d'ajouter les résultats mesurés.")
    assert rejected.status == "rejected" and rejected.reason.startswith("Merci")
    assert [s.reason for s in live_hub.moderation.mine(maya) if s.id == sub.id] == [rejected.reason]
    assert live_hub.catalog.counts()["documents"] == documents
    with pytest.raises(Conflict):
        live_hub.moderation.approve(mona, sub.id)
    with pytest.raises(NotFound):
        live_hub.moderation.visible_to(user(live_hub, "amir"), sub.id)


@pytest.mark.parametrize("fields, message", [
    ({"title": ""}, "title: required"),
    ({"language": "de"}, "language: one of en, fr, es"),
    ({"practices": ["no-such-practice"]}, "unknown practice no-such-practice"),
    ({"summary": "Too short."}, "summary: a few sentences"),
])
def test_submission_fields_are_checked(live_hub, fields, message) -> None:
    with pytest.raises(InvalidForm, match=message):
        live_hub.moderation.submit(user(live_hub, "maya"), CASE | fields)


# --- briefs ----------------------------------------------------------------------------------------
def build_brief(hub):  # type: ignore[no-untyped-def]
    amir = user(hub, "amir")
    brief = hub.briefs.create(amir, {"title": "Safer stops in Lyon", "question": "women at bus stops at night",
                                     "city": "Lyon", "partners": "TCL"})
    advice = hub.recommend("how do we make women feel safer at bus stops at night?")
    top = advice.recommendations[0]
    hub.briefs.add_practice(amir, brief.id, top.practice.id, [r.chunk_id for r in top.reasons], note="First step.")
    hit = next(h for h in hub.search("request stops between regular stops at night").hits if h.page)
    hub.briefs.add_passage(amir, brief.id, hit.chunk_id, note="The operator's own pilot.")
    hub.briefs.add_note(amir, brief.id, "Context", "Three night lines.")
    return amir, hub.briefs.get(amir, brief.id), top, hit


def test_a_practice_in_a_brief_is_named_in_the_advisor_language(live_hub) -> None:
    """A French advisor's brief names an English-written practice in French, and says what it is
    in French; a brief added to without a language keeps the profile's own words."""
    amir = user(live_hub, "amir")
    brief = live_hub.briefs.create(amir, {"title": "Parcs la nuit", "question": "parcs sombres"})
    practice = next(p for p in live_hub.practices() if p.language == "en" and p.names.get("fr"))
    french = live_hub.briefs.add_practice(amir, brief.id, practice.id, lang="fr")
    assert (french.heading, french.text) == (practice.names["fr"], practice.summaries["fr"])
    assert practice.names["fr"] != practice.name
    md = to_markdown(live_hub.briefs.get(amir, brief.id), translator("fr"))
    assert practice.names["fr"] in md and practice.summaries["fr"] in md
    own = live_hub.briefs.add_practice(amir, brief.id, practice.id)
    assert (own.heading, own.text) == (practice.name, practice.summary)


def test_a_passage_shows_its_heading_once(live_hub) -> None:
    """A section's first passage opens with its heading, which the encoders read with it: a brief
    and the document page show the heading above the passage, and not again in it."""
    from html import escape

    from fastapi.testclient import TestClient

    from web.app import create_app

    chunk = next(c for d in live_hub.documents() for c in live_hub.catalog.chunks_of(d.id)
                 if c.heading and c.text.startswith(c.heading) and len(c.text) > len(c.heading) + 40)
    amir = user(live_hub, "amir")
    brief = live_hub.briefs.create(amir, {"title": "Headings", "question": "headings"})
    item = live_hub.briefs.add_passage(amir, brief.id, chunk.id)
    assert item.heading == chunk.heading and item.text and not item.text.startswith(chunk.heading)
    assert chunk.text.endswith(item.text)
    page = TestClient(create_app(live_hub)).get(f"/documents/{chunk.doc_id}").text
    assert f"<h3>{escape(chunk.heading)}</h3>" in page
    assert f'<p class="passage">{escape(chunk.heading)}' not in page
    assert f'<p class="passage">{escape(item.text[:30])}' in page


def test_brief_exports_cite_every_library_text_with_a_number(live_hub) -> None:
    amir, brief, top, hit = build_brief(live_hub)
    md = to_markdown(brief)
    body, refs = md.split("## References")
    cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", body)})
    listed = [int(n) for n in re.findall(r"^(\d+)\. ", refs, re.M)]
    assert cited == listed == list(range(1, len(listed) + 1))
    assert f"{hit.title}, p. {hit.page}" in refs
    assert f"**Evidence rating: {top.practice.rating.label}.** {top.practice.rating.meaning}" in md
    assert "*Advisor's note:* First step." in md and "Three night lines." in md
    html = to_html(brief)
    assert html.count('<li id="ref-') == len(listed) and "<script" not in html
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(brief))).pages)
    assert "References" in pdf_text and f"p. {hit.page}" in pdf_text and top.practice.rating.label in pdf_text
    # in French, the brief's own words are French; the library's text stays as written
    french = to_markdown(brief, translator("fr"))
    assert "## Références" in french and "**Niveau de preuve: " in french
    assert catalog("fr")[top.practice.rating.meaning] in french and f"{hit.title}, p. {hit.page}" in french
    pdf_fr = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(brief, translator("fr")))).pages)
    assert "Références" in pdf_fr and "Note technique préparée par amir" in pdf_fr


def test_brief_order_privacy_and_sharing(live_hub) -> None:
    amir, brief, _, _ = build_brief(live_hub)
    ids = [i.id for i in brief.items]
    live_hub.briefs.move_item(amir, brief.id, ids[2], -1)
    assert [i.id for i in live_hub.briefs.get(amir, brief.id).items] == [ids[0], ids[2], ids[1]]
    live_hub.briefs.reorder(amir, brief.id, list(reversed(ids)))
    assert [i.id for i in live_hub.briefs.get(amir, brief.id).items] == list(reversed(ids))
    with pytest.raises(InvalidForm):
        live_hub.briefs.reorder(amir, brief.id, ids[:2])
    with pytest.raises(NotFound):
        live_hub.briefs.get(user(live_hub, "maya"), brief.id)
    token = live_hub.briefs.share(amir, brief.id)
    assert live_hub.briefs.shared(token).title == brief.title
    live_hub.briefs.unshare(amir, brief.id)
    with pytest.raises(NotFound):
        live_hub.briefs.shared(token)


def test_brief_text_is_a_copy(live_hub, tmp_path: Path) -> None:
    """Removing a document from the library does not change a brief that quoted it."""
    amir = user(live_hub, "amir")
    page = tmp_path / "memo.md"
    page.write_text("# Memo on night buses\n\nNight buses stop on request between stops for women travelling alone.\n")
    doc_id = live_hub.ingest([page]).doc_ids[0]
    brief = live_hub.briefs.create(amir, {"title": "Copy test"})
    live_hub.briefs.add_passage(amir, brief.id, live_hub.catalog.chunks_of(doc_id)[0].id)
    live_hub.remove(doc_id)
    assert "Night buses stop on request" in to_markdown(live_hub.briefs.get(amir, brief.id))


# --- CLI -------------------------------------------------------------------------------------------
def test_cli_users_and_tokens(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    home = str(tmp_path / "home")

    def hub(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "hub", "--home", home, *args], input=stdin, text=True,
                              capture_output=True, env=env, timeout=60)

    made = hub("users", "add", "root", "--role", "admin", "--password-stdin", stdin="root-password-1\n")
    assert made.returncode == 0 and "created root (admin)" in made.stdout
    assert hub("users", "add", "root", "--password-stdin", stdin="root-password-1\n").returncode == 2
    assert hub("users", "add", "kim", "--password-stdin", stdin="kim-password-12\n").returncode == 0
    changed = hub("users", "role", "kim", "moderator")
    assert "kim is now moderator" in changed.stdout
    token = hub("users", "token", "kim").stdout.strip()
    assert token.startswith("ush_")
    listed = hub("users", "list")
    assert re.search(r"kim\s+moderator", listed.stdout)
    missing = hub("users", "role", "nobody", "admin")
    assert missing.returncode == 2 and "no user named 'nobody'" in missing.stderr and "Traceback" not in missing.stderr
    queue = hub("moderation", "queue")
    assert "the queue is empty" in queue.stdout


def test_concurrent_decisions_and_searches(live_hub) -> None:
    """Moderators approving at the same moment as readers search: one decision per submission,
    no store errors, and the three stores still agree."""
    from concurrent.futures import ThreadPoolExecutor

    maya, mona = user(live_hub, "maya"), user(live_hub, "mona")
    subs = [live_hub.moderation.submit(maya, CASE | {"title": f"Cas numéro {i}"}) for i in range(3)]

    def approve(sub_id: int) -> str:
        try:
            return live_hub.moderation.approve(mona, sub_id).status
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(max_workers=6) as pool:
        decisions = [pool.submit(approve, s.id) for s in subs for _ in range(2)]
        searches = [pool.submit(live_hub.search, "marches exploratoires de nuit") for _ in range(6)]
        results = [f.result() for f in decisions]
        assert all(f.result().hits for f in searches)
    assert sorted(results) == ["approved"] * 3 + ["conflict"] * 3
    assert live_hub.check().ok


def test_a_community_database_made_before_outcomes_gets_the_column(tmp_path) -> None:
    import sqlite3

    from hub.community import CommunityDB

    path = tmp_path / "old.sqlite"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE brief_items (id INTEGER PRIMARY KEY, brief_id INTEGER, position INTEGER, kind TEXT)")
    old.commit()
    old.close()
    db = CommunityDB(path)
    assert "outcomes" in {row["name"] for row in db.query("PRAGMA table_info(brief_items)")}
