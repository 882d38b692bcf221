"""API tokens: random, shown once, stored as SHA-256 digests, each with one scope. `admin` includes
`write`, which includes `read`. Failed authentication is rate-limited per client address."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque

RANK = {"read": 0, "write": 1, "admin": 2}
PREFIX = "ivt_"


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def allows(granted: str, needed: str) -> bool:
    return RANK.get(granted, -1) >= RANK[needed]


class FailureLimiter:
    """At most ``limit`` failed authentications per ``window`` seconds per client; beyond that, 429 until
    the window has passed. In memory: a restart forgets, which only ever lets a client try sooner."""

    def __init__(self, limit: int = 10, window: float = 60.0) -> None:
        self.limit, self.window = limit, window
        self.failures: dict[str, deque[float]] = {}
        self.lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self.failures.setdefault(client, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def blocked(self, client: str) -> bool:
        with self.lock:
            return len(self._recent(client, time.monotonic())) >= self.limit

    def failed(self, client: str) -> None:
        with self.lock:
            now = time.monotonic()
            self._recent(client, now).append(now)
