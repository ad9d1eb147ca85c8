"""Local accounts: members share case studies, moderators decide on them, admins manage roles.

Passwords are hashed with Argon2id (memory-hard, salted; ``argon2-cffi``). Failed logins are
counted per user name and per address in the database, so throttling survives restarts and holds
across worker processes. API tokens are random, shown once, and stored only as SHA-256 hashes.

User names are normalised (NFKC, trimmed, case-folded) when an account is made and at every
lookup, so " Admin", "ADMIN" and a full-width "ａｄｍｉｎ" all name the same account: a check made
on one spelling cannot be dodged with another. A password change revokes every session and API
token of the account; the last admin can never lose the role.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.community import CommunityDB
from hub.errors import Conflict, Forbidden, InvalidForm, NotFound, TooManyAttempts, Unauthorised
from hub.forms import check_text

#: Roles, weakest first: each can do what the ones before it can.
ROLES = ("member", "moderator", "admin")
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
_TOKEN_PREFIX = "ush_"


def normalise_username(username: str) -> str:
    """The one spelling of a user name that is stored and looked up (NFKC, trimmed, case-folded).
    Case-folding can leave a string that NFKC would change again, hence the second pass."""
    check_text(username, "user name")
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold()).strip()


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    session_version: int

    def can(self, role: str) -> bool:
        """True when this user's role is ``role`` or stronger."""
        return ROLES.index(self.role) >= ROLES.index(role)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "display_name": self.display_name, "role": self.role}


class Accounts:
    def __init__(self, db: CommunityDB, max_attempts: int = 5, window: int = 300) -> None:
        self.db = db
        self.max_attempts = max_attempts
        self.window = window
        # Argon2id with the library's RFC 9106 "low memory" profile: 64 MiB, 3 passes.
        self._hasher = PasswordHasher()

    # --- accounts ------------------------------------------------------------------------------
    def register(self, username: str, password: str, role: str = "member", display_name: str = "") -> User:
        username = normalise_username(username)
        check_text(display_name, "display name")
        if not _USERNAME.match(username):
            raise InvalidForm("user name: 3 to 32 letters, digits, dots, dashes or underscores, "
                               "starting with a letter or digit")
        _check_password(password)
        _check_role(role)
        if self.db.one("SELECT 1 FROM users WHERE username = ?", (username,)):
            raise Conflict(f"the user name {username!r} is taken")
        user_id = self.db.execute(
            "INSERT INTO users (username, display_name, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)",
            (username, display_name.strip()[:80], self._hasher.hash(password), role, time.time()))
        return self.get(user_id)

    def authenticate(self, username: str, password: str, address: str = "") -> User:
        """The user, or :class:`Unauthorised` with one message for every kind of failure (no
        hint whether the name exists); :class:`TooManyAttempts` once throttled."""
        username = normalise_username(username)
        check_text(password, "password")
        keys = [f"user:{username}"] + ([f"addr:{address}"] if address else [])
        self._throttle(keys)
        row = self.db.one("SELECT * FROM users WHERE username = ?", (username,))
        ok = False
        if row is not None:
            try:
                ok = self._hasher.verify(row["password_hash"], password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            self._hasher.hash(password)  # same cost whether or not the name exists
        if not ok:
            now = time.time()
            for key in keys:
                self.db.execute("INSERT INTO login_failures (key, at) VALUES (?, ?)", (key, now))
            raise Unauthorised("wrong user name or password")
        self.db.execute("DELETE FROM login_failures WHERE key = ?", (keys[0],))
        if self._hasher.check_needs_rehash(row["password_hash"]):
            self.db.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                            (self._hasher.hash(password), row["id"]))
        return _user(row)

    def _throttle(self, keys: list[str]) -> None:
        since = time.time() - self.window
        self.db.execute("DELETE FROM login_failures WHERE at < ?", (since,))
        for key in keys:
            row = self.db.one("SELECT COUNT(*) AS n, MIN(at) AS first FROM login_failures WHERE key = ? AND at >= ?",
                              (key, since))
            limit = self.max_attempts if key.startswith("user:") else self.max_attempts * 4
            if row and row["n"] >= limit:
                wait = max(int(row["first"] + self.window - time.time()) + 1, 1)
                raise TooManyAttempts(f"too many failed logins; try again in {wait} second{'s' if wait != 1 else ''}",
                                      retry_after=wait)

    def set_password(self, user_id: int, password: str) -> int:
        """Set a new password and revoke everything the old one let in: every session (the version
        bump) and every API token, since whoever knew the old password may have made some.
        Returns how many tokens were revoked."""
        _check_password(password)
        hashed = self._hasher.hash(password)
        with self.db.transaction() as db:
            db.execute("UPDATE users SET password_hash = ?, session_version = session_version + 1 WHERE id = ?",
                       (hashed, user_id))
            return db.execute("DELETE FROM api_tokens WHERE user_id = ?", (user_id,)).rowcount

    def change_password(self, user: User, current: str, new: str, address: str = "") -> tuple[User, int]:
        """A member's own change: the current password is checked (and throttled like a login, so
        a borrowed session cannot guess it). Returns the updated user and the tokens revoked."""
        self.authenticate(user.username, current, address)
        if current == new:
            raise InvalidForm("new password: choose one that differs from the current password")
        revoked = self.set_password(user.id, new)
        return self.get(user.id), revoked

    def set_role(self, username: str, role: str, by: User | None = None) -> User:
        """Change a role. ``by``, the admin acting, may not take the admin role from themselves;
        and nobody may take it from the last admin, or the hub could not be managed any more."""
        _check_role(role)
        user = self.by_name(username)
        if by is not None and by.id == user.id and role != "admin":
            raise Forbidden("you cannot take the admin role from yourself; ask another admin")
        with self.db.transaction() as db:  # counted and changed in one step: two admins demoting each other
            if role != "admin" and user.role == "admin":
                admins = db.execute("SELECT COUNT(*) FROM users WHERE role = 'admin'").fetchone()[0]
                if admins <= 1:
                    raise Conflict(f"{user.username} is the last admin; make another admin first")
            db.execute("UPDATE users SET role = ?, session_version = session_version + 1 WHERE id = ?",
                       (role, user.id))
        return self.get(user.id)

    def end_sessions(self, user_id: int) -> None:
        """Log out everywhere: every session cookie issued so far stops working."""
        self.db.execute("UPDATE users SET session_version = session_version + 1 WHERE id = ?", (user_id,))

    def end_session(self, sid: str, keep_for: float) -> None:
        """Log out one session: its id is remembered as ended for ``keep_for`` seconds (as long as
        its cookie could live), so a copy of the cookie no longer logs anyone in. Expired entries
        go at the same time, which keeps the table as small as the logouts of one cookie lifetime."""
        now = time.time()
        with self.db.transaction() as db:
            db.execute("DELETE FROM ended_sessions WHERE until < ?", (now,))
            db.execute("INSERT OR REPLACE INTO ended_sessions (sid_hash, until) VALUES (?, ?)",
                       (_token_hash(sid), now + keep_for))

    def session_ended(self, sid: str) -> bool:
        return self.db.one("SELECT 1 FROM ended_sessions WHERE sid_hash = ? AND until >= ?",
                           (_token_hash(sid), time.time())) is not None

    def get(self, user_id: int) -> User:
        row = self.db.one("SELECT * FROM users WHERE id = ?", (user_id,))
        if row is None:
            raise NotFound(f"no user with id {user_id}")
        return _user(row)

    def by_name(self, username: str) -> User:
        row = self.db.one("SELECT * FROM users WHERE username = ?", (normalise_username(username),))
        if row is None:
            raise NotFound(f"no user named {username!r} (see `hub users list`)")
        return _user(row)

    def users(self) -> list[User]:
        return [_user(r) for r in self.db.query("SELECT * FROM users ORDER BY username")]

    def count(self) -> int:
        row = self.db.one("SELECT COUNT(*) AS n FROM users")
        return int(row["n"]) if row else 0

    # --- API tokens ----------------------------------------------------------------------------
    def create_token(self, user_id: int, label: str = "script") -> str:
        """A new token for scripts; returned once, stored only as a hash."""
        check_text(label, "label")
        token = _TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.db.execute("INSERT INTO api_tokens (user_id, label, token_hash, created_at) VALUES (?, ?, ?, ?)",
                        (user_id, label.strip()[:60] or "script", _token_hash(token), time.time()))
        return token

    def user_for_token(self, token: str) -> User | None:
        row = self.db.one("SELECT u.*, t.id AS token_id FROM api_tokens t JOIN users u ON u.id = t.user_id "
                          "WHERE t.token_hash = ?", (_token_hash(token),))
        if row is None:
            return None
        self.db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (time.time(), row["token_id"]))
        return _user(row)

    def tokens(self, user_id: int) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.query(
            "SELECT id, label, created_at, last_used_at FROM api_tokens WHERE user_id = ? ORDER BY id", (user_id,))]

    def revoke_token(self, user_id: int, token_id: int) -> None:
        if not self.db.one("SELECT 1 FROM api_tokens WHERE id = ? AND user_id = ?", (token_id, user_id)):
            raise NotFound(f"no token {token_id} of yours")
        self.db.execute("DELETE FROM api_tokens WHERE id = ?", (token_id,))


def _user(row: Any) -> User:
    return User(row["id"], row["username"], row["display_name"], row["role"], row["session_version"])


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_password(password: str) -> None:
    check_text(password, "password")
    if len(password) < MIN_PASSWORD:
        raise InvalidForm(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InvalidForm("password: at most 1024 characters")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidForm(f"role must be one of {', '.join(ROLES)}, not {role!r}")
