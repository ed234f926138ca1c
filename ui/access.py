"""Who may do what on the web server: tokens, roles, origins and request rates.

On loopback (the default) the meeting is open to the person at this machine, as a
presenter. Bound anywhere else, every request needs a token, generated at start and
shown once on the terminal: the presenter's token may send audio, export and rename;
the viewers' token may read and ask. A page opened with ``?token=...`` keeps it in an
HttpOnly, SameSite=Strict cookie, so the token leaves the address bar's history at once.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from dataclasses import dataclass, field
from enum import Enum
from urllib.parse import urlsplit

TOKEN_COOKIE = "roomtone_token"


class Role(Enum):
    """What a client may do."""

    PRESENTER = "presenter"  # read, ask, send audio, export, rename
    VIEWER = "viewer"  # read and ask


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class AccessPolicy:
    """The tokens of one server (none on loopback)."""

    presenter_token: str | None = None
    viewer_token: str | None = None

    @classmethod
    def for_host(cls, host: str) -> AccessPolicy:
        """Open on loopback; fresh tokens anywhere else."""
        if is_loopback(host):
            return cls()
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24))

    @property
    def open(self) -> bool:
        """No token needed."""
        return self.presenter_token is None

    def role(self, token: str | None) -> Role | None:
        """The role a token gives (None: refused)."""
        if self.open:
            return Role.PRESENTER
        if token is None:
            return None
        if secrets.compare_digest(token, self.presenter_token or ""):
            return Role.PRESENTER
        if secrets.compare_digest(token, self.viewer_token or ""):
            return Role.VIEWER
        return None


def same_origin(origin: str | None, host: str) -> bool:
    """A browser's Origin header names this server (no header: not a browser page)."""
    if origin is None:
        return True
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


@dataclass
class RateLimiter:
    """A token bucket per client: ``rate`` requests a second, bursts up to ``burst``."""

    rate: float = 20.0
    burst: float = 40.0
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, client: str) -> bool:
        """Take one request from ``client``'s bucket; False when it is empty."""
        now = time.monotonic()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[client] = (tokens, now)
            return False
        self._buckets[client] = (tokens - 1.0, now)
        if len(self._buckets) > 10_000:  # forget the quietest clients
            for key in list(self._buckets)[:5_000]:
                del self._buckets[key]
        return True
