"""Local accounts: members share case studies, moderators decide on them, admins manage roles.

Passwords are hashed with Argon2id (memory-hard, salted; ``argon2-cffi``). Failed logins are
counted per user name and per address in the database, so throttling survives restarts and holds
across worker processes. API tokens are random, shown once, and stored only as SHA-256 hashes.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.community import CommunityDB
from hub.errors import Conflict, InvalidQuery, NotFound, TooManyAttempts, Unauthorised

#: Roles, weakest first: each can do what the ones before it can.
ROLES = ("member", "moderator", "admin")
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$")
_TOKEN_PREFIX = "ush_"


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
        username = username.strip()
        if not _USERNAME.match(username):
            raise InvalidQuery("user name: 3 to 32 letters, digits, dots, dashes or underscores, "
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
        keys = [f"user:{username.strip().lower()}"] + ([f"addr:{address}"] if address else [])
        self._throttle(keys)
        row = self.db.one("SELECT * FROM users WHERE username = ?", (username.strip(),))
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
                wait = int(row["first"] + self.window - time.time()) + 1
                raise TooManyAttempts(f"too many failed logins; try again in {max(wait, 1)} seconds")

    def set_password(self, user_id: int, password: str) -> None:
        _check_password(password)
        self.db.execute("UPDATE users SET password_hash = ?, session_version = session_version + 1 WHERE id = ?",
                        (self._hasher.hash(password), user_id))

    def set_role(self, username: str, role: str) -> User:
        _check_role(role)
        user = self.by_name(username)
        self.db.execute("UPDATE users SET role = ?, session_version = session_version + 1 WHERE id = ?",
                        (role, user.id))
        return self.get(user.id)

    def end_sessions(self, user_id: int) -> None:
        """Log out everywhere: every session cookie issued so far stops working."""
        self.db.execute("UPDATE users SET session_version = session_version + 1 WHERE id = ?", (user_id,))

    def get(self, user_id: int) -> User:
        row = self.db.one("SELECT * FROM users WHERE id = ?", (user_id,))
        if row is None:
            raise NotFound(f"no user with id {user_id}")
        return _user(row)

    def by_name(self, username: str) -> User:
        row = self.db.one("SELECT * FROM users WHERE username = ?", (username.strip(),))
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
    if len(password) < MIN_PASSWORD:
        raise InvalidQuery(f"password: at least {MIN_PASSWORD} characters")
    if len(password) > 1024:
        raise InvalidQuery("password: at most 1024 characters")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidQuery(f"role must be one of {', '.join(ROLES)}, not {role!r}")
