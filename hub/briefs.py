"""Technical-support briefs: an advisor's selection of practices and passages, with their notes.

Items are copies (text, document title, page, rating), not references: a brief handed to a city
must read the same next year even if the library is re-indexed. A brief belongs to its author;
others read it only through its share link, which the author can create and revoke.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.accounts import User
from hub.community import CommunityDB
from hub.errors import InvalidForm, NotFound
from hub.forms import check_text, clean_text



class Library(Protocol):
    """What briefs need of the hub: the catalog and the practice profiles. A protocol rather
    than ``hub.core.Hub``, so that this module sits below the facade that builds it."""

    catalog: Any

    def practice(self, practice_id: str) -> Any: ...  # noqa: E704

    def practices(self) -> list[Any]: ...  # noqa: E704

_TEXT_FIELDS = {"title": 200, "question": 1000, "city": 200, "problem": 4000, "partners": 2000, "notes": 8000}
MAX_ITEMS = 200


@dataclass
class BriefItem:
    id: int
    position: int
    kind: str  # practice, passage, note, map (the evidence map: see Briefs.add_map)
    practice_id: str | None
    chunk_id: str | None
    doc_id: str | None
    doc_title: str | None
    page: int | None
    heading: str | None
    text: str
    rating: str | None
    evidence: list[dict[str, Any]]
    note: str
    #: A practice's rating per outcome (``Outcome.to_json()``), copied like its headline rating.
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("id", "position", "kind", "practice_id", "chunk_id", "doc_id",
                                              "doc_title", "page", "heading", "text", "rating", "evidence", "note",
                                              "outcomes")}


@dataclass
class Brief:
    id: int
    user_id: int
    author: str
    title: str
    question: str
    city: str
    problem: str
    partners: str
    notes: str
    share_token: str | None
    created_at: float
    updated_at: float
    items: list[BriefItem] = field(default_factory=list)
    #: doc_id -> declared provenance of the documents its items cite (read from the catalog when
    #: the brief is loaded; the exports note texts written for the hub in their references).
    provenance: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "author": self.author, "title": self.title, "question": self.question,
                "city": self.city, "problem": self.problem, "partners": self.partners, "notes": self.notes,
                "shared": self.share_token is not None, "share_token": self.share_token,
                "created_at": self.created_at, "updated_at": self.updated_at,
                "items": [i.to_json() for i in self.items], "provenance": self.provenance}


class Briefs:
    def __init__(self, db: CommunityDB, hub: Library) -> None:
        self.db = db
        self.hub = hub

    # --- briefs --------------------------------------------------------------------------------
    def create(self, user: User, fields: dict[str, Any]) -> Brief:
        values = _clean(fields, require_title=True)
        now = time.time()
        cols = list(values)
        brief_id = self.db.execute(
            f"INSERT INTO briefs (user_id, {', '.join(cols)}, created_at, updated_at)"
            f" VALUES (?, {', '.join('?' for _ in cols)}, ?, ?)", [user.id, *values.values(), now, now])
        return self.get(user, brief_id)

    def update(self, user: User, brief_id: int, fields: dict[str, Any]) -> Brief:
        self.get(user, brief_id)
        values = _clean(fields, require_title=False)
        if "title" in values and not values["title"]:
            raise InvalidForm("title: required")
        if values:
            self.db.execute(f"UPDATE briefs SET {', '.join(f'{k} = ?' for k in values)}, updated_at = ? WHERE id = ?",
                            [*values.values(), time.time(), brief_id])
        return self.get(user, brief_id)

    def delete(self, user: User, brief_id: int) -> None:
        self.get(user, brief_id)
        self.db.execute("DELETE FROM briefs WHERE id = ?", (brief_id,))

    def of(self, user: User) -> list[Brief]:
        rows = self.db.query("SELECT b.*, u.username FROM briefs b JOIN users u ON u.id = b.user_id"
                             " WHERE b.user_id = ? ORDER BY b.updated_at DESC", (user.id,))
        return [self._brief(r, items=False) for r in rows]

    def get(self, user: User | None, brief_id: int) -> Brief:
        """The author's brief; anyone else gets NotFound, so private briefs do not reveal they exist."""
        row = self.db.one("SELECT b.*, u.username FROM briefs b JOIN users u ON u.id = b.user_id WHERE b.id = ?",
                          (brief_id,))
        if row is None or user is None or row["user_id"] != user.id:
            raise NotFound(f"no brief {brief_id} of yours")
        return self._brief(row)

    def shared(self, token: str) -> Brief:
        row = self.db.one("SELECT b.*, u.username FROM briefs b JOIN users u ON u.id = b.user_id"
                          " WHERE b.share_token = ?", (token,)) if token else None
        if row is None:
            raise NotFound("this share link is not valid (the author may have revoked it)")
        return self._brief(row)

    def share(self, user: User, brief_id: int) -> str:
        brief = self.get(user, brief_id)
        if brief.share_token:
            return brief.share_token
        token = secrets.token_urlsafe(18)
        self.db.execute("UPDATE briefs SET share_token = ? WHERE id = ?", (token, brief_id))
        return token

    def unshare(self, user: User, brief_id: int) -> None:
        self.get(user, brief_id)
        self.db.execute("UPDATE briefs SET share_token = NULL WHERE id = ?", (brief_id,))

    # --- items ---------------------------------------------------------------------------------
    def add_practice(self, user: User, brief_id: int, practice_id: str, chunk_ids: list[str] | None = None,
                     note: str = "", lang: str | None = None) -> BriefItem:
        """A practice with its rating and summary, plus the passages that support it: those given
        (the reasons an advisory answer showed) or else the pages its profile cites. Its name and
        summary in ``lang`` where the profile has them (the advisor's language), else its own."""
        self.get(user, brief_id)
        practice = self.hub.practice(practice_id)
        given = [self._passage(c) for c in (chunk_ids or [])[:6]]
        # the profile's own passages repeat its summary, which the item already carries
        evidence = [p for p in given if p["doc_id"] != practice.doc_id][:4] or self._profile_evidence(practice)
        profile = self.hub.catalog.document(practice.doc_id)
        return self._add(brief_id, kind="practice", practice_id=practice.id, doc_id=practice.doc_id,
                         doc_title=profile.title if profile else practice.name,
                         heading=practice.name_in(lang) if lang else practice.name,
                         text=practice.summary_in(lang) if lang else practice.summary, rating=practice.rating.key, evidence=json.dumps(evidence),
                         outcomes=json.dumps([o.to_json() for o in practice.outcomes], ensure_ascii=False),
                         note=_note(note))

    def add_passage(self, user: User, brief_id: int, chunk_id: str, note: str = "") -> BriefItem:
        self.get(user, brief_id)
        p = self._passage(chunk_id)
        return self._add(brief_id, kind="passage", chunk_id=chunk_id, doc_id=p["doc_id"], doc_title=p["doc_title"],
                         page=p["page"], heading=p["heading"], text=p["text"], note=_note(note))

    def add_map(self, user: User, brief_id: int, filters: dict[str, str] | None = None, lang: str = "en",
                note: str = "") -> BriefItem:
        """The evidence map for the chosen filters (practices/evidence_map.py), copied: its bubbles
        (``evidence``: one row per practice, as /api/evidence-map gives them) and, in ``text``, a
        JSON object with the filters, the methods and the practices not rated on the outcome.
        Exports redraw the map and its table from this copy, in the reader's language."""
        from practices import evidence_map

        self.get(user, brief_id)
        chosen = {k: str((filters or {}).get(k) or "") for k in ("outcome", "theme", "population", "level")}
        the_map = evidence_map.build(self.hub.practices(), lang=lang, **chosen)
        meta = {"filters": the_map.filters, "methods": [list(m) for m in the_map.methods],
                "unrated": [list(u) for u in the_map.unrated]}
        return self._add(brief_id, kind="map", heading="Evidence map",
                         text=json.dumps(meta, ensure_ascii=False),
                         evidence=json.dumps(evidence_map.rows(the_map.points), ensure_ascii=False),
                         note=_note(note))

    def add_note(self, user: User, brief_id: int, heading: str, text: str) -> BriefItem:
        self.get(user, brief_id)
        check_text(heading, "heading")
        check_text(text, "text")
        if not text.strip() and not heading.strip():
            raise InvalidForm("note: write something")
        return self._add(brief_id, kind="note", heading=heading.strip()[:200] or None, text=_note(text, 8000))

    def update_item(self, user: User, brief_id: int, item_id: int, note: str) -> None:
        self._item(user, brief_id, item_id)
        column = "text" if self._item(user, brief_id, item_id)["kind"] == "note" else "note"
        self.db.execute(f"UPDATE brief_items SET {column} = ? WHERE id = ?", (_note(note, 8000), item_id))
        self._touch(brief_id)

    def remove_item(self, user: User, brief_id: int, item_id: int) -> None:
        self._item(user, brief_id, item_id)
        self.db.execute("DELETE FROM brief_items WHERE id = ?", (item_id,))
        self._renumber(brief_id, [i.id for i in self.get(user, brief_id).items])

    def move_item(self, user: User, brief_id: int, item_id: int, offset: int) -> None:
        """Move a section up (-1) or down (+1); at either end it stays where it is."""
        self._item(user, brief_id, item_id)
        order = [i.id for i in self.get(user, brief_id).items]
        at = order.index(item_id)
        to = max(0, min(len(order) - 1, at + offset))
        order.insert(to, order.pop(at))
        self._renumber(brief_id, order)

    def reorder(self, user: User, brief_id: int, item_ids: list[int]) -> None:
        current = [i.id for i in self.get(user, brief_id).items]
        if sorted(item_ids) != sorted(current):
            raise InvalidForm("order: list every item of the brief exactly once")
        self._renumber(brief_id, item_ids)

    # --- internals -----------------------------------------------------------------------------
    def _add(self, brief_id: int, **values: Any) -> BriefItem:
        row = self.db.one("SELECT COUNT(*) AS n, COALESCE(MAX(position), 0) AS last FROM brief_items"
                          " WHERE brief_id = ?", (brief_id,))
        if row and row["n"] >= MAX_ITEMS:
            raise InvalidForm(f"a brief holds at most {MAX_ITEMS} sections")
        values["position"] = (row["last"] if row else 0) + 1
        cols = list(values)
        item_id = self.db.execute(
            f"INSERT INTO brief_items (brief_id, {', '.join(cols)}) VALUES (?, {', '.join('?' for _ in cols)})",
            [brief_id, *values.values()])
        self._touch(brief_id)
        return _item(self.db.one("SELECT * FROM brief_items WHERE id = ?", (item_id,)))

    def _passage(self, chunk_id: str) -> dict[str, Any]:
        chunk = self.hub.catalog.chunks_by_ids([chunk_id]).get(chunk_id)
        if chunk is None:
            raise NotFound(f"no passage {chunk_id!r}")
        doc = self.hub.catalog.document(chunk.doc_id)
        return {"chunk_id": chunk.id, "doc_id": chunk.doc_id, "doc_title": doc.title if doc else chunk.doc_id,
                "page": chunk.page, "heading": chunk.heading, "text": chunk.body}

    def _profile_evidence(self, practice: Any) -> list[dict[str, Any]]:
        links = [link for link in self.hub.catalog.practice_links(practice.id) if link["kind"] != "auto"]
        from practices.profile import sources_citing

        out = []
        for link in links[:3]:
            doc = self.hub.catalog.document(link["doc_id"])
            if doc is None:
                continue
            pages = {p for src in sources_citing(practice, doc) for p in src.pages}
            chunks = self.hub.catalog.chunks_of(doc.id)
            chosen = next((c for c in chunks if c.page in pages), chunks[0] if chunks else None)
            if chosen is not None:
                out.append(self._passage(chosen.id))
        return out

    def _item(self, user: User, brief_id: int, item_id: int) -> Any:
        self.get(user, brief_id)
        row = self.db.one("SELECT * FROM brief_items WHERE id = ? AND brief_id = ?", (item_id, brief_id))
        if row is None:
            raise NotFound(f"no section {item_id} in brief {brief_id}")
        return row

    def _renumber(self, brief_id: int, order: list[int]) -> None:
        with self.db.transaction() as db:
            for position, item_id in enumerate(order, start=1):
                db.execute("UPDATE brief_items SET position = ? WHERE id = ?", (position, item_id))
        self._touch(brief_id)

    def _touch(self, brief_id: int) -> None:
        self.db.execute("UPDATE briefs SET updated_at = ? WHERE id = ?", (time.time(), brief_id))

    def _brief(self, row: Any, items: bool = True) -> Brief:
        brief = Brief(id=row["id"], user_id=row["user_id"], author=row["username"], title=row["title"],
                      question=row["question"], city=row["city"], problem=row["problem"], partners=row["partners"],
                      notes=row["notes"], share_token=row["share_token"], created_at=row["created_at"],
                      updated_at=row["updated_at"])
        if items:
            brief.items = [_item(r) for r in self.db.query(
                "SELECT * FROM brief_items WHERE brief_id = ? ORDER BY position, id", (brief.id,))]
            brief.provenance = self._provenance(brief.items)
        return brief

    def _provenance(self, items: list[BriefItem]) -> dict[str, str]:
        doc_ids = {i.doc_id for i in items if i.doc_id} | {
            str(ev["doc_id"]) for i in items for ev in i.evidence if isinstance(ev, dict) and ev.get("doc_id")}
        found = {}
        for doc_id in sorted(doc_ids):
            doc = self.hub.catalog.document(doc_id)
            if doc is not None and doc.extra.get("provenance"):
                found[doc_id] = str(doc.extra["provenance"])
        return found


def _item(row: Any) -> BriefItem:
    return BriefItem(id=row["id"], position=row["position"], kind=row["kind"], practice_id=row["practice_id"],
                     chunk_id=row["chunk_id"], doc_id=row["doc_id"], doc_title=row["doc_title"], page=row["page"],
                     heading=row["heading"], text=row["text"], rating=row["rating"],
                     evidence=json.loads(row["evidence"] or "[]"), note=row["note"],
                     outcomes=json.loads(row["outcomes"] or "[]") if "outcomes" in row.keys() else [])


def _clean(fields: dict[str, Any], require_title: bool) -> dict[str, str]:
    values = clean_text(fields, _TEXT_FIELDS, partial=True)
    if require_title and not values.get("title"):
        raise InvalidForm("title: required")
    return values


def _note(text: str, limit: int = 4000) -> str:
    check_text(text, "note")
    text = (text or "").strip()
    if len(text) > limit:
        raise InvalidForm(f"note: at most {limit} characters")
    return text
