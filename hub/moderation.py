"""Case studies shared by members, held in a queue until a moderator decides.

Nothing a member submits reaches the catalog or either index before approval: the submission and
its file wait under ``home/submissions/<id>/``, checked and with their text extracted (so a file
the hub cannot read is refused at once, and moderators preview what would be indexed). Approval
ingests the case study as one document attributed to its submitter and declared against its
practices; an edit or a withdrawal of an approved case study is a submission of its own and goes
through the same queue. Every step is written to the decision log.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hub.accounts import User
from hub.community import CommunityDB
from hub.errors import Conflict, Forbidden, InvalidForm, NotFound, RejectedDocument
from hub.forms import clean_text
from ingest import files
from ingest.records import Section



class Library(Protocol):
    """What moderation needs of the hub: the settings, the write lock, the parse worker, the
    practice ids, ingest and remove. A protocol rather than ``hub.core.Hub``, so that this
    module sits below the facade that builds it."""

    settings: Any

    @property
    def write_lock(self) -> Any: ...  # noqa: E704

    @property
    def parser(self) -> Any: ...  # noqa: E704

    def practices(self) -> list[Any]: ...  # noqa: E704

    def ingest(self, paths: Any, on_reject: Any = None, force: bool = False,  # noqa: E704
               overrides: Any = None) -> Any: ...

    def remove(self, source: str) -> list[Any]: ...  # noqa: E704

LANGUAGES = ("en", "fr", "es")
_LIMITS = {"title": 200, "city": 100, "country": 100, "summary": 6000, "results": 6000, "lessons": 6000}
_SAFE_NAME = re.compile(r"^[^/\\\x00]{1,200}$")


@dataclass
class Submission:
    id: int
    user_id: int
    username: str
    kind: str
    target_id: int | None
    status: str
    title: str
    city: str
    country: str
    language: str
    summary: str
    practices: list[str]
    themes: list[str]
    results: str
    lessons: str
    file_name: str | None
    preview: list[dict[str, Any]]
    doc_id: str | None
    reason: str | None
    created_at: float
    updated_at: float
    decisions: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "id", "username", "kind", "target_id", "status", "title", "city", "country", "language",
            "summary", "practices", "themes", "results", "lessons", "file_name", "doc_id", "reason",
            "created_at", "updated_at", "decisions")}


class Moderation:
    def __init__(self, db: CommunityDB, hub: Library) -> None:
        self.db = db
        self.hub = hub
        self.root = hub.settings.submissions_path

    # --- members -------------------------------------------------------------------------------
    def submit(self, user: User, fields: dict[str, Any], upload: tuple[str, bytes] | None = None) -> Submission:
        """Queue a new case study. The file is checked and read now: a bad one is refused here."""
        values = self._clean(fields)
        extracted = self._check_file(upload) if upload else None
        now = time.time()
        sub_id = self.db.execute(
            "INSERT INTO submissions (user_id, kind, status, title, city, country, language, summary, practices,"
            " themes, results, lessons, preview, created_at, updated_at)"
            " VALUES (?, 'new', 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)",
            (user.id, values["title"], values["city"], values["country"], values["language"], values["summary"],
             json.dumps(values["practices"]), json.dumps(values["themes"]), values["results"], values["lessons"],
             now, now))
        self._store(sub_id, upload, extracted)
        self._log(sub_id, user, "submitted")
        return self.get(sub_id)

    def edit(self, user: User, sub_id: int, fields: dict[str, Any],
             upload: tuple[str, bytes] | None = None) -> Submission:
        """A pending submission changes in place; an approved one gets a new revision in the queue."""
        current = self.get(sub_id)
        self._own(user, current)
        values = self._clean(fields)
        extracted = self._check_file(upload) if upload else None
        now = time.time()
        cols = ("title", "city", "country", "language", "summary", "results", "lessons")
        if current.status == "pending" and current.kind != "withdrawal":
            self.db.execute(
                "UPDATE submissions SET " + ", ".join(f"{c} = ?" for c in cols) + ", practices = ?, themes = ?,"
                " updated_at = ? WHERE id = ?",
                [values[c] for c in cols] + [json.dumps(values["practices"]), json.dumps(values["themes"]), now, sub_id])
            if upload:
                self._store(sub_id, upload, extracted)
            self._log(sub_id, user, "edited")
            return self.get(sub_id)
        if current.status != "approved":
            raise Conflict(f"submission {sub_id} is {current.status}; only pending or approved ones can be edited")
        self._no_open_revision(current)
        new_id = self.db.execute(
            "INSERT INTO submissions (user_id, kind, target_id, status, title, city, country, language, summary,"
            " practices, themes, results, lessons, preview, created_at, updated_at)"
            " VALUES (?, 'edit', ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', ?, ?)",
            (user.id, sub_id, values["title"], values["city"], values["country"], values["language"],
             values["summary"], json.dumps(values["practices"]), json.dumps(values["themes"]),
             values["results"], values["lessons"], now, now))
        if upload:
            self._store(new_id, upload, extracted)
        elif current.file_name:  # the revision keeps the approved file unless a new one is given
            src = self._folder(sub_id) / current.file_name
            self._store(new_id, (current.file_name, src.read_bytes()), None, preview=current.preview)
        self._log(new_id, user, "edited")
        return self.get(new_id)

    def withdraw(self, user: User, sub_id: int, reason: str = "") -> Submission:
        """A pending submission is withdrawn at once; an approved case study leaves the library
        after a moderator confirms (the request is queued like any submission)."""
        current = self.get(sub_id)
        self._own(user, current)
        if current.status == "pending":
            self._set_status(sub_id, "withdrawn")
            self._log(sub_id, user, "withdrawn", reason)
            return self.get(sub_id)
        if current.status != "approved":
            raise Conflict(f"submission {sub_id} is {current.status}; there is nothing to withdraw")
        self._no_open_revision(current)
        now = time.time()
        new_id = self.db.execute(
            "INSERT INTO submissions (user_id, kind, target_id, status, title, city, country, language, summary,"
            " practices, themes, results, lessons, preview, reason, created_at, updated_at)"
            " SELECT user_id, 'withdrawal', id, 'pending', title, city, country, language, summary, practices,"
            " themes, results, lessons, '[]', ?, ?, ? FROM submissions WHERE id = ?",
            (reason.strip()[:1000] or None, now, now, sub_id))
        self._log(new_id, user, "withdrawal requested", reason)
        return self.get(new_id)

    def mine(self, user: User) -> list[Submission]:
        rows = self.db.query("SELECT s.*, u.username FROM submissions s JOIN users u ON u.id = s.user_id"
                             " WHERE s.user_id = ? ORDER BY s.id DESC", (user.id,))
        return [self._from_row(r) for r in rows]

    # --- moderators ----------------------------------------------------------------------------
    def queue(self) -> list[Submission]:
        rows = self.db.query("SELECT s.*, u.username FROM submissions s JOIN users u ON u.id = s.user_id"
                             " WHERE s.status = 'pending' ORDER BY s.created_at")
        return [self._from_row(r) for r in rows]

    def approve(self, moderator: User, sub_id: int) -> Submission:
        _moderator(moderator)
        with self.hub.write_lock:  # two moderators clicking at once: one decides, the other gets 409
            return self._approve(moderator, sub_id)

    def _approve(self, moderator: User, sub_id: int) -> Submission:
        sub = self._pending(sub_id)
        if sub.kind == "withdrawal":
            target = self.get(sub.target_id or 0)
            if target.doc_id:
                self._remove_document(target.doc_id)
            self._set_status(target.id, "withdrawn")
            self._set_status(sub_id, "approved")
            self._log(sub_id, moderator, "approved")
            return self.get(sub_id)
        doc_id = self._ingest(sub)
        if sub.kind == "edit" and sub.target_id:
            target = self.get(sub.target_id)
            if target.doc_id and target.doc_id != doc_id:
                self._remove_document(target.doc_id)
            self._set_status(target.id, "superseded")
        self.db.execute("UPDATE submissions SET status = 'approved', doc_id = ?, reason = NULL, updated_at = ?"
                        " WHERE id = ?", (doc_id, time.time(), sub_id))
        self._log(sub_id, moderator, "approved")
        return self.get(sub_id)

    def reject(self, moderator: User, sub_id: int, reason: str) -> Submission:
        _moderator(moderator)
        reason = reason.strip()
        if not reason:
            raise InvalidForm("reason: say why, the member sees it")
        with self.hub.write_lock:
            self._pending(sub_id)
            self.db.execute("UPDATE submissions SET status = 'rejected', reason = ?, updated_at = ? WHERE id = ?",
                            (reason[:2000], time.time(), sub_id))
            self._log(sub_id, moderator, "rejected", reason[:2000])
        return self.get(sub_id)

    def decisions(self, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT d.*, u.username, s.title FROM decisions d JOIN users u ON u.id = d.user_id"
                             " JOIN submissions s ON s.id = d.submission_id ORDER BY d.id DESC LIMIT ?", (limit,))
        return [dict(r) for r in rows]

    # --- reading -------------------------------------------------------------------------------
    def get(self, sub_id: int) -> Submission:
        row = self.db.one("SELECT s.*, u.username FROM submissions s JOIN users u ON u.id = s.user_id"
                          " WHERE s.id = ?", (sub_id,))
        if row is None:
            raise NotFound(f"no submission {sub_id}")
        sub = self._from_row(row)
        sub.decisions = [dict(r) for r in self.db.query(
            "SELECT d.action, d.reason, d.at, u.username FROM decisions d JOIN users u ON u.id = d.user_id"
            " WHERE d.submission_id = ? ORDER BY d.id", (sub_id,))]
        return sub

    def visible_to(self, user: User | None, sub_id: int) -> Submission:
        """A submission, for its author or a moderator; others get NotFound (no leak of drafts)."""
        sub = self.get(sub_id)
        if user is None or (sub.user_id != user.id and not user.can("moderator")):
            raise NotFound(f"no submission {sub_id}")
        return sub

    # --- internals -----------------------------------------------------------------------------
    def _clean(self, fields: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = clean_text(fields, _LIMITS)
        for key in ("title", "city", "country", "summary"):
            if not values[key]:
                raise InvalidForm(f"{key}: required")
        if len(values["summary"].split()) < 5:
            raise InvalidForm("summary: a few sentences at least (5 words or more)")
        language = str(fields.get("language") or "").strip().lower()
        if language not in LANGUAGES:
            raise InvalidForm(f"language: one of {', '.join(LANGUAGES)}")
        values["language"] = language
        known = {p.id for p in self.hub.practices()}
        practices = _list(fields.get("practices"))
        unknown = [p for p in practices if p not in known]
        if unknown:
            raise InvalidForm(f"practices: unknown practice {', '.join(unknown)}")
        values["practices"] = practices
        values["themes"] = [t.lower() for t in _list(fields.get("themes"))][:20]
        return values

    def _check_file(self, upload: tuple[str, bytes]) -> list[dict[str, Any]]:
        """Refuse what the ingester would refuse, now, with the file's name in the message."""
        name, data = upload
        if not name or not _SAFE_NAME.match(name) or name in (".", "..") or name.startswith("."):
            raise RejectedDocument(name or "(no name)",
                                   "the file name must be a plain name, without folders or a path")
        suffix = Path(name).suffix.lower()
        fmt = files.FORMATS.get(suffix)
        if fmt is None:
            raise RejectedDocument(name, f"unsupported file type {suffix or '(no extension)'}; "
                                         f"attach {', '.join(sorted(set(files.FORMATS)))}")
        limit = self.hub.settings.max_file_bytes
        if len(data) > limit:
            raise RejectedDocument(name, f"file is {len(data) / 1048576:.1f} MB, over the "
                                         f"{limit / 1048576:.0f} MB limit")
        if not data.strip():
            raise RejectedDocument(name, "empty file")
        files.check_content_matches(name, fmt, data)
        # In the parse worker, with its time and memory limits: an upload is hostile input.
        loaded = self.hub.parser.parse(fmt, name, data)
        if not any(len(s.text.split()) >= 3 for s in loaded.sections):
            raise RejectedDocument(name, "no text to index (a scan without a text layer?)")
        pages: dict[Any, list[str]] = {}
        for s in loaded.sections:
            pages.setdefault(s.page, []).append(s.text)
        preview, budget = [], 40_000
        for page, texts in pages.items():
            text = "\n\n".join(texts)[:budget]
            budget -= len(text)
            preview.append({"page": page, "text": text})
            if budget <= 0:
                break
        return preview

    def _store(self, sub_id: int, upload: tuple[str, bytes] | None, extracted: list | None,
               preview: list | None = None) -> None:
        folder = self._folder(sub_id)
        if upload is None:
            return
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        name = _stored_name(upload[0])
        (folder / name).write_bytes(upload[1])
        self.db.execute("UPDATE submissions SET file_name = ?, file_path = ?, preview = ? WHERE id = ?",
                        (name, str(folder / name), json.dumps(extracted if extracted is not None else preview or []),
                         sub_id))

    def _folder(self, sub_id: int) -> Path:
        return self.root / str(sub_id)

    def _ingest(self, sub: Submission) -> str:
        """Index the case study; its form fields lead, its file (if any) follows page by page."""
        folder = self._folder(sub.id)
        folder.mkdir(parents=True, exist_ok=True)
        form = [("Summary", sub.summary), ("Results", sub.results), ("Lessons", sub.lessons)]
        place = f"{sub.city}, {sub.country}"
        lead = [Section(text=f"{sub.title}. {place}. {text}" if i == 0 else text, page=None, heading=heading)
                for i, (heading, text) in enumerate(form) if text.strip()]
        if sub.file_name:
            path = folder / sub.file_name
        else:
            path = folder / "case-study.md"
            path.write_text(f"# {sub.title}\n\n{place}\n", encoding="utf-8")
        overrides = {
            "title": sub.title, "language": sub.language, "doc_type": "case study",
            "tags": sub.themes, "authors": [sub.username],
            "extra": {"submitted_by": sub.username, "submission_id": sub.id, "city": sub.city,
                      "country": sub.country, "practices": sub.practices},
            "lead_sections": lead,
        }
        errors: list[RejectedDocument] = []
        report = self.hub.ingest([path], on_reject=errors.append, force=True,
                                 overrides={path.resolve(): overrides})
        if errors:
            raise RejectedDocument(sub.title, f"cannot be indexed: {errors[0].reason}")
        return report.doc_ids[0]

    def _remove_document(self, doc_id: str) -> None:
        try:
            self.hub.remove(doc_id)
        except NotFound:
            pass

    def _pending(self, sub_id: int) -> Submission:
        sub = self.get(sub_id)
        if sub.status != "pending":
            raise Conflict(f"submission {sub_id} is already {sub.status}")
        return sub

    def _no_open_revision(self, sub: Submission) -> None:
        if self.db.one("SELECT 1 FROM submissions WHERE target_id = ? AND status = 'pending'", (sub.id,)):
            raise Conflict(f"submission {sub.id} already has a change waiting for a moderator")

    def _own(self, user: User, sub: Submission) -> None:
        if sub.user_id != user.id:
            raise Forbidden("only the member who shared a case study can change or withdraw it")

    def _set_status(self, sub_id: int, status: str) -> None:
        self.db.execute("UPDATE submissions SET status = ?, updated_at = ? WHERE id = ?", (status, time.time(), sub_id))

    def _log(self, sub_id: int, user: User, action: str, reason: str | None = None) -> None:
        self.db.execute("INSERT INTO decisions (submission_id, user_id, action, reason, at) VALUES (?, ?, ?, ?, ?)",
                        (sub_id, user.id, action, reason or None, time.time()))

    @staticmethod
    def _from_row(row: Any) -> Submission:
        return Submission(
            id=row["id"], user_id=row["user_id"], username=row["username"], kind=row["kind"],
            target_id=row["target_id"], status=row["status"], title=row["title"], city=row["city"],
            country=row["country"], language=row["language"], summary=row["summary"],
            practices=json.loads(row["practices"]), themes=json.loads(row["themes"]), results=row["results"],
            lessons=row["lessons"], file_name=row["file_name"], preview=json.loads(row["preview"] or "[]"),
            doc_id=row["doc_id"], reason=row["reason"], created_at=row["created_at"], updated_at=row["updated_at"])


def _moderator(user: User) -> None:
    if not user.can("moderator"):
        raise Forbidden("only moderators can approve or reject submissions")


def _list(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        value = value.split(",")
    return list(dict.fromkeys(str(v).strip() for v in value if str(v).strip()))


def _stored_name(name: str) -> str:
    from ingest.pipeline import slugify

    path = Path(name)
    return f"{slugify(path.stem)[:60] or 'file'}{path.suffix.lower()}"
