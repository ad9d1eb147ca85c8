"""Who a request comes from (the socket peer, or a trusted proxy's X-Forwarded-For) and how often
they may do expensive things: upload case studies, export briefs, search.

The limiter is in-process: the hub serves from one process (one model in memory), and the limits
guard that process's CPU. Failed logins, which must hold across restarts, are counted in the
database instead (hub/accounts.py).
"""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Callable

from hub.errors import HubError, TooManyAttempts
from hub.settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(value: str) -> tuple[Network, ...]:
    """``HUB_TRUSTED_PROXIES``: comma-separated IPs or CIDRs."""
    nets = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise HubError(f"HUB_TRUSTED_PROXIES: {part!r} is not an IP address or CIDR range") from None
    return tuple(nets)


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: str, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The address to count a request against. X-Forwarded-For is believed only when the peer is
    a trusted proxy, and then read from the right (entries added by our own proxies) to the first
    address that is not one of them: whatever a client writes further left is its own invention."""
    if not trusted or not _in(peer, trusted):
        return peer
    hops = [h.strip() for value in forwarded_for for h in value.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # garbage from a proxy we trust: count it against the proxy itself
    return hops[0] if hops else peer


class SlidingWindow:
    """At most ``limit`` events per key in any ``window`` seconds (the timestamps of the last
    ``limit`` events per key). Keys beyond ``max_keys`` push out the least recently seen, so a
    flood of new addresses costs bounded memory."""

    def __init__(self, limit: int, window: float, max_keys: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._clock = clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._events.clear()

    def wait(self, key: str, limit: int | None = None) -> float:
        """0 and the event counted, or the seconds to wait before the next one is allowed."""
        limit = self.limit if limit is None else limit
        now = self._clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                events = self._events[key] = deque()
                while len(self._events) > self.max_keys:
                    self._events.popitem(last=False)
            self._events.move_to_end(key)
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= limit:
                return events[-limit] + self.window - now
            events.append(now)
            return 0.0


@dataclass(frozen=True)
class Rule:
    kind: str
    #: what the 429 message calls it
    what: str


#: Routes (method, path template) that cost real work, and which limit each counts against.
ROUTES: dict[tuple[str, str], Rule] = {}
_UPLOAD = Rule("upload", "case-study uploads")
_EXPORT = Rule("export", "brief exports")
_SEARCH = Rule("search", "searches")
for _method, _path, _rule in [
    ("POST", "/share", _UPLOAD), ("POST", "/submissions/{sub_id}/edit", _UPLOAD),
    ("POST", "/api/submissions", _UPLOAD), ("PUT", "/api/submissions/{sub_id}", _UPLOAD),
    ("GET", "/briefs/{brief_id}/export", _EXPORT), ("GET", "/api/briefs/{brief_id}/export", _EXPORT),
    ("GET", "/shared/{token}", _EXPORT),
    ("GET", "/", _SEARCH), ("GET", "/advise", _SEARCH), ("GET", "/api/search", _SEARCH),
    ("GET", "/api/search/full", _SEARCH), ("GET", "/api/recommend", _SEARCH),
]:
    ROUTES[(_method, _path)] = _rule
#: Pages that only search when asked something: their empty form costs nothing.
_ONLY_WITH_QUESTION = {"/", "/advise"}
#: An address is shared by everyone behind one office router, so it gets this many accounts' worth.
ADDRESS_SHARE = 4


class Limits:
    """The hub's rate limits, from settings; :meth:`check` raises :class:`TooManyAttempts`."""

    def __init__(self, settings: Settings) -> None:
        self.trusted = parse_networks(settings.trusted_proxies)
        self.windows = {
            "upload": SlidingWindow(settings.upload_limit, settings.upload_window),
            "export": SlidingWindow(settings.export_limit, settings.export_window),
            "search": SlidingWindow(settings.search_limit, settings.search_window),
        }

    def reset(self) -> None:
        """Forget every count (an administrator's relief after a false alarm; tests)."""
        for window in self.windows.values():
            window.reset()

    def address(self, request: Any) -> str:
        peer = request.client.host if request.client else ""
        return client_address(peer, request.headers.getlist("x-forwarded-for"), self.trusted)

    def check(self, request: Any, user: Any) -> None:
        route = request.scope.get("route")
        rule = ROUTES.get((request.method if request.method != "HEAD" else "GET", getattr(route, "path", "")))
        if rule is None:
            return
        if route.path in _ONLY_WITH_QUESTION and not request.query_params.get("q", "").strip():
            return
        window = self.windows[rule.kind]
        if window.limit <= 0:  # 0 turns a limit off (a load benchmark, a private deployment)
            return
        wait = 0.0
        if user is not None:
            wait = window.wait(f"user:{user.id}")
        if not wait:
            wait = window.wait(f"addr:{self.address(request)}", window.limit * ADDRESS_SHARE)
        if wait:
            seconds = max(1, math.ceil(wait))
            raise TooManyAttempts(f"too many {rule.what} (at most {window.limit} in {_span(window.window)}); "
                                  f"try again in {seconds} seconds", retry_after=seconds)


def _span(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)} hour" + ("s" if seconds != 3600 else "")
    if seconds % 60 == 0:
        return f"{int(seconds // 60)} minute" + ("s" if seconds != 60 else "")
    return f"{seconds:g} seconds"
