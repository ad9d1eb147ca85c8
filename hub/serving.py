"""A home that a `hub serve` on this machine holds: how other commands find that server and hand
it their writes.

Why: in embedded mode one process at a time opens the passage index (search/store.py), so a
`hub ingest` beside a running `hub serve` used to be refused with "stop `hub serve` first". The
serving process now leaves a note in the home (``serving.json``: its loopback address, its
process id and a secret, readable by the home's owner only), and `hub ingest` and `hub remove`
ask it to do the work through ``/api/local/...`` (web/local.py) instead of opening the index.
The note is removed when the server stops; one left by a killed server names a dead process and
is ignored.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.errors import HubError

NOTE = "serving.json"
#: The header carrying the secret of the note.
TOKEN_HEADER = "X-Hub-Local-Token"
#: Addresses a server answers its own machine on; bound elsewhere, it leaves no note.
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "0.0.0.0", "::", "::1", ""}


@dataclass(frozen=True)
class Served:
    url: str
    pid: int
    token: str
    #: The note it was read from.
    note: Path | None = None


def announce(home: Path, host: str, port: int) -> Served | None:
    """Leave the note for a server about to listen on ``host:port``; None when it cannot be
    reached from this machine's loopback (then other commands keep refusing, as before)."""
    if host not in LOOPBACK_HOSTS:
        return None
    served = Served(f"http://{'[::1]' if host in ('::', '::1') else '127.0.0.1'}:{port}", os.getpid(),
                    secrets.token_urlsafe(32))
    path = home / NOTE
    temporary = path.with_suffix(".tmp")
    # Created readable by its owner only: the secret lets a caller make the server read files.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"url": served.url, "pid": served.pid, "token": served.token}, out)
    os.replace(temporary, path)
    return served


def withdraw(home: Path, served: Served | None) -> None:
    """Remove the note if it is still this server's (a newer server may have replaced it)."""
    if served is None:
        return
    current = _read(home / NOTE)
    if current is not None and current.token == served.token:
        (home / NOTE).unlink(missing_ok=True)


def find(home: Path) -> Served | None:
    """The server holding ``home``, if one left a note and its process is alive."""
    served = _read(home / NOTE)
    if served is None or served.pid == os.getpid():
        return None
    if not _alive(served.pid) or not _listening(served.url):
        # left by a server that was killed: nobody holds the home through it
        (home / NOTE).unlink(missing_ok=True)
        return None
    return served


def allowed(served: Served | None, token: str | None) -> bool:
    return served is not None and token is not None and hmac.compare_digest(served.token, token)


def call(served: Served, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST ``payload`` to the server's ``/api/local/<action>`` and return its JSON answer."""
    request = urllib.request.Request(
        f"{served.url}/api/local/{action}", data=json.dumps(payload).encode("utf-8"), method="POST",
        headers={"Content-Type": "application/json", TOKEN_HEADER: served.token})
    try:
        # No timeout: an ingest of a large library takes as long as it takes.
        with urllib.request.urlopen(request) as response:  # noqa: S310 (our own loopback address)
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        try:
            answer = json.loads(exc.read())
            detail = answer.get("error") or answer.get("detail")
        except ValueError:
            detail = None
        raise HubError(f"the hub serving this home ({served.url}) refused: {detail or exc.reason}") from None
    except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise HubError(f"the hub serving this home ({served.url}, process {served.pid}) did not answer: {reason}; "
                       f"if no hub serves it, delete {served.note}") from None


def _read(path: Path) -> Served | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Served(str(data["url"]), int(data["pid"]), str(data["token"]), path)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _listening(url: str) -> bool:
    """Whether something accepts connections at the note's address (a killed server's process
    can linger as a zombie, so its pid alone proves nothing)."""
    parts = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=2):
            return True
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
