"""Case-study sharing and moderation: the member's form, their list, the moderators' queue."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from hub.core import Hub
from hub.errors import HubError
from hub.moderation import LANGUAGES
from web.accounts import require

_FIELDS = ("title", "city", "country", "language", "summary", "themes", "results", "lessons")


class Reason(BaseModel):
    reason: str


def _upload(file: UploadFile | None, limit: int) -> tuple[str, bytes] | None:
    if file is None or not file.filename:
        return None
    data = file.file.read(limit + 1)
    return file.filename, data


def register(app: FastAPI, hub: Hub, pages: Any) -> None:
    limit = hub.settings.max_file_bytes

    def form_context(values: dict[str, Any], error: str | None = None, editing: Any = None) -> dict[str, Any]:
        return {"values": values, "error": error, "editing": editing, "languages": LANGUAGES,
                "practices": hub.practices(), "max_mb": int(min(hub.settings.max_file_mb, hub.settings.max_upload_mb))}

    # --- pages ---------------------------------------------------------------------------------
    @app.get("/share", response_class=HTMLResponse, include_in_schema=False)
    def share_page(request: Request) -> Response:
        require(request)
        return pages.render(request, "share.html", form_context({"language": "en", "practices": []}))

    @app.post("/share", include_in_schema=False)
    def share(request: Request, title: str = Form(""), city: str = Form(""), country: str = Form(""),
              language: str = Form(""), summary: str = Form(""), themes: str = Form(""),
              results: str = Form(""), lessons: str = Form(""), practices: list[str] = Form(default=[]),
              file: UploadFile | None = File(None)) -> Response:
        user = require(request)
        values = dict(zip(_FIELDS, (title, city, country, language, summary, themes, results, lessons)))
        values["practices"] = practices
        try:
            sub = hub.moderation.submit(user, values, _upload(file, limit))
        except HubError as exc:
            return pages.render(request, "share.html", form_context(values, str(exc)), status_code=400)
        pages.flash(request, "Thank you. Your case study is waiting for a moderator; "
                             "it becomes searchable once approved.")
        return pages.redirect(f"/submissions/{sub.id}")

    @app.get("/submissions", response_class=HTMLResponse, include_in_schema=False)
    def my_submissions(request: Request) -> Response:
        user = require(request)
        return pages.render(request, "submissions.html", {"submissions": hub.moderation.mine(user)})

    @app.get("/submissions/{sub_id}", response_class=HTMLResponse, include_in_schema=False)
    def submission_page(request: Request, sub_id: int) -> Response:
        user = require(request)
        sub = hub.moderation.visible_to(user, sub_id)
        names = {p.id: p.name for p in hub.practices()}
        return pages.render(request, "submission.html", {"sub": sub, "practice_names": names})

    @app.get("/submissions/{sub_id}/edit", response_class=HTMLResponse, include_in_schema=False)
    def edit_page(request: Request, sub_id: int) -> Response:
        user = require(request)
        sub = hub.moderation.visible_to(user, sub_id)
        values = sub.to_json() | {"themes": ", ".join(sub.themes)}
        return pages.render(request, "share.html", form_context(values, editing=sub))

    @app.post("/submissions/{sub_id}/edit", include_in_schema=False)
    def edit(request: Request, sub_id: int, title: str = Form(""), city: str = Form(""), country: str = Form(""),
             language: str = Form(""), summary: str = Form(""), themes: str = Form(""), results: str = Form(""),
             lessons: str = Form(""), practices: list[str] = Form(default=[]),
             file: UploadFile | None = File(None)) -> Response:
        user = require(request)
        current = hub.moderation.visible_to(user, sub_id)
        values = dict(zip(_FIELDS, (title, city, country, language, summary, themes, results, lessons)))
        values["practices"] = practices
        try:
            sub = hub.moderation.edit(user, sub_id, values, _upload(file, limit))
        except HubError as exc:
            return pages.render(request, "share.html", form_context(values, str(exc), editing=current),
                                status_code=400)
        pages.flash(request, "Your changes are waiting for a moderator.")
        return pages.redirect(f"/submissions/{sub.id}")

    @app.post("/submissions/{sub_id}/withdraw", include_in_schema=False)
    def withdraw(request: Request, sub_id: int, reason: str = Form("")) -> Response:
        user = require(request)
        hub.moderation.visible_to(user, sub_id)
        sub = hub.moderation.withdraw(user, sub_id, reason)
        pages.flash(request, "Withdrawn." if sub.kind != "withdrawal" else
                    "Your withdrawal request is waiting for a moderator.")
        return pages.redirect(f"/submissions/{sub.id}")

    @app.get("/moderation", response_class=HTMLResponse, include_in_schema=False)
    def moderation_page(request: Request) -> Response:
        require(request, "moderator")
        return pages.render(request, "moderation.html", {"queue": hub.moderation.queue(),
                                                         "log": hub.moderation.decisions(50)})

    @app.post("/moderation/{sub_id}/approve", include_in_schema=False)
    def approve(request: Request, sub_id: int) -> Response:
        moderator = require(request, "moderator")
        sub = hub.moderation.approve(moderator, sub_id)
        pages.flash(request, "Approved: “{title}” is now in the library.", title=sub.title)
        return pages.redirect("/moderation")

    @app.post("/moderation/{sub_id}/reject", include_in_schema=False)
    def reject(request: Request, sub_id: int, reason: str = Form("")) -> Response:
        moderator = require(request, "moderator")
        sub = hub.moderation.reject(moderator, sub_id, reason)
        pages.flash(request, "Rejected: “{title}”. The member sees your reason.", title=sub.title)
        return pages.redirect("/moderation")

    # --- API -----------------------------------------------------------------------------------
    @app.post("/api/submissions", summary="Share a case study (members); it waits for moderation",
              tags=["case studies"], status_code=201)
    def api_submit(request: Request, title: str = Form(...), city: str = Form(...), country: str = Form(...),
                   language: str = Form(...), summary: str = Form(...), themes: str = Form(""),
                   results: str = Form(""), lessons: str = Form(""), practices: list[str] = Form(default=[]),
                   file: UploadFile | None = File(None)) -> dict[str, Any]:
        """Multipart form: the fields, plus an optional file (PDF, HTML, Markdown or text).
        `practices` repeats, one practice id each; `themes` is comma-separated."""
        user = require(request)
        values = dict(zip(_FIELDS, (title, city, country, language, summary, themes, results, lessons)))
        return hub.moderation.submit(user, values | {"practices": practices}, _upload(file, limit)).to_json()

    @app.get("/api/submissions", summary="Your submissions, with status and moderators' reasons",
             tags=["case studies"])
    def api_mine(request: Request) -> list[dict[str, Any]]:
        return [s.to_json() for s in hub.moderation.mine(require(request))]

    @app.get("/api/submissions/{sub_id}", summary="One submission (its author or a moderator)",
             tags=["case studies"])
    def api_submission(request: Request, sub_id: int) -> dict[str, Any]:
        sub = hub.moderation.visible_to(require(request), sub_id)
        return sub.to_json() | {"preview": sub.preview}

    @app.put("/api/submissions/{sub_id}", summary="Edit your submission (approved ones go back to the queue)",
             tags=["case studies"])
    def api_edit(request: Request, sub_id: int, title: str = Form(...), city: str = Form(...),
                 country: str = Form(...), language: str = Form(...), summary: str = Form(...),
                 themes: str = Form(""), results: str = Form(""), lessons: str = Form(""),
                 practices: list[str] = Form(default=[]), file: UploadFile | None = File(None)) -> dict[str, Any]:
        user = require(request)
        hub.moderation.visible_to(user, sub_id)
        values = dict(zip(_FIELDS, (title, city, country, language, summary, themes, results, lessons)))
        return hub.moderation.edit(user, sub_id, values | {"practices": practices}, _upload(file, limit)).to_json()

    @app.post("/api/submissions/{sub_id}/withdraw", summary="Withdraw your case study", tags=["case studies"])
    def api_withdraw(request: Request, sub_id: int) -> dict[str, Any]:
        user = require(request)
        hub.moderation.visible_to(user, sub_id)
        return hub.moderation.withdraw(user, sub_id).to_json()

    @app.get("/api/moderation/queue", summary="Submissions waiting for a decision (moderators)",
             tags=["moderation"])
    def api_queue(request: Request) -> list[dict[str, Any]]:
        require(request, "moderator")
        return [s.to_json() | {"preview": s.preview} for s in hub.moderation.queue()]

    @app.post("/api/moderation/{sub_id}/approve", summary="Approve: index it, attributed to its submitter",
              tags=["moderation"])
    def api_approve(request: Request, sub_id: int) -> dict[str, Any]:
        return hub.moderation.approve(require(request, "moderator"), sub_id).to_json()

    @app.post("/api/moderation/{sub_id}/reject", summary="Reject with a reason the member sees",
              tags=["moderation"])
    def api_reject(request: Request, sub_id: int, body: Reason) -> dict[str, Any]:
        return hub.moderation.reject(require(request, "moderator"), sub_id, body.reason).to_json()

    @app.get("/api/moderation/log", summary="Every decision, newest first (moderators)", tags=["moderation"])
    def api_log(request: Request) -> list[dict[str, Any]]:
        require(request, "moderator")
        return hub.moderation.decisions()
