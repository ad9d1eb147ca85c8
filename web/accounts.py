"""Log in, register, log out (here or everywhere), password change, API tokens, the language
switch and the admin's user list."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from hub.accounts import ROLES, User
from hub.core import Hub
from hub.errors import Forbidden, HubError, InvalidText, TooManyAttempts, Unauthorised
from web import i18n
from web.sessions import MAX_AGE


def require(request: Request, role: str = "member") -> User:
    """The logged-in user, checked on the server for every write: 401 when anonymous, 403 when
    the role is too weak."""
    user: User | None = getattr(request.state, "user", None)
    if user is None:
        raise Unauthorised("log in first")
    if not user.can(role):
        raise Forbidden(f"this needs the {role} role; you are a {user.role}")
    return user


def client_address(request: Request) -> str:
    """The address failed logins count against: the socket peer, or what a trusted proxy says."""
    return request.app.state.limits.address(request)


def _status(exc: HubError) -> int:
    for kind, status in ((TooManyAttempts, 429), (Unauthorised, 401), (InvalidText, 422)):
        if isinstance(exc, kind):
            return status
    return 400


class TokenRequest(BaseModel):
    username: str
    password: str
    label: str = Field("script", max_length=60)


class Registration(BaseModel):
    username: str
    password: str
    display_name: str = Field("", max_length=80)


class RoleChange(BaseModel):
    role: str


def register(app: FastAPI, hub: Hub, pages: Any) -> None:
    def log_in(request: Request, user: User) -> None:
        session = request.state.session
        session.clear()  # a new session id at login: a planted cookie cannot ride along
        session.update(sid=secrets.token_urlsafe(18), uid=user.id, v=user.session_version)

    # --- pages ---------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request, next: str = "/") -> Response:
        return pages.render(request, "login.html", {"next": next, "username": "", "error": None})

    @app.post("/login", include_in_schema=False)
    def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/")) -> Response:
        try:
            user = hub.accounts.authenticate(username, password, client_address(request))
        except HubError as exc:
            return pages.render(request, "login.html", {"next": next, "username": username, "error": str(exc)},
                                status_code=_status(exc))
        log_in(request, user)
        pages.flash(request, "Welcome, {name}.", name=user.name)
        return pages.redirect(next)

    @app.get("/register", response_class=HTMLResponse, include_in_schema=False)
    def register_page(request: Request) -> Response:
        return pages.render(request, "register.html", {"values": {}, "error": None,
                                                       "open": hub.settings.open_registration})

    @app.post("/register", include_in_schema=False)
    def register_form(request: Request, username: str = Form(""), password: str = Form(""),
                      password2: str = Form(""), display_name: str = Form("")) -> Response:
        values = {"username": username, "display_name": display_name}
        try:
            if not hub.settings.open_registration:
                raise Forbidden("registration is closed on this hub; ask an administrator for an account")
            if password != password2:
                raise HubError("the two passwords differ")
            user = hub.accounts.register(username, password, display_name=display_name)
        except HubError as exc:
            return pages.render(request, "register.html", {"values": values, "error": str(exc),
                                                           "open": hub.settings.open_registration}, status_code=400)
        log_in(request, user)
        pages.flash(request, "Your account is ready. You can now share case studies and build briefs.")
        return pages.redirect("/")

    def log_out(request: Request) -> None:
        """End this session on the server too: a copy of its cookie (and its CSRF token) would
        otherwise work until the cookie expires."""
        session = request.state.session
        if session.get("uid"):
            hub.accounts.end_session(str(session["sid"]), MAX_AGE)
        session.clear()
        session["sid"] = secrets.token_urlsafe(18)

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        log_out(request)
        return pages.redirect("/")

    @app.post("/account/sessions/end", include_in_schema=False)
    def logout_everywhere(request: Request) -> Response:
        user = require(request)
        hub.accounts.end_sessions(user.id)
        log_out(request)
        pages.flash(request, "You are logged out on every device and browser.")
        return pages.redirect("/login")

    @app.get("/account/password", response_class=HTMLResponse, include_in_schema=False)
    def password_page(request: Request) -> Response:
        require(request)
        return pages.render(request, "password.html", {"error": None})

    @app.post("/account/password", include_in_schema=False)
    def change_password(request: Request, current_password: str = Form(""), new_password: str = Form(""),
                        new_password2: str = Form("")) -> Response:
        user = require(request)
        try:
            if new_password != new_password2:
                raise HubError("the two new passwords differ")
            user, revoked = hub.accounts.change_password(user, current_password, new_password,
                                                         client_address(request))
        except HubError as exc:
            return pages.render(request, "password.html", {"error": str(exc)}, status_code=_status(exc))
        log_in(request, user)  # this browser stays in, with a new session; every other one is out
        pages.flash(request, "Password changed. Your other sessions and {n} API tokens were revoked.",
                    n=str(revoked))
        return pages.redirect("/account")

    @app.post("/language", include_in_schema=False)
    def language(request: Request, lang: str = Form("en"), next: str = Form("/")) -> Response:
        response = pages.redirect(next)
        if lang in i18n.LANGUAGES:
            response.set_cookie(i18n.COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True,
                                secure=hub.settings.secure_cookies)
        return response

    @app.get("/account", response_class=HTMLResponse, include_in_schema=False)
    def account_page(request: Request) -> Response:
        user = require(request)
        return pages.render(request, "account.html", {"tokens": hub.accounts.tokens(user.id), "new_token": None})

    @app.post("/account/tokens", include_in_schema=False)
    def new_token(request: Request, label: str = Form("script")) -> Response:
        user = require(request)
        token = hub.accounts.create_token(user.id, label)
        return pages.render(request, "account.html", {"tokens": hub.accounts.tokens(user.id), "new_token": token})

    @app.post("/account/tokens/{token_id}/revoke", include_in_schema=False)
    def revoke_token(request: Request, token_id: int) -> Response:
        user = require(request)
        hub.accounts.revoke_token(user.id, token_id)
        pages.flash(request, "Token revoked.")
        return pages.redirect("/account")

    @app.get("/admin/users", response_class=HTMLResponse, include_in_schema=False)
    def users_page(request: Request) -> Response:
        require(request, "admin")
        return pages.render(request, "users.html", {"users": hub.accounts.users(), "roles": ROLES})

    @app.post("/admin/users/{username}/role", include_in_schema=False)
    def set_role(request: Request, username: str, role: str = Form("")) -> Response:
        admin = require(request, "admin")
        user = hub.accounts.set_role(username, role, by=admin)
        pages.flash(request, "{name} is now {role}.", name=user.username, role=user.role)
        return pages.redirect("/admin/users")

    # --- API -----------------------------------------------------------------------------------
    @app.post("/api/auth/token", summary="Exchange a user name and password for an API token", tags=["accounts"])
    def api_token(request: Request, body: TokenRequest) -> dict[str, Any]:
        """Rate-limited like the login form. The token is shown once; send it as
        `Authorization: Bearer <token>`."""
        user = hub.accounts.authenticate(body.username, body.password, client_address(request))
        return {"token": hub.accounts.create_token(user.id, body.label), "user": user.to_json()}

    @app.get("/api/me", summary="Who the token or session belongs to", tags=["accounts"])
    def api_me(request: Request) -> dict[str, Any]:
        return require(request).to_json()

    @app.post("/api/users", summary="Register a member account", tags=["accounts"], status_code=201)
    def api_register(body: Registration) -> dict[str, Any]:
        if not hub.settings.open_registration:
            raise Forbidden("registration is closed on this hub; ask an administrator for an account")
        return hub.accounts.register(body.username, body.password, display_name=body.display_name).to_json()

    @app.get("/api/users", summary="Every account (admins)", tags=["accounts"])
    def api_users(request: Request) -> list[dict[str, Any]]:
        require(request, "admin")
        return [u.to_json() for u in hub.accounts.users()]

    @app.put("/api/users/{username}/role", summary="Change a user's role (admins)", tags=["accounts"])
    def api_role(request: Request, username: str, body: RoleChange) -> dict[str, Any]:
        return hub.accounts.set_role(username, body.role, by=require(request, "admin")).to_json()
