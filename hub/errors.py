"""Errors the hub raises on purpose, with messages a person can act on.

    HubError
    ├── RejectedDocument   a file the ingester will not take (corrupt, encrypted, empty, ...)
    ├── NotFound           a document, source or page that is not in the hub
    ├── InvalidQuery       a search request that cannot be answered as asked
    │   └── InvalidText    a text field that is not valid Unicode (lone surrogate, NUL)
    ├── InvalidForm        a form field (account, case study, brief) with a value it cannot take
    ├── StoreUnavailable   an index or the catalog cannot be opened
    ├── ConfigError        a setting (``HUB_*`` variable or option) with a value it cannot take
    ├── Unauthorised       no valid login, session or API token where one is needed
    ├── Forbidden          logged in, but the role or ownership does not allow it
    ├── Conflict           the name or state clashes with what is there (taken user name, ...)
    └── TooManyAttempts    too many failed logins or requests; try again later (``retry_after``)

The CLI prints ``str(error)`` without a traceback; the web app maps them to 4xx answers.
"""

from __future__ import annotations


class HubError(Exception):
    """Base class: anything the hub reports to a user on purpose."""


class RejectedDocument(HubError):
    """A file that cannot be ingested; the message names the file and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        self.source = source
        # One line, whatever a third-party parser put in its message: the CLI prints one line
        # per rejected file, and logs and the web show the reason as is.
        self.reason = " ".join(str(reason).split())
        super().__init__(f"{source}: {self.reason}")


class NotFound(HubError):
    """Something asked for by id or path that the hub does not hold."""


class InvalidQuery(HubError):
    """A search or filter that cannot be run as written."""


class InvalidText(InvalidQuery):
    """A text field holding what no text may hold (a lone UTF-16 surrogate, a NUL character): the
    stores and exports cannot encode it, so it is refused where it enters, naming the field."""


class InvalidForm(HubError):
    """A field of a form or of its JSON twin (registration, password, case study, brief) that
    cannot take the value given; the message starts with the field's name."""


class StoreUnavailable(HubError):
    """A store (catalog, Qdrant, Whoosh) could not be opened, e.g. locked by another process."""


class ConfigError(HubError):
    """A setting that cannot be used as given; the message names the variable, the value and
    what it may be. Raised when settings load, before anything opens."""


class Unauthorised(HubError):
    """The request needs a logged-in user (a session cookie or an API token)."""


class Forbidden(HubError):
    """The user is known but may not do this (role, or not the owner)."""


class Conflict(HubError):
    """The request clashes with the current state: a taken user name, an already-decided submission."""


class TooManyAttempts(HubError):
    """Throttled (failed logins, or too many requests of one kind); the message says how long to
    wait, and ``retry_after`` gives it in seconds for an HTTP ``Retry-After`` header."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)
